"""Turn results JSON into the tables and plot of docs/benchmarks.md.

    python -m bench.report bench/results/after.json [--before bench/results/before.json]

Rewrites the part of docs/benchmarks.md between ``<!-- bench:results -->`` and
``<!-- /bench:results -->`` (the prose around it stays) and draws
docs/benchmarks-latency.png (matplotlib, if installed) or docs/benchmarks-latency.svg.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:results -->", "<!-- /bench:results -->"


def _f(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x:.{digits}f}"


def machine_text(result: dict[str, Any]) -> str:
    m = result["machine"]
    v = ", ".join(f"{k} {val}" for k, val in m["versions"].items())
    c = result["config"]
    return (f"Run `{result.get('label') or 'unlabelled'}` started {result['started']}: {m['cpus']} cores "
            f"({m['cpu_model']}), {m['ram_gib']} GiB RAM, Linux {m['kernel']}; {v}. "
            f"Load average at start {', '.join(f'{x:.2f}' for x in m['loadavg_at_start'])}. "
            f"{c['per_session']} phones per session, one change per facilitator every {c['interval']} s "
            f"(random phase) for {c['duration']} s, {c['workers']} load processes, "
            f"permessage-deflate {'offered by the clients (as browsers do)' if c['deflate'] else 'not offered'}, "
            f"{'accepted' if c.get('server_deflate') else 'declined'} by both servers.")


def table(result: dict[str, Any]) -> str:
    rows = ["| phones | server | changes delivered | p50 ms | p95 ms | p99 ms | max ms | p99 / raw | "
            "KB per phone | idle CPU % | CPU % while changing | frame bytes |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(result["runs"], key=lambda r: (r["phones"], r["target"] == "raw", r["mode"])):
        name = "raw broadcast" if r["target"] == "raw" else f"Talking Piece, {r['mode']}"
        ratio = r.get("p99_ratio_to_raw")
        rows.append(
            f"| {r['phones']:,} | {name} | {r['delivered']}/{r['changes']} | {_f(r['p50_ms'])} | {_f(r['p95_ms'])} | "
            f"{_f(r['p99_ms'])} | {_f(r['max_ms'])} | {_f(ratio, 2) + 'x' if ratio else ''} | "
            f"{_f(r['rss_per_phone_kb'])} | {_f(r['idle_cpu_pct'], 2)} | {_f(r['run_cpu_pct'], 0)} | {r['frame_bytes']} |")
    return "\n".join(rows)


def plot(results: dict[str, dict[str, Any]], out_dir: Path) -> str:
    """Latency (p50 and p99) against phones, one line per server and run; returns the file name."""
    series: dict[str, list[tuple[int, float, float]]] = {}
    for label, result in results.items():
        for r in result["runs"]:
            name = "raw broadcast" if r["target"] == "raw" else f"Talking Piece {r['mode']}"
            series.setdefault(f"{name} ({label})", []).append((r["phones"], r["p50_ms"], r["p99_ms"]))
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return _svg(series, out_dir)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=False)
    for name, points in sorted(series.items()):
        points.sort()
        xs = [p[0] for p in points]
        for ax, idx in zip(axes, (1, 2)):
            ax.plot(xs, [p[idx] for p in points], marker="o", label=name,
                    linestyle="--" if "before" in name else "-")
    for ax, title in zip(axes, ("p50", "p99")):
        ax.set_title(f"{title}: command sent → state at every phone of the room")
        ax.set_xlabel("phones connected")
        ax.set_ylabel("ms")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    path = out_dir / "benchmarks-latency.png"
    fig.savefig(path, dpi=110)
    return path.name


def _svg(series: dict[str, list[tuple[int, float, float]]], out_dir: Path) -> str:
    w, h, pad = 640, 360, 50
    xs = [p[0] for pts in series.values() for p in pts]
    ys = [p[2] for pts in series.values() for p in pts if p[2] > 0]
    xmax, ymax = max(xs), max(ys) * 1.1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-size="11">',
             f'<text x="{pad}" y="20">p99 ms (command → every phone) against phones</text>']
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    for i, (name, pts) in enumerate(sorted(series.items())):
        pts = sorted(pts)
        coords = " ".join(f"{pad + p[0] / xmax * (w - 2 * pad):.1f},{h - pad - p[2] / ymax * (h - 2 * pad):.1f}"
                          for p in pts)
        parts.append(f'<polyline fill="none" stroke="{colours[i % 6]}" points="{coords}"/>')
        parts.append(f'<text x="{pad}" y="{40 + 14 * i}" fill="{colours[i % 6]}">{name}</text>')
    parts.append("</svg>")
    path = out_dir / "benchmarks-latency.svg"
    path.write_text("\n".join(parts))
    return path.name


def section(after: dict[str, Any], before: dict[str, Any] | None) -> str:
    results = {"after": after} if before is None else {"before": before, "after": after}
    image = plot(results, DOCS.parent)
    text = [BEGIN, "", f"![latency against phones]({image})", ""]
    if before is not None:
        text += ["### Before the optimisation", "", machine_text(before), "", table(before), ""]
        text += ["### After the optimisation", ""]
    text += [machine_text(after), "", table(after), "", END]
    return "\n".join(text)


def write_docs(after_path: Path, before_path: Path | None = None) -> None:
    after = json.loads(Path(after_path).read_text())
    before = json.loads(Path(before_path).read_text()) if before_path else None
    body = section(after, before)
    current = DOCS.read_text() if DOCS.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        DOCS.write_text(head + body + tail)
    else:
        DOCS.write_text(current.rstrip() + "\n\n" + body + "\n")
    print(f"wrote {DOCS}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("after", type=Path)
    parser.add_argument("--before", type=Path)
    args = parser.parse_args()
    write_docs(args.after, args.before)
