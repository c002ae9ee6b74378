"""Benchmark: how long the `baton` command takes to start, beside Python's own start-up.

    .venv/bin/python bench/startup.py [--rounds 9] [--cpu 1]

Every figure is a whole process, from its start to its exit (the console: to its first
prompt), the median of --rounds rounds; each round runs every command once, in turn, so a
drift in the machine's speed touches them alike. Each process is pinned to --cpu. Beside the
wall time, the CPU time the process used (user + system, from its start to its exit, the
console's `:quit` included): on a busy machine wall time grows with the others' load, CPU
time much less.

  floors    python -c pass; python -c "import argparse" (what any command line pays)
  commands  baton --help; baton check-config (the example organisation), with the default
            database and with BATON_DATABASE_URL set (then SQLAlchemy checks the URL); a
            subcommand's --help (request-approval's once it exists)
  console   `baton chat --as alice` on a database that already holds the demo, timed to
            its first prompt; beside it, the floor of importing SQLAlchemy's asyncio
            engine with aiosqlite (what any program reading that database pays)

The targets are 0.5 s for the commands and 1.5 s for the console on this 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BATON = [str(Path(PYTHON).with_name("baton"))] if Path(PYTHON).with_name("baton").exists() \
    else [PYTHON, "-m", "baton.cli"]
PROMPT = b"alice> "


@dataclass
class Measured:
    name: str
    target: float | None  # seconds; None for a floor
    run: Callable[[], float]
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def measure(self) -> None:
        before = _children_cpu()
        self.times.append(self.run())
        self.cpu.append(_children_cpu() - before)


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def pinned(cpu: int | None) -> Callable[[], None] | None:
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def whole(argv: list[str], env: dict[str, str], cpu: int | None) -> Callable[[], float]:
    """Start to exit of one process; its output thrown away, its exit status checked."""
    def run() -> float:
        started = time.perf_counter()
        done = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, preexec_fn=pinned(cpu), check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: "
                             f"{done.stderr.decode()[-500:]}")
        return elapsed
    return run


def to_prompt(argv: list[str], env: dict[str, str], cpu: int | None) -> Callable[[], float]:
    """Start to the console's first prompt; then it is told to quit."""
    def run() -> float:
        started = time.perf_counter()
        process = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, preexec_fn=pinned(cpu))
        assert process.stdout is not None and process.stdin is not None
        seen = b""
        deadline = started + 60
        while PROMPT not in seen:
            left = deadline - time.perf_counter()
            ready, _, _ = select.select([process.stdout], [], [], max(left, 0))
            chunk = os.read(process.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                process.kill()
                raise SystemExit(f"the console never showed its prompt: {seen[-500:]!r}")
            seen += chunk
        elapsed = time.perf_counter() - started
        process.communicate(b":quit\n", timeout=60)
        return elapsed
    return run


def subcommand() -> list[str]:
    """request-approval's --help once the command exists; until then serve's."""
    listed = subprocess.run([*BATON, "--help"], capture_output=True, text=True, check=True)
    return ["request-approval", "--help"] if "request-approval" in listed.stdout \
        else ["serve", "--help"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)),
                        help="pin every process to this processor (-1: no pinning)")
    args = parser.parse_args()
    cpu = None if args.cpu < 0 else args.cpu
    with tempfile.TemporaryDirectory(prefix="baton-startup-") as scratch:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("BATON_")}
        env.update(BATON_CONFIG=str(ROOT / "baton.example.yaml"),
                   BATON_DATABASE_URL=f"sqlite+aiosqlite:///{scratch}/baton.db",
                   BATON_DATA_DIR=f"{scratch}/var")
        # The console's database exists and holds the demo: set up, not timed.
        subprocess.run([*BATON, "demo"], env=env, cwd=scratch, check=True,
                       stdout=subprocess.DEVNULL)
        plain = {key: value for key, value in env.items() if key != "BATON_DATABASE_URL"}
        sub = subcommand()
        measured = [
            Measured("python -c pass", None, whole([PYTHON, "-c", "pass"], env, cpu)),
            Measured("python -c 'import argparse'", None,
                     whole([PYTHON, "-c", "import argparse"], env, cpu)),
            Measured("baton --help", 0.5, whole([*BATON, "--help"], env, cpu)),
            Measured("baton check-config", 0.5, whole([*BATON, "check-config"], plain, cpu)),
            Measured("baton check-config (BATON_DATABASE_URL set)", 0.5,
                     whole([*BATON, "check-config"], env, cpu)),
            Measured(f"baton {' '.join(sub)}", 0.5, whole([*BATON, *sub], env, cpu)),
            Measured("python -c 'import sqlalchemy.ext.asyncio, aiosqlite'", None,
                     whole([PYTHON, "-c", "import sqlalchemy.ext.asyncio, aiosqlite"], env,
                           cpu)),
            Measured("baton chat --as alice (to its prompt)", 1.5,
                     to_prompt([*BATON, "chat", "--as", "alice"], env, cpu)),
        ]
        for each in measured:  # warm the file cache; not counted
            each.run()
        for _ in range(args.rounds):
            for each in measured:
                each.measure()
    floor = measured[0].median
    pinned_to = f"pinned to cpu {cpu}" if cpu is not None else "not pinned"
    print(f"startup, medians of {args.rounds} rounds ({pinned_to}; load average "
          f"{os.getloadavg()[0]:.2f}):")
    print(f"  {'command':<52} {'median':>8} {'min':>7} {'max':>7} {'× pass':>7} {'cpu':>7}"
          f"  target (wall)")
    for each in measured:
        verdict = "" if each.target is None else \
            f"{each.target:.1f} s {'met' if each.median < each.target else 'MISSED'}"
        print(f"  {each.name:<52} {each.median:>7.3f}s {min(each.times):>6.3f}s "
              f"{max(each.times):>6.3f}s {each.median / floor:>6.1f}× "
              f"{statistics.median(each.cpu):>6.3f}s  {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
