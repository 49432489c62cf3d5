"""How fast the CLI starts: wall time of the console script
`avtaleflyt plan check examples/sondre-trondelag-2024.yaml` against `python -c pass`
(the same interpreter), both as new processes, interleaved, medians. The ratio is
what a coordinator feels beyond starting Python at all.
The warm-up writes the CLI's bytecode (.pyc) as any installation has it, even under
PYTHONDONTWRITEBYTECODE=1 (see warm_up).
Run: .venv/bin/python bench/bench_cli.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "sondre-trondelag-2024.yaml"


def wall(argv: list[str]) -> tuple[float, float]:
    """Wall time, and the CPU time (user + system) the process used: less moved by other load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def warm_up(argv: list[str]) -> None:
    """One run with the bytecode written: pip compiles a wheel's modules when it installs them and
    an editable install's (`make venv`) are written on their first import, unless
    PYTHONDONTWRITEBYTECODE is set, as it is in this project's sessions. Without this, every timed
    run would compile the ~30 modules of the CLI and models it loads from source again (~30 ms)."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)


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
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("PYTHONDONTWRITEBYTECODE is set: the warm-up writes the .pyc files all the same")
    warm_up(cli)  # .pyc files
    wall(baseline), wall(cli)  # warm-up: the page cache
    base_t: list[tuple[float, float]] = []
    cli_t: list[tuple[float, float]] = []
    for i in range(args.repeat):  # interleaved, each first in turn, so a burst of load hits both
        for argv, times in ((baseline, base_t), (cli, cli_t))[:: 1 if i % 2 else -1]:
            times.append(wall(argv))
    b, c = statistics.median(t for t, _ in base_t), statistics.median(t for t, _ in cli_t)
    b_cpu, c_cpu = statistics.median(u for _, u in base_t), statistics.median(u for _, u in cli_t)
    for name, times, median in (("python -c pass", base_t, b), ("plan check", cli_t, c)):
        walls = [t for t, _ in times]
        print(f"{name + ':':16}median {median * 1000:.0f} ms (min {min(walls) * 1000:.0f}, max {max(walls) * 1000:.0f})")
    print(f"CPU time (user + system), medians: {c_cpu * 1000:.0f} ms vs {b_cpu * 1000:.0f} ms, {c_cpu / b_cpu:.2f}x")
    print(f"load at the end {load()}")
    print(f"RESULT cli_plan_check: {c / b:.2f}x ({c * 1000:.0f} ms vs baseline python -c pass {b * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
