"""Write the results file and the Markdown table of figures beside their goals."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.stack import ROOT

RESULTS_DIR = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN = "<!-- bench:results:begin -->"
END = "<!-- bench:results:end -->"


def write_results(results: dict[str, Any], directory: Path = RESULTS_DIR) -> Path:
    """``<dir>/<date>-<host>.json``; a second run the same day overwrites the first."""
    directory.mkdir(parents=True, exist_ok=True)
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    path = directory / f"{day}-{results['machine']['host']}.json"
    results["results_file"] = (
        str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    )
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return path


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        value = f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{value} {unit}".strip()


def _met(met: bool | None) -> str:
    return {True: "met", False: "**short**", None: "not measured"}[met]


def table(results: dict[str, Any]) -> str:
    """The Markdown block: machine facts, then one row per goal of every scenario."""
    m = results["machine"]
    lines = [
        f"Measured {results['finished']} on `{m['host']}`: {m['cores']} cores "
        f"({m['cpu_model']}), {m['memory_gib']} GiB, Python {m['python']}, "
        f"RabbitMQ {m['rabbitmq']}, PostgreSQL {m['postgresql']}; size `{results['size']}`; "
        f"results file `{results['results_file']}`.",
        "",
        "| # | scenario | metric | measured | goal | verdict | correctness |",
        "|---|---|---|---|---|---|---|",
    ]
    for key in sorted(results["scenarios"], key=int):
        sc = results["scenarios"][key]
        ok = sc.get("checks", {}).get("ok")
        verdict = "ok" if ok else ("**FAILED**" if ok is False else "—")
        if "error" in sc:
            lines.append(f"| {key} | {sc['title']} | — | error: {sc['error'][:120]} | | | |")
            continue
        for g in sc["goals"]:
            lines.append(
                f"| {key} | {sc['title']} | {g['metric']} | {_fmt(g['value'], g['unit'])} "
                f"| {g['goal']} | {_met(g['met'])} | {verdict} |"
            )
        for name, value in sc.get("extra", {}).items():
            lines.append(f"| {key} | {sc['title']} | {name} | {value} | | | {verdict} |")
    return "\n".join(lines)


def update_docs(results: dict[str, Any], docs: Path = DOCS) -> None:
    """Replace the generated block of ``docs/benchmarks.md`` (between the markers)."""
    block = f"{BEGIN}\n{table(results)}\n{END}"
    text = docs.read_text() if docs.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text = text.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    docs.write_text(pattern.sub(lambda _m: block, text))
