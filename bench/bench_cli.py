"""How fast the CLI starts: wall time of the console script
`avtaleflyt plan check examples/sondre-trondelag-2024.yaml` against `python -c pass`
(the same interpreter), both as new processes, interleaved, medians. The ratio is
what a coordinator feels beyond starting Python at all.
Run: .venv/bin/python bench/bench_cli.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sondre-trondelag-2024.yaml"


def wall(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15, help="pairs to time (default 15), after one warm-up of each")
    args = parser.parse_args()
    script = Path(sys.executable).parent / "avtaleflyt"  # the console script `pip install` made
    if not script.exists():
        sys.exit(f"no console script at {script}: install the project (make venv)")
    cli = [str(script), "plan", "check", str(EXAMPLE)]
    baseline = [sys.executable, "-c", "pass"]
    print(f"{os.cpu_count()} CPUs, load {load()}; {' '.join(cli)} vs {' '.join(baseline)}, {args.repeat} pairs")
    wall(baseline), wall(cli)  # warm-up: the page cache, .pyc files
    base_t: list[float] = []
    cli_t: list[float] = []
    for i in range(args.repeat):  # interleaved, each first in turn, so a burst of load hits both
        for argv, times in ((baseline, base_t), (cli, cli_t))[:: 1 if i % 2 else -1]:
            times.append(wall(argv))
    b, c = statistics.median(base_t), statistics.median(cli_t)
    print(f"python -c pass: median {b * 1000:.0f} ms (min {min(base_t) * 1000:.0f}, max {max(base_t) * 1000:.0f})")
    print(f"plan check:     median {c * 1000:.0f} ms (min {min(cli_t) * 1000:.0f}, max {max(cli_t) * 1000:.0f})")
    print(f"load at the end {load()}")
    print(f"RESULT cli_plan_check: {c / b:.2f}x ({c * 1000:.0f} ms vs baseline python -c pass {b * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
