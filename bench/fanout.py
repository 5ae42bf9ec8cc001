"""Fan-out benchmark: Talking Piece's two live sockets against the raw broadcast limit, S rooms x P phones.

    python -m bench.fanout                      # 1,000, 2,000 and 5,000 phones, embedded and Redis
    python -m bench.fanout --sizes 200 --modes embedded --duration 5 --out /tmp/small.json

For each size, mode and socket (``--sockets``: the pages' socket ``/live/{code}`` that the
console, screen and phones' pages use, and the contract's JSON socket) it starts the server
as its own process (``python -m app``, and a redis-server of its own on a free port for
Redis mode), then load processes (bench/loadgen.py) create the rooms over HTTP and connect
a facilitator and a screen per room; it reads the server's RSS, connects every phone, reads
the RSS again (per-phone memory) and the server's CPU over 25 s (a whole keepalive ping
period) with nobody acting (idle CPU), then every facilitator changes the turn
(``next_turn`` in a one-hour-a-turn round) once per ``--interval`` seconds, at a random
phase, for ``--duration`` seconds. Per change: the time from the command being sent to the
new version having arrived at every phone and the screen of the room. Then the same load
processes drive bench/raw_server.py, broadcasting messages of the JSON socket's measured
frame size to the same rooms. Everything is on 127.0.0.1; ``--pin-core`` holds the server
measured on one core and everything else on the others.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.loadgen import raise_fd_limit, worker

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def split_cores(core: int | None) -> tuple[set[int], set[int]] | None:
    """({core}: the server's, every other core: everyone else's), or None when not pinning.

    With ``--pin-core`` the server measured gets a core to itself, as a worker has in
    production, and the load processes, redis-server and this process share the rest. Left
    to the kernel, the server moves between cores and sometimes shares one with its own
    load. On a virtual machine the cores need not be equally fast, though: on the 2-core
    machine of docs/benchmarks.md one ran the same server a third slower than the other,
    so a pinned run measures its core as much as the server."""
    cores = sorted(os.sched_getaffinity(0))
    if core is None or len(cores) < 2:
        return None
    if core not in cores:
        raise SystemExit(f"--pin-core {core}: this process may run on cores {cores}")
    return {core}, set(cores) - {core}


class Server:
    """A process the benchmark starts; ``cores``: the cores it is held on (None: the kernel places it)."""

    def __init__(self, argv: list[str], env: dict[str, str], ready: Any, log: Path,
                 cores: set[int] | None = None) -> None:
        def preexec() -> None:
            raise_fd_limit()
            if cores:
                os.sched_setaffinity(0, cores)

        self.log = open(log, "ab")
        self.proc = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **env}, stdout=self.log,
                                     stderr=subprocess.STDOUT, preexec_fn=preexec)
        deadline = time.monotonic() + 30
        while not ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"{argv[:3]} exited with {self.proc.returncode}; see {log}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{argv[:3]} did not start; see {log}")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _http_ready(port: int) -> Any:
    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False
    return ready


def _tcp_ready(port: int) -> Any:
    def ready() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False
    return ready


class Loads:
    """The load processes, each with a pipe; every step is sent to all and awaited (bounded)."""

    def __init__(self, count: int, target: str, port: int, deflate: bool) -> None:
        ctx = mp.get_context("spawn")
        self.pipes, self.procs = [], []
        for i in range(count):
            here, there = ctx.Pipe()
            proc = ctx.Process(target=worker, args=(there, target, "127.0.0.1", port, deflate, 1000 + i), daemon=True)
            proc.start()
            self.pipes.append(here)
            self.procs.append(proc)

    def step(self, name: str, args: list[dict[str, Any]], timeout: float) -> list[Any]:
        for pipe, a in zip(self.pipes, args):
            pipe.send((name, a))
        answers = []
        deadline = time.monotonic() + timeout
        for pipe in self.pipes:
            if not pipe.poll(max(0.1, deadline - time.monotonic())):
                raise RuntimeError(f"load step {name} timed out after {timeout:.0f} s")
            status, answer = pipe.recv()
            if status != "ok":
                raise RuntimeError(f"load step {name} failed: {answer}")
            answers.append(answer)
        return answers

    def close(self) -> None:
        for pipe in self.pipes:
            try:
                pipe.send(("close", {}))
            except OSError:
                pass
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join()


def split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def measure(target: str, mode: str, port: int, server: Server, args: argparse.Namespace,
            sessions: int, per_session: int) -> dict[str, Any]:
    workers = max(1, min(args.workers, sessions))
    loads = Loads(workers, target, port, args.deflate)
    try:
        parts = split(sessions, workers)
        began = time.monotonic()
        setup_timeout = 60 + sessions * per_session * 0.05
        loads.step("setup", [{"rooms": n, "phones": per_session, "name": f"w{i}"} for i, n in enumerate(parts)],
                   setup_timeout)
        time.sleep(1.0)
        rss_before = rss_bytes(server.pid)
        print(f"    setup {time.monotonic() - began:.1f} s", flush=True)
        spoken = [c for c in args.languages.split(",") if c] if target == "pages" else []
        connected = loads.step("connect", [{"languages": spoken} if spoken else {} for _ in parts], setup_timeout)
        phones = sum(c["phones"] for c in connected)
        print(f"    connected {phones} phones in {max(c['seconds'] for c in connected):.1f} s", flush=True)
        failures = sum(c["failures"] for c in connected)
        time.sleep(2.0)  # let the connects' own state changes settle
        rss_after = rss_bytes(server.pid)
        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
        time.sleep(args.idle)
        idle_cpu = (cpu_seconds(server.pid) - cpu0) / (time.monotonic() - t0)
        profiler = None
        if args.profile and target != "raw":  # py-spy over the turn changes only
            profiler = subprocess.Popen(
                ["py-spy", "record", "-p", str(server.pid), "-o", f"{args.profile}.{target}.{mode}.{phones}.txt",
                 "--format", "raw", "--duration", str(int(args.duration)), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
        results = loads.step("run", [{"duration": args.duration, "interval": args.interval, "warmup": args.warmup}
                                     for _ in parts], args.warmup + args.duration + 120)
        run_seconds = cpu_seconds(server.pid) - cpu0
        run_cpu = run_seconds / (time.monotonic() - t0)
        if profiler is not None:
            profiler.wait(60)
    finally:
        loads.close()
    latencies = [x for r in results for x in r["latencies"]]
    changes = sum(r["changes"] for r in results)
    sizes = [r["frame_bytes"] for r in results if r["frame_bytes"]]
    ms = [x * 1000 for x in latencies]
    row = {
        "target": target, "mode": mode, "sessions": sessions, "phones_per_session": per_session,
        "languages": args.languages if target == "pages" else "",
        "phones": phones, "connect_failures": failures, "changes": changes,
        "delivered": sum(r["delivered"] for r in results), "errors": sum(r["errors"] for r in results),
        "p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else float("nan"), "mean_ms": sum(ms) / len(ms) if ms else float("nan"),
        "frame_bytes": round(sum(sizes) / len(sizes)) if sizes else 0,
        "rss_before_mb": rss_before / 2**20, "rss_after_mb": rss_after / 2**20,
        "rss_per_phone_kb": (rss_after - rss_before) / max(1, phones) / 1024,
        "idle_cpu_pct": idle_cpu * 100, "run_cpu_pct": run_cpu * 100,
        "changes_per_s": changes / args.duration,
        # Over the whole run (uncounted warm-up too), idle ping CPU included: per command sent.
        "cpu_ms_per_change": run_seconds * 1000 / max(1, sum(r.get("commands", 0) for r in results)),
    }
    print(f"  {target:>12} {mode:>8} {phones:>5} phones: p50 {row['p50_ms']:.1f} p95 {row['p95_ms']:.1f} "
          f"p99 {row['p99_ms']:.1f} max {row['max_ms']:.1f} ms; {row['delivered']}/{changes} delivered; "
          f"{row['rss_per_phone_kb']:.1f} KB/phone; idle CPU {row['idle_cpu_pct']:.2f}%; "
          f"run CPU {row['run_cpu_pct']:.0f}% ({row['cpu_ms_per_change']:.2f} ms a change); "
          f"{row['frame_bytes']} B frames", flush=True)
    return row


def redis_server(tmp: Path) -> tuple[Server, str]:
    """A redis-server of the benchmark's own on a free port, keeping nothing on disk: (process, URL)."""
    rport = free_port()
    server = Server([shutil.which("redis-server") or "redis-server", "--port", str(rport), "--bind", "127.0.0.1",
                     "--save", "", "--appendonly", "no", "--dir", str(tmp)], {}, _tcp_ready(rport), tmp / "redis.log")
    return server, f"redis://127.0.0.1:{rport}/0"


def run_talkingpiece(socket_kind: str, mode: str, sessions: int, per_session: int, args: argparse.Namespace,
                     tmp: Path) -> dict[str, Any]:
    port = free_port()
    data = tmp / f"data-{port}"
    env = {"LOG_LEVEL": "warning", "REDIS_URL": "", "DATA_DIR": str(data), "GROUPS_DB": str(data / "groups.sqlite3"),
           # "volatile": the embedded mode with its sessions in memory only, to show what the file costs
           "SESSIONS_DB": "off" if mode == "volatile" else "",
           "WS_COMPRESSION": "true" if args.server_deflate else "false",
           "MAX_SESSIONS": str(max(5000, sessions * 2)), "MAX_CONNECTIONS": str(max(10000, sessions * (per_session + 2))),
           # Every phone of the load comes from 127.0.0.1: the per-address shares must not count it as one person.
           "SESSION_BURST_PER_ADDRESS": str(sessions * 2), "JOIN_BURST_PER_ADDRESS": str(sessions * (per_session + 2)),
           "SESSION_JOIN_BURST_PER_ADDRESS": str(per_session + 2)}
    redis = None
    if mode == "redis":
        redis, env["REDIS_URL"] = redis_server(tmp)
        env["LIMITS_SECRET"] = secrets.token_hex(32)
    try:
        server = Server([sys.executable, "-m", "app", "--port", str(port)], env, _http_ready(port), tmp / "server.log",
                        args.server_cores)
        try:
            row = measure(socket_kind, mode, port, server, args, sessions, per_session)
        finally:
            server.stop()
    finally:
        if redis is not None:
            redis.stop()
    return row


def run_raw(size: int, sessions: int, per_session: int, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    port = free_port()
    argv = [sys.executable, str(ROOT / "bench" / "raw_server.py"), "--port", str(port), "--size", str(size)]
    server = Server(argv + (["--deflate"] if args.server_deflate else []), {}, _tcp_ready(port), tmp / "raw.log",
                    args.server_cores)
    try:
        return measure("raw", "-", port, server, args, sessions, per_session)
    finally:
        server.stop()


def save(result: dict[str, Any], out: Path) -> None:
    """Written after every run, so a failure later keeps what was measured."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))


def machine() -> dict[str, Any]:
    import fastapi
    import starlette
    import uvicorn
    import websockets
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    versions = {"python": platform.python_version(), "websockets": websockets.__version__,
                "uvicorn": uvicorn.__version__, "starlette": starlette.__version__, "fastapi": fastapi.__version__}
    try:
        import redis
        versions["redis-py"] = redis.__version__
        out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, timeout=10).stdout
        versions["redis-server"] = out.split("v=")[1].split()[0] if "v=" in out else out.strip()
    except Exception:
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model, "ram_gib": round(mem / 2**30, 1),
            "kernel": platform.release(), "versions": versions,
            "loadavg_at_start": os.getloadavg()}


def run_size(size: int, per_session: int, modes: list[str], kinds: list[str], args: argparse.Namespace, tmp: Path,
             result: dict[str, Any], out: Path) -> None:
    """Every mode and socket (and the raw broadcast) at one total of phones, in rooms of ``per_session``."""
    sessions = max(1, size // per_session)
    print(f"{sessions} sessions x {per_session} phones", flush=True)
    rows = []
    for mode in modes:
        for kind in kinds:
            rows.append(run_talkingpiece(kind, mode, sessions, per_session, args, tmp))
            result["runs"].append(rows[-1])
            save(result, out)
        json_row = next((r for r in rows if r["mode"] == mode and r["target"] == "json"), None)
        for r in rows:
            if r["mode"] == mode and r["target"] == "pages" and json_row is not None:
                r["p99_ratio_to_json"] = r["p99_ms"] / json_row["p99_ms"] if json_row["p99_ms"] else None
                r["cpu_ratio_to_json"] = (r["cpu_ms_per_change"] / json_row["cpu_ms_per_change"]
                                          if json_row["cpu_ms_per_change"] else None)
                save(result, out)
    if args.raw:
        frame = max((r["frame_bytes"] for r in rows if r["target"] == "json"), default=0) or 2700
        raw = run_raw(frame, sessions, per_session, args, tmp)
        result["runs"].append(raw)
        for r in rows:
            r["p99_ratio_to_raw"] = r["p99_ms"] / raw["p99_ms"] if raw["p99_ms"] else None
            r["p50_ratio_to_raw"] = r["p50_ms"] / raw["p50_ms"] if raw["p50_ms"] else None
            print(f"  ratio {r['target']} {r['mode']}/raw at {size}: p50 {r['p50_ratio_to_raw']:.2f}x, "
                  f"p99 {r['p99_ratio_to_raw']:.2f}x", flush=True)
        save(result, out)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,2000,5000", help="total phones per run, comma-separated")
    parser.add_argument("--per-session", default="10",
                        help="phones per session (room), comma-separated for several room sizes: 10,30 adds "
                             "a Schwartz Round-sized room of 30, to show the cost per phone as the room grows")
    parser.add_argument("--modes", default="embedded,redis",
                        help="embedded, redis and/or volatile (embedded without its sessions file)")
    parser.add_argument("--sockets", default="pages,json",
                        help="Talking Piece's sockets to drive: pages (/live/{code}, htmx) and/or json (the contract's)")
    parser.add_argument("--languages", default="",
                        help="the pages' phones' languages, taken in turn in each room, e.g. en,cy,pl (default: "
                             "each phone's own, English)")
    parser.add_argument("--duration", type=float, default=20, help="seconds of turn changes per run")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between a facilitator's changes")
    parser.add_argument("--warmup", type=float, default=4.0,
                        help="seconds of changes before the counted ones (not counted; both servers alike)")
    parser.add_argument("--idle", type=float, default=25.0,
                        help="seconds of idle CPU measurement (over 20 s: a whole keepalive ping period)")
    parser.add_argument("--workers", type=int, default=2, help="load processes")
    parser.add_argument("--no-deflate", dest="deflate", action="store_false",
                        help="clients do not offer permessage-deflate (browsers do)")
    parser.add_argument("--server-deflate", action="store_true",
                        help="servers accept permessage-deflate (WS_COMPRESSION=true; off by default)")
    parser.add_argument("--no-raw", dest="raw", action="store_false", help="skip the raw broadcast limit")
    parser.add_argument("--label", default="", help="a name for this run in the results")
    parser.add_argument("--out", default="", help="results JSON (default bench/results/<time>.json)")
    parser.add_argument("--docs", action="store_true", help="also rewrite the results in docs/benchmarks.md")
    parser.add_argument("--before", default="", help="with --docs: an earlier results JSON to show beside this one")
    parser.add_argument("--profile", default="", help="py-spy flame graph path prefix (Talking Piece runs)")
    parser.add_argument("--pin-core", type=int, default=None,
                        help="hold the server measured on this core and everything else on the others "
                             "(default: every process left to the kernel)")
    args = parser.parse_args(argv)
    raise_fd_limit()
    cores = split_cores(args.pin_core)
    args.server_cores = cores[0] if cores else None
    if cores is not None:
        os.sched_setaffinity(0, cores[1])  # inherited by the load processes, redis-server and py-spy
    sizes = [int(s) for s in args.sizes.split(",") if s]
    modes = [m for m in args.modes.split(",") if m]
    kinds = [k for k in args.sockets.split(",") if k]
    rooms = [int(r) for r in str(args.per_session).split(",") if r]
    result: dict[str, Any] = {"label": args.label, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                              "machine": machine(), "config": {k: v for k, v in vars(args).items() if k != "server_cores"},
                              "runs": [],
                              "cores": {"server": sorted(cores[0]), "load": sorted(cores[1])} if cores else None}
    out = Path(args.out) if args.out else ROOT / "bench" / "results" / f"{time.strftime('%Y%m%d-%H%M%S')}.json"
    with tempfile.TemporaryDirectory(prefix="tp-bench-") as tmpdir:
        tmp = Path(tmpdir)
        for size in sizes:
            for per_session in rooms:
                run_size(size, per_session, modes, kinds, args, tmp, result, out)
    save(result, out)
    print(f"results: {out}", flush=True)
    if args.docs:
        from bench.report import write_docs
        write_docs(out, Path(args.before) if args.before else None)
    return result


if __name__ == "__main__":
    main()
