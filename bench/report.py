"""Turn results JSON into the tables and plot of docs/benchmarks.md.

    python -m bench.report bench/results/after.json [--before bench/results/before.json]

Rewrites the part of docs/benchmarks.md between ``<!-- bench:results -->`` and
``<!-- /bench:results -->`` (the prose around it stays) and draws
docs/benchmarks-latency.svg (p99 against phones).
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
            f"(random phase) for {c['duration']} s after {c.get('warmup', 0)} s uncounted, idle CPU over "
            f"{c['idle']} s, {c['workers']} load processes, "
            f"permessage-deflate {'offered by the clients (as browsers do)' if c['deflate'] else 'not offered'}, "
            f"{'accepted' if c.get('server_deflate') else 'declined'} by both servers.")


SOCKETS = {"pages": "pages' socket", "json": "JSON socket", "talkingpiece": "JSON socket"}  # older results: JSON only


def server_name(run: dict[str, Any]) -> str:
    room = run.get("phones_per_session", 10)
    rooms = f", rooms of {room}" if room != 10 else ""  # a run of several room sizes (--per-session 10,30)
    if run["target"] == "raw":
        return "raw broadcast" + rooms
    return f"{SOCKETS.get(run['target'], run['target'])}, {run['mode']}{rooms}"


def _order(run: dict[str, Any]) -> tuple[int, int, int, str, int]:
    return (run["phones"], run.get("phones_per_session", 10), run["target"] == "raw", run["mode"], run["target"] != "pages")


def _ratio(x: Any) -> str:
    return _f(x, 2) + "x" if x else ""


def table(result: dict[str, Any]) -> str:
    rows = ["| phones | server | changes delivered | p50 ms | p95 ms | p99 ms | max ms | p99 / raw | p99 / JSON | "
            "KB per phone | idle CPU % | CPU % while changing | CPU ms per change | CPU / JSON | frame bytes |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(result["runs"], key=_order):
        rows.append(
            f"| {r['phones']:,} | {server_name(r)} | {r['delivered']}/{r['changes']} | {_f(r['p50_ms'])} | "
            f"{_f(r['p95_ms'])} | {_f(r['p99_ms'])} | {_f(r['max_ms'])} | {_ratio(r.get('p99_ratio_to_raw'))} | "
            f"{_ratio(r.get('p99_ratio_to_json'))} | {_f(r['rss_per_phone_kb'])} | {_f(r['idle_cpu_pct'], 2)} | "
            f"{_f(r['run_cpu_pct'], 0)} | {_f(r.get('cpu_ms_per_change'), 2)} | {_ratio(r.get('cpu_ratio_to_json'))} | "
            f"{r['frame_bytes']} |")
    return "\n".join(rows)


def plot(results: dict[str, dict[str, Any]], out_dir: Path) -> str:
    """p99 latency against phones, one line per server (and per run when before/after), as SVG.

    Plain SVG written here rather than a plotting library: the figure is simple, and the
    benchmark should need nothing the app does not.
    """
    series: dict[str, list[tuple[int, float]]] = {}
    for label, result in results.items():
        for r in result["runs"]:
            name = server_name(r)
            if len(results) > 1:
                name += f" ({label})"
            series.setdefault(name, []).append((r["phones"], r["p99_ms"]))
    w, h, left, right, top, bottom = 760, 400, 60, 240, 40, 50
    xs = sorted({x for pts in series.values() for x, _ in pts})
    values = [y for pts in series.values() for _, y in pts if y == y and y > 0]
    ymax = max(values, default=1.0) * 1.15 or 1.0
    xmax = max(xs) if xs else 1
    # A logarithmic axis once the lines are orders of magnitude apart (a saturated server's
    # seconds beside the others' milliseconds), so that every line stays readable.
    log = bool(values) and max(values) / min(values) > 50
    lo = 10 ** math.floor(math.log10(min(values))) if log else 0.0
    hi = 10 ** math.ceil(math.log10(max(values))) if log else ymax

    def px(x: float) -> float:
        return left + x / xmax * (w - left - right)

    def py(y: float) -> float:
        if log:
            return h - bottom - (math.log10(max(y, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * (
                h - top - bottom)
        return h - bottom - y / ymax * (h - top - bottom)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
             'font-family="sans-serif" font-size="12">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<text x="{left}" y="22" font-size="14">p99 ms{" (log scale)" if log else ""}, facilitator\'s '
             'command → new state at every phone of the room</text>',
             f'<line x1="{left}" y1="{h - bottom}" x2="{w - right}" y2="{h - bottom}" stroke="black"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="black"/>',
             f'<text x="{(left + w - right) / 2}" y="{h - 12}" text-anchor="middle">phones connected</text>']
    for x in xs:
        parts.append(f'<text x="{px(x):.1f}" y="{h - bottom + 18}" text-anchor="middle">{x:,}</text>')
        parts.append(f'<line x1="{px(x):.1f}" y1="{h - bottom}" x2="{px(x):.1f}" y2="{h - bottom + 5}" stroke="black"/>')
    ticks = ([lo * 10 ** i for i in range(round(math.log10(hi / lo)) + 1)] if log
             else [ymax * i / 5 for i in range(6)])
    for y in ticks:
        label = f"{y:g}" if log else f"{y:.0f}"
        parts.append(f'<text x="{left - 8}" y="{py(y) + 4:.1f}" text-anchor="end">{label}</text>')
        parts.append(f'<line x1="{left}" y1="{py(y):.1f}" x2="{w - right}" y2="{py(y):.1f}" stroke="#ddd"/>')
    colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f",
               "#bcbd22", "#e377c2"]
    for i, (name, pts) in enumerate(sorted(series.items())):
        colour = colours[i % len(colours)]
        pts = sorted(p for p in pts if p[1] == p[1])
        coords = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        dash = ' stroke-dasharray="6 4"' if "before" in name or name.startswith("raw") else ""
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="{coords}"/>')
        parts += [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>' for x, y in pts]
        parts.append(f'<text x="{w - right + 10}" y="{top + 20 + 18 * i}" fill="{colour}">{name}</text>')
    parts.append("</svg>")
    path = out_dir / "benchmarks-latency.svg"
    path.write_text("\n".join(parts) + "\n")
    return path.name


def section(after: dict[str, Any], before: dict[str, Any] | None, out_dir: Path) -> str:
    results = {"after": after} if before is None else {"before": before, "after": after}
    image = plot(results, out_dir)
    text = [BEGIN, "", f"![latency against phones]({image})", ""]
    if before is not None:
        text += ["### Before the optimisation", "", machine_text(before), "", table(before), ""]
        text += ["### After the optimisation", ""]
    text += [machine_text(after), "", table(after), "", END]
    return "\n".join(text)


def write_docs(after_path: Path, before_path: Path | None = None, docs: Path = DOCS) -> None:
    after = json.loads(Path(after_path).read_text())
    before = json.loads(Path(before_path).read_text()) if before_path else None
    docs.parent.mkdir(parents=True, exist_ok=True)
    body = section(after, before, docs.parent)
    current = docs.read_text() if docs.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN in current and END in current:
        head, rest = current.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        docs.write_text(head + body + tail)
    else:
        docs.write_text(current.rstrip() + "\n\n" + body + "\n")
    print(f"wrote {docs}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("after", type=Path)
    parser.add_argument("--before", type=Path)
    parser.add_argument("--to", type=Path, default=DOCS, help="the Markdown file to write (default docs/benchmarks.md)")
    args = parser.parse_args()
    write_docs(args.after, args.before, args.to)
