"""`make bench QUICK=1`: every benchmark at a reduced size, for a developer's check that they
all still run (under 3 minutes on the 2-core development machine: bench/run.py runs them
three at a time). Its figures are not the
ones the goals are about: run.py writes them to bench/results/quick.md, never to
docs/benchmarks.md."""

import os

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")


def sized[T](full: T, quick: T) -> T:
    """`full`, or `quick` in quick mode."""
    return quick if QUICK else full
