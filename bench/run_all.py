"""Run every benchmark of bench/ in turn (`make bench`); each prints its own figures.

`--quick` passes `--quick` to each (small sizes, for a smoke run).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    failures = []
    for script in sorted(HERE.glob("bench_*.py")):
        args = [sys.executable, str(script)]
        if quick:
            args.append("--quick")
        print(f"== {script.name}{' (quick)' if quick else ''}", flush=True)
        started = time.perf_counter()
        completed = subprocess.run(args, cwd=HERE.parent, check=False)  # noqa: S603
        print(f"== {script.name}: exit {completed.returncode} after "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        if completed.returncode != 0:
            failures.append(script.name)
    if failures:
        print(f"failed: {', '.join(failures)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
