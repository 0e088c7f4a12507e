"""``make chaos``: the full chaos run (1,000 noop meetings + real recordings, every fault
kind), figures printed and written to tests/chaos/results/<date>.json; exit 1 when an
invariant is violated. Options: --meetings N --real N --window S --settle S --seed N."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.chaos.run import ChaosConfig, run_chaos  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(prog="scripts/chaos.py", description=__doc__)
    p.add_argument("--meetings", type=int, default=1000)
    p.add_argument("--real", type=int, default=10)
    p.add_argument("--window", type=float, default=300.0)
    p.add_argument("--settle", type=float, default=300.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-pg-restart", action="store_true")
    args = p.parse_args()
    cfg = ChaosConfig(
        meetings=args.meetings,
        real_recordings=args.real,
        fault_window_s=args.window,
        settle_s=args.settle,
        seed=args.seed,
        pg_restarts=0 if args.no_pg_restart else 1,
        workdir=Path(tempfile.gettempdir())
        / "minuta-chaos"
        / datetime.now(UTC).strftime("%Y%m%d-%H%M%S"),
    )
    figures = asyncio.run(run_chaos(cfg))
    out = ROOT / "tests" / "chaos" / "results" / f"{datetime.now(UTC):%Y-%m-%d}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=1, default=str) + "\n")
    shown = {k: v for k, v in figures.items() if k not in ("actions", "config")}
    print(json.dumps(shown, indent=1, default=str))
    print(f"results: {out.relative_to(ROOT)}")
    return 1 if figures["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
