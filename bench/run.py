"""Run the benchmarks and write their results to docs/benchmarks.md.

Usage: `make bench` (all) or `make bench BENCH=http` (the ones whose name contains "http";
just `bench_http.py` when there is one by that exact name). `make bench QUICK=1` runs them
at a reduced size (bench/quick.py) and writes bench/results/quick.md instead.
Each bench/bench_*.py module has `TITLE` and `run() -> str` (a Markdown section). Servers
run on loopback only and every load loop is bounded in count and time. The sections of
benchmarks that were not run are kept as they were; sections follow the module names,
after the summary table ("## Summary"), which is kept as it is.
"""

import importlib
import platform
import re
import sys
import time
import traceback
from collections.abc import Iterator
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkProcess
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "benchmarks.md"
SUMMARY = "Summary"


def previous_sections() -> dict[str, str]:
    """The `## <TITLE>` sections already in the results file, by title."""
    if not RESULTS.exists():
        return {}
    parts = re.split(r"^(?=## )", RESULTS.read_text(), flags=re.MULTILINE)[1:]
    return {part.splitlines()[0][3:].strip(): part.rstrip() + "\n" for part in parts}


# Quick mode runs this many benchmarks at once, each in a process of its own (every one has
# its own database, ports and Redis): most of their time goes on starting servers and
# waiting out fixed phases, not on the processor. Their figures then mean even less, which
# quick mode does not ask of them.
QUICK_AT_ONCE = 3
# Started first, so that the run does not end waiting on one of them (quick mode, 2026-12-05).
QUICK_SLOWEST = (
    "bench_rooms_ramp",
    "bench_conversations",
    "bench_rooms_scale",
    "bench_rooms_flood",
)


def _section(name: str) -> tuple[str, str]:
    """Run bench/<name>.py; its title and its Markdown section."""
    module = importlib.import_module(f"bench.{name}")
    started = time.monotonic()
    section = module.run()
    return module.TITLE, (
        f"## {module.TITLE}\n\n{section}\n\n_Took {time.monotonic() - started:.0f} s on "
        f"{time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}._\n"
    )


def _section_to(name: str, pipe: Connection) -> None:
    try:
        pipe.send(_section(name))
    except BaseException:
        pipe.send(traceback.format_exc())
        raise


def _side_by_side(names: list[str]) -> Iterator[tuple[str, str]]:
    """Run the benchmarks `names`, `QUICK_AT_ONCE` at a time, each in a fresh process (some
    set another one's module figures for their own run); their sections as they finish."""
    fork = get_context("fork")
    waiting = list(names)
    running: dict[Connection, tuple[str, ForkProcess]] = {}
    while waiting or running:
        while waiting and len(running) < QUICK_AT_ONCE:
            name = waiting.pop(0)
            ours, theirs = fork.Pipe(duplex=False)
            process = fork.Process(target=_section_to, args=(name, theirs), name=name)
            process.start()
            theirs.close()
            running[ours] = (name, process)
        for ready in wait(list(running)):
            pipe = cast(Connection, ready)
            name, process = running.pop(pipe)
            try:
                result = pipe.recv()
            except EOFError:
                result = f"it ended with exit code {process.exitcode} and no result"
            process.join()
            if not isinstance(result, tuple):
                sys.exit(f"{name} failed: {result}")
            yield result


def main(selection: str = "") -> None:
    sys.path.insert(0, str(ROOT))
    from bench.quick import QUICK
    from bench.scratch import template_migrate

    begun = time.monotonic()
    sections = {} if QUICK else previous_sections()
    order, chosen = [], []
    exact = (ROOT / "bench" / f"bench_{selection}.py").exists()
    for path in sorted((ROOT / "bench").glob("bench_*.py")):
        module = importlib.import_module(f"bench.{path.stem}")
        order.append(module.TITLE)
        wanted = path.stem == f"bench_{selection}" if exact else selection in path.stem
        if wanted:
            chosen.append(path.stem)
    if QUICK:
        template_migrate()  # once, before the processes that copy it start
        chosen.sort(key=lambda name: name not in QUICK_SLOWEST)
        for title, section in _side_by_side(chosen):
            print(section, flush=True)
            sections[title] = section
    else:
        for name in chosen:
            print(f"== {name}", flush=True)
            title, section = _section(name)
            print(section, flush=True)
            sections[title] = section
    header = (
        "# Benchmarks\n\n"
        "Written by `make bench`; each section says when it last ran. Figures are from one "
        "run on the development machine (2 cores); they are targets to watch, not "
        "assertions.\n\n"
    )
    # The summary at the top is kept by hand (each row dated): written back as it was.
    order = [SUMMARY, *order]
    results = ROOT / "bench" / "results" / "quick.md" if QUICK else RESULTS
    if QUICK:
        header = "# Benchmarks, quick mode (reduced sizes: not the figures of the goals)\n\n"
        results.parent.mkdir(exist_ok=True)
    results.write_text(header + "\n".join(sections[title] for title in order if title in sections))
    print(f"Wrote {results.relative_to(ROOT)} in {time.monotonic() - begun:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
