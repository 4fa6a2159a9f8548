"""Would the solver's tests notice a broken solver? Each mutant below breaks one promise of
`matching/solver.py` with a small edit; the solver's own tests run against each mutant in a
fresh interpreter, and a mutant is *killed* when they fail. Run with `make mutants`; the
table it prints is what `docs/matching.md` reports.

Not a test module (pytest collects `test_*.py` only): each run takes about as long as the
solver's tests, times the number of mutants.
"""

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLVER = ROOT / "matching" / "solver.py"
TESTS = "tests/test_matching_solver.py"

# Loads the mutated source as `matching.solver` before pytest imports anything, so the
# tests (and the benchmark helpers they use) get the mutant.
LOADER = """
import sys, types
import matching
source = open(sys.argv[1]).read()
module = types.ModuleType("matching.solver")
module.__file__ = sys.argv[1]
sys.modules["matching.solver"] = module
try:
    exec(compile(source, "matching/solver.py (mutant)", "exec"), module.__dict__)
except Exception:
    import traceback
    traceback.print_exc(file=sys.stdout)
    sys.exit(3)  # a mutant that does not even load is a broken mutant, not a killed one
matching.solver = module
import pytest
sys.exit(pytest.main(sys.argv[2:]))
"""


@dataclass(frozen=True)
class Mutant:
    name: str
    promise: str
    old: str
    new: str


MUTANTS = [
    Mutant(
        "blocks ignored",
        "rule 1: never a blocked pair",
        "and j not in self.blocked.get(i, ())",
        "and True",
    ),
    Mutant(
        "languages ignored",
        "rule 2: a shared language",
        "and self.language_bits[i] & self.language_bits[j] != 0",
        "and True",
    ),
    Mutant(
        "no augmenting paths",
        "rule 3: as many placed as possible",
        "        _augment_from(roots, neighbours, mate, every_unplaced=not skip)\n",
        "        pass\n",
    ),
    Mutant(
        "no blossoms",
        "rule 3: Edmonds behind an odd cycle",
        "            path, tree = _augmenting_path(root, neighbours, mate, dead)\n"
        "            if path is None:\n"
        "                dead.update(tree)\n"
        "                continue\n",
        "            continue\n",
    ),
    Mutant(
        "no trio",
        "rule 3: a trio for an odd count",
        "    exposed = [u for u in range(problem.n) if mate[u] < 0 and problem.has_partner[u]]\n"
        "    if not exposed:\n",
        "    exposed = []\n    if not exposed:\n",
    ),
    Mutant(
        "cheap trio only",
        "rule 3: the trio found wherever it is (odd counts above 30)",
        "    exhaustive = problem.n <= FULL_GRAPH_LIMIT\n",
        "    exhaustive = False\n",
    ),
    Mutant(
        "trio test too lenient",
        "rule 3: a trio only where the others stay matched",
        "    return rest if made >= needed else None\n",
        "    return rest\n",
    ),
    Mutant(
        "history forgotten",
        "rule 4: no repeat while avoidable",
        "        return None if ago is None else max(1, ago)\n",
        "        return None\n",
    ),
    Mutant(
        "newest repeat first",
        "rule 4: the oldest repeat first",
        "        return sorted({ago for pairs in self.past for _, ago in pairs}, reverse=True)\n",
        "        return sorted({ago for pairs in self.past for _, ago in pairs})\n",
    ),
    Mutant(
        "overlap tier merged",
        "rule 4: strangers with a common hour first",
        "        return [near.__getitem__, fresh,",
        "        return [fresh, fresh,",
    ),
    Mutant(
        "greedy on every stranger",
        "rule 4: strangers with a common hour first",
        "    firsts, seconds, weights = graph.near_from, graph.near_to, graph.near_scores\n",
        "    apart = [(i, j) for i in range(problem.n) for j in graph.apart[i] if i < j]\n"
        "    firsts = graph.near_from + array('i', [i for i, _ in apart])\n"
        "    seconds = graph.near_to + array('i', [j for _, j in apart])\n"
        "    weights = graph.near_scores + array(\n"
        "        'f', [problem.fresh_score(i, j, 0) for i, j in apart]\n"
        "    )\n",
    ),
    Mutant(
        "trio fairness ignored",
        "rule 5: the trio goes round",
        "        return max(trios[a], trios[b], trios[c]), trios[a] + trios[b] + trios[c]\n",
        "        return 0, 0\n",
    ),
    Mutant(
        "any fair trio first",
        "rule 5: the trio goes round before anyone is in it twice",
        "    alike = _met_alike(problem, mate) if exhaustive else [0] * problem.n\n",
        "    alike = [0] * problem.n\n",
    ),
    Mutant(
        "priority ignored",
        "rule 6: who was left out last time is placed first",
        "    if not any(problem.priority):\n",
        "    if True:\n",
    ),
    Mutant(
        "pairs never joined",
        "rule 7: small tables of four",
        "    if table_size == 4:\n",
        "    if False:\n",
    ),
    Mutant(
        "tables left as joined",
        "rule 7: strangers at a table before pairs that met",
        "    _improve_tables(problem, graph, tables, budget=budget)\n",
        "",
    ),
    Mutant(
        "sampling repair skipped",
        "rule 3 above 300: sampling never decides who is left out",
        "            for u in left_out:\n"
        "                graph.add_all_valid_pairs(u)\n"
        "                parts.joined(u, graph.adjacent(u))\n",
        "            pass\n",
    ),
    Mutant(
        "order of candidates matters",
        "determinism: same input and seed, same result",
        "        self.members = sorted(candidates, key=lambda c: c.id)\n",
        "        self.members = list(candidates)\n",
    ),
    Mutant(
        "no look-ahead",
        "rule 8: the last strangers still pair everyone",
        "        _look_ahead(problem, graph, mate)\n",
        "        pass\n",
    ),
    Mutant(
        "one round of look-ahead",
        "rule 8: as many rounds ahead as the strangers last",
        "    for rounds in range(2, last + 1):\n",
        "    for rounds in range(2, 3):\n",
    ),
    Mutant(
        "cycles take any re-pairing",
        "score: within 0.5 % of the exact optimum",
        "            if closing is not None and left + closing > 1e-9:\n",
        "            if closing is not None and left + closing > -1.0:\n",
    ),
    Mutant(
        "2-opt only",
        "score: within 0.5 % of the exact optimum",
        "            if depth + 1 < CYCLE_DEPTH and followed < CYCLE_BREADTH[depth]:\n",
        "            if False:\n",
    ),
    Mutant(
        "cycles leave the tier",
        "rule 4: strangers with a common hour first, whatever the weights",
        "    allowed = graph.tiers()[tier] if tier < 2 else graph.adjacent\n",
        "    allowed = graph.adjacent\n",
    ),
    Mutant(
        "2-opt takes any swap",
        "score above 300: the swaps only ever raise it",
        "        if w2 is not None and w1 + w2 > now + 1e-9:\n",
        "        if w2 is not None and w1 + w2 > now - 1.0:\n",
    ),
]


def run_one(mutant: Mutant, source: str, workdir: Path) -> tuple[bool, str, float]:
    """(killed, the first failing test or the reason, seconds)."""
    if source.count(mutant.old) != 1:
        raise SystemExit(f"mutant {mutant.name!r}: its text is not found once in solver.py")
    path = workdir / "solver.py"
    path.write_text(source.replace(mutant.old, mutant.new))
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            LOADER,
            str(path),
            TESTS,
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "--hypothesis-seed=0",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):  # not "some tests failed": the run itself broke
        raise SystemExit(f"mutant {mutant.name!r}: the tests did not run\n{done.stdout[-2000:]}")
    failed = [line for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    reason = failed[0].split(" ", 1)[1].split(" - ")[0] if failed else "all tests pass"
    return done.returncode != 0, reason, elapsed


def main(names: list[str]) -> int:
    """Every mutant, or those named on the command line."""
    source = SOLVER.read_text()
    rows = []
    chosen = [m for m in MUTANTS if not names or m.name in names]
    with tempfile.TemporaryDirectory() as tmp:
        for mutant in chosen:
            killed, reason, elapsed = run_one(mutant, source, Path(tmp))
            verdict = "killed" if killed else "SURVIVED"
            rows.append(
                f"| {mutant.name} | {mutant.promise} | {verdict} | {reason} | {elapsed:.0f} s |"
            )
            print(rows[-1], flush=True)
    survivors = sum("SURVIVED" in row for row in rows)
    print()
    print("| Mutant | Promise broken | Verdict | First failing test | Time |")
    print("|---|---|---|---|---:|")
    print("\n".join(rows))
    print(f"\n{len(rows) - survivors} of {len(rows)} mutants killed.")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
