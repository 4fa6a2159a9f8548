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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "benchmarks.md"
SUMMARY = "Summary"


def previous_sections() -> dict[str, str]:
    """The `## <TITLE>` sections already in the results file, by title."""
    if not RESULTS.exists():
        return {}
    parts = re.split(r"^(?=## )", RESULTS.read_text(), flags=re.MULTILINE)[1:]
    return {part.splitlines()[0][3:].strip(): part.rstrip() + "\n" for part in parts}


def main(selection: str = "") -> None:
    sys.path.insert(0, str(ROOT))
    from bench.quick import QUICK

    begun = time.monotonic()
    sections = {} if QUICK else previous_sections()
    order = []
    exact = (ROOT / "bench" / f"bench_{selection}.py").exists()
    for path in sorted((ROOT / "bench").glob("bench_*.py")):
        module = importlib.import_module(f"bench.{path.stem}")
        order.append(module.TITLE)
        chosen = path.stem == f"bench_{selection}" if exact else selection in path.stem
        if selection and not chosen:
            continue
        print(f"== {module.TITLE}", flush=True)
        started = time.monotonic()
        section = module.run()
        print(section, flush=True)
        sections[module.TITLE] = (
            f"## {module.TITLE}\n\n{section}\n\n_Took {time.monotonic() - started:.0f} s on "
            f"{time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
            f"Python {platform.python_version()}._\n"
        )
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
