"""The fan-out benchmark at a small size, so that it cannot rot (docs/benchmarks.md).

100 phones in 10 rooms (each with its console and screen), two seconds of turn changes,
Talking Piece's pages' socket and JSON socket (embedded and Redis, the benchmark starting
its own redis-server) and the raw broadcast server. Only that it completes with sane figures
is asserted, every change having reached every phone of its room: the timings themselves are
the benchmark's to report, not a test's to judge.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PHONES, PER_ROOM = 100, 10
DURATION_S, INTERVAL_S = 2, 0.5


@pytest.mark.timeout(240)
def test_small_fanout_run_completes_with_sane_figures(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.fanout", "--sizes", str(PHONES), "--per-session", str(PER_ROOM),
         "--modes", "embedded,redis", "--duration", str(DURATION_S), "--interval", str(INTERVAL_S),
         "--warmup", "0.25", "--idle", "0.25", "--workers", "1", "--label", "smoke", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=230)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    runs = {(r["target"], r["mode"]): r for r in result["runs"]}
    assert set(runs) == {("pages", "embedded"), ("pages", "redis"), ("json", "embedded"), ("json", "redis"),
                         ("raw", "-")}
    for run in runs.values():
        assert run["phones"] == PHONES and run["connect_failures"] == 0
        # Each room's facilitator makes a change every INTERVAL_S for DURATION_S: at least half of them counted.
        assert run["changes"] >= PHONES // PER_ROOM * DURATION_S / INTERVAL_S / 2, run
        assert run["delivered"] == run["changes"] and run["errors"] == 0, run
        for key in ("p50_ms", "p95_ms", "p99_ms", "max_ms"):
            assert 0 < run[key] < 10_000 and not math.isnan(run[key]), (key, run)
        assert run["p50_ms"] <= run["p95_ms"] <= run["p99_ms"] <= run["max_ms"]
        # A JSON state frame is the whole view; a pages' frame only the regions that changed (the clock at least).
        assert run["frame_bytes"] > (80 if run["target"] == "pages" else 500), run
        assert run["rss_after_mb"] > 0 and run["idle_cpu_pct"] >= 0 and run["cpu_ms_per_change"] > 0
    for mode in ("embedded", "redis"):
        assert runs["json", mode]["p99_ratio_to_raw"] > 0 and runs["pages", mode]["p99_ratio_to_raw"] > 0
        assert runs["pages", mode]["p99_ratio_to_json"] > 0 and runs["pages", mode]["cpu_ratio_to_json"] > 0

    # The report that docs/benchmarks.md is made of, written beside the results.
    docs = tmp_path / "benchmarks.md"
    done = subprocess.run([sys.executable, "-m", "bench.report", str(out), "--to", str(docs)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    text = docs.read_text()
    for name in ("pages' socket, embedded", "pages' socket, redis", "JSON socket, embedded", "JSON socket, redis",
                 "raw broadcast"):
        assert f"| {PHONES} | {name} |" in text, name
    assert any(tmp_path.glob("benchmarks-latency.*")), "no plot was drawn"


def test_the_rendering_benchmark_reports_its_best_run_and_one_glance_a_change_for_the_room() -> None:
    """``python -m bench.render`` at a small size: it completes, reports the best of its runs, and
    a turn change renders the phones' glance once for the room of ten, not once a phone."""
    done = subprocess.run([sys.executable, "-m", "bench.render", "--changes", "10", "--repeat", "2", "--lang", "cy"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    summary, blocks = done.stdout.splitlines()[:2]
    assert "10 phones" in summary and "language cy" in summary and "(best of 2; median" in summary
    per_change = dict(part.rsplit(" ", 1) for part in blocks.removeprefix("block renders per change: ").split(", "))
    assert float(per_change["glance"]) == 1.0 and float(per_change["people"]) == 1.0


def test_the_command_benchmark_reports_one_round_trip_to_redis_a_command() -> None:
    """``python -m bench.command`` at a small size, with a redis-server of its own: it completes,
    and a facilitator's turn changes on a session the worker wrote last cost one round trip each."""
    done = subprocess.run([sys.executable, "-m", "bench.command", "--commands", "20", "--repeat", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "best of 2" in done.stdout and "1.00 round trips to Redis a command" in done.stdout, done.stdout
