"""``python -m bench``: run the scenarios, write the results file and the docs table.

uv run python -m bench                    # every scenario at full size (make bench)
uv run python -m bench --size tiny        # the CI size
uv run python -m bench --only 1,4         # some scenarios
"""

from __future__ import annotations

import argparse
import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from bench import machine, report
from bench.sizes import SIZES, Size
from bench.stack import PG_ADMIN_DSN

log = structlog.get_logger("bench")
Scenario = Callable[[Size], Awaitable[dict[str, dict[str, Any]]]]


def scenarios() -> dict[str, tuple[tuple[str, ...], Scenario]]:
    """Runner per group of scenarios (1 and 3 share one run)."""
    from bench.scenarios import audio, backlog, eta, fanout, orchestration

    return {
        "1": (("1", "3"), orchestration.run),
        "2": (("2",), backlog.run),
        "4": (("4",), fanout.run),
        "5": (("5",), audio.run),
        "6": (("6",), eta.run),
    }


async def run(size: Size, only: set[str] | None) -> dict[str, Any]:
    """Run the chosen scenarios; a failing one is recorded with its error, not fatal."""
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "size": size.name,
        "machine": await machine.facts(PG_ADMIN_DSN),
        "scenarios": {},
    }
    for first, (keys, fn) in scenarios().items():
        if only and not (only & set(keys)):
            continue
        t0 = time.monotonic()
        log.info("scenario_started", scenario=first)
        try:
            out = await fn(size)
        except Exception as e:
            log.error("scenario_failed", scenario=first, error=repr(e))
            out = {
                k: {
                    "title": f"scenario {k}",
                    "error": repr(e),
                    "traceback": traceback.format_exc(),
                    "checks": {"ok": False},
                }
                for k in keys
            }
        for key, value in out.items():
            value["seconds"] = round(time.monotonic() - t0, 1)
            results["scenarios"][key] = value
        log.info("scenario_finished", scenario=first, seconds=round(time.monotonic() - t0, 1))
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    return results


def main() -> None:
    """Parse arguments, run, write ``bench/results/<date>-<host>.json`` and the docs table."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--only", help="comma-separated scenario numbers (default: all)")
    parser.add_argument("--no-docs", action="store_true", help="do not touch docs/benchmarks.md")
    parser.add_argument("--results-dir", type=Path, default=report.RESULTS_DIR)
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    results = asyncio.run(run(SIZES[args.size], only))
    path = report.write_results(results, args.results_dir)
    if not args.no_docs:
        report.update_docs(results)
    failed = [k for k, v in results["scenarios"].items() if not v.get("checks", {}).get("ok")]
    log.info("bench_finished", results=str(path), failed=failed)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
