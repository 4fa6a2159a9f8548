"""The coffee-pair solver (`matching/solver.py`) on generated communities: 600 members with
20 rounds of history made by the solver itself, and 100,000 members with 20 synthetic rounds
(about a million past pairs). Wall time, peak memory of the solve, matched and
unmatched counts, repeats, and the total score against the exact optimum (networkx) on 300
and against an upper bound (`upper_bound`) on 300 and 1,000.
"""

import random
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from itertools import combinations
from pathlib import Path

from bench.quick import sized
from matching.solver import Candidate, Result, Settings, solve

TITLE = "Coffee-pair solver"
SEED = 20250101
ROUNDS = 20
INTERESTS = 100
LARGE = sized(100_000, 2_000)  # the community of the time and memory goals
QUALITY_SIZE = sized(300, 60)
LANGUAGES: tuple[
    tuple[float, tuple[str, ...]], ...
] = (  # share of members by spoken languages, Spanish-speaking community
    (0.50, ("es",)),
    (0.25, ("es", "en")),
    (0.10, ("en",)),
    (0.07, ("es", "pt")),
    (0.05, ("pt",)),
    (0.03, ("en", "pt")),
)


def community(size: int, seed: int = SEED) -> list[Candidate]:
    """Members in UTC−6..UTC+1 working weekdays around office hours, long-tailed interests,
    5% open to mentoring and 5% to being mentored."""
    rng = random.Random(seed)
    popularity = [1 / (k + 1) for k in range(INTERESTS)]
    members = []
    for member_id in range(1, size + 1):
        offset = rng.randint(-6, 1)
        start = (rng.choice((7, 8, 9, 9, 9, 10, 14)) - offset) * 60 + rng.choice((0, 30))
        length = rng.choice((240, 360, 480, 480, 480, 540))
        days = 4 if rng.random() < 0.2 else 5
        hours = tuple(
            (max(0, day * 1440 + start), min(10080, day * 1440 + start + length))
            for day in range(days)
        )
        r, languages = rng.random(), LANGUAGES[-1][1]
        for share, codes in LANGUAGES:
            if r < share:
                languages = codes
                break
            r -= share
        interests = rng.choices(range(INTERESTS), popularity, k=rng.randint(0, 6))
        members.append(
            Candidate(
                id=member_id,
                languages=frozenset(languages),
                interests=frozenset(interests),
                hours=hours,
                mentor=rng.random() < 0.05,
                mentee=rng.random() < 0.05,
            )
        )
    return members


def blocks(members: list[Candidate], seed: int = SEED) -> set[tuple[int, int]]:
    """One member in a hundred blocked someone."""
    rng = random.Random(seed)
    ids = [m.id for m in members]
    return {(a, rng.choice(ids)) for a in rng.sample(ids, len(ids) // 100)}


def history_by_solving(
    members: list[Candidate], blocked: set[tuple[int, int]]
) -> dict[tuple[int, int], int]:
    """Past rounds as the solver would have made them, oldest first."""
    history: dict[tuple[int, int], int] = {}
    for round_number in range(ROUNDS):
        result = solve(
            members, blocked=blocked, history=history, settings=Settings(seed=round_number)
        )
        history = {pair: ago + 1 for pair, ago in history.items()}
        for group in result.groups:
            for pair in combinations(group.members, 2):
                history[pair] = 1
    return history


def history_synthetic(members: list[Candidate], seed: int = SEED) -> dict[tuple[int, int], int]:
    """Past rounds pairing members who share a first language and a working band, the pairs
    the solver favours, so that history collides with this round's best candidates."""
    rng = random.Random(seed)
    buckets: dict[tuple[str, int], list[int]] = {}
    for m in members:
        buckets.setdefault((min(m.languages), m.hours[0][0] // 120), []).append(m.id)
    history: dict[tuple[int, int], int] = {}
    for ago in range(ROUNDS, 0, -1):
        for ids in buckets.values():
            rng.shuffle(ids)
            for k in range(0, len(ids) - 1, 2):
                # As matching.services.pair_history gives them: smaller id first.
                history[(min(ids[k], ids[k + 1]), max(ids[k], ids[k + 1]))] = ago
    return history


def _rss_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _measure(small: bool, call: Callable[[], Result]) -> tuple[Result, float, float]:
    """The result, wall time, and peak memory of the solve: traced allocations for a small
    community (a second run: tracing slows it down several times), how far the resident set
    grew above what it was (peak reset first) for a large one."""
    Path("/proc/self/clear_refs").write_text("5")  # resets the peak (VmHWM) on Linux
    before = _rss_mib("VmRSS")
    started = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - started
    peak = _rss_mib("VmHWM") - before
    if small:
        tracemalloc.start()
        call()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return result, elapsed, peak


def _repeats(result: Result, history: dict[tuple[int, int], int]) -> int:
    return sum(
        1
        for group in result.groups
        for a, b in combinations(group.members, 2)
        if (a, b) in history or (b, a) in history
    )


def hard_mixes(size: int = 100_000) -> list[str]:
    """Rows for communities where some members are hard or impossible to place: three who
    speak only Catalan (an even count, so one of them and one other are left out, or the
    three make the trio), and one where 80 % speak a language nobody else speaks."""
    rng = random.Random(SEED)
    members = community(size)
    catalan = [replace(m, languages=frozenset({"ca"})) if m.id <= 3 else m for m in members]
    babel = [
        replace(m, languages=frozenset({f"x{m.id}"})) if rng.random() < 0.8 else m for m in members
    ]
    rows = []
    for name, mix in (("3 speak only Catalan", catalan), ("80 % share no language", babel)):
        result, elapsed, peak = _measure(
            False, partial(solve, mix, blocked=blocks(mix), settings=Settings(seed=ROUNDS))
        )
        matched = sum(len(g.members) for g in result.groups)
        rows.append(
            f"| {size:,}, {name} | {elapsed:.2f} s | {peak:.0f} MiB | {matched:,} | "
            f"{len(result.unmatched):,} |"
        )
    return rows


def upper_bound(members: list[Candidate], settings: Settings, *, sweeps: int = 30) -> float:
    """A number no grouping of `members` into pairs can outscore (the solver's score).

    For any share y >= 0 per member, a pair (a, b) of score w gets y[a] + y[b] plus at
    most max(0, w - y[a] - y[b]); each member is in one pair at most, so a pairing scores
    at most  sum(y) + sum over every valid pair of max(0, w - y[a] - y[b])  (the Lagrangian
    of the fractional matching LP; with no excess left, its dual). y starts at half each
    member's best score, where every excess is 0: the "half their best pair" bound. Then,
    member by member, y[v] goes to what minimises the bound with the others fixed (the
    second largest w - y[u] over v's partners u, or 0), for `sweeps` rounds or until it
    stops falling: every step keeps it a bound, and it only falls.
    """
    from matching.solver import _Problem

    problem = _Problem(members, (), {}, {}, (), settings)
    n = problem.n
    partners: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    pairs: list[tuple[int, int, float]] = []
    for a, b in combinations(range(n), 2):
        weight = problem.weight(a, b)
        if weight is not None and weight > 0:  # a pair scoring 0 or less has no excess
            partners[a].append((b, weight))
            partners[b].append((a, weight))
            pairs.append((a, b, weight))
    share = [max((w for _, w in around), default=0.0) / 2 for around in partners]

    def bound() -> float:
        return sum(share) + sum(max(0.0, w - share[a] - share[b]) for a, b, w in pairs)

    best = bound()
    for _ in range(sweeps):
        for v, around in enumerate(partners):
            first = second = 0.0
            for u, w in around:
                rest = w - share[u]
                if rest > second:
                    first, second = (rest, first) if rest > first else (first, rest)
            share[v] = second
        value = bound()
        if value > best - 1e-9:
            break
        best = value
    return best


def quality(size: int = 300, seed: int = SEED) -> tuple[float, float, float]:
    """The solver's total score over the exact maximum-weight matching's (networkx, maximum
    cardinality, same score), on an even community without history; and both times."""
    import networkx as nx

    from matching.solver import _Problem

    members = community(size, seed)
    settings = Settings(seed=seed)
    started = time.perf_counter()
    result = solve(members, settings=settings)
    solver_time = time.perf_counter() - started
    problem = _Problem(members, (), {}, {}, (), settings)
    graph = nx.Graph()
    for i, j in combinations(range(problem.n), 2):
        weight = problem.weight(i, j)
        if weight is not None:
            graph.add_edge(i, j, weight=weight)
    started = time.perf_counter()
    exact = nx.max_weight_matching(graph, maxcardinality=True)
    exact_time = time.perf_counter() - started
    optimum = sum(graph[a][b]["weight"] for a, b in exact)
    return result.total_score / optimum, solver_time, exact_time


def bounded_quality(size: int, seed: int = SEED) -> tuple[float, float, float]:
    """The solver's total score over `upper_bound`, on an even community without history;
    the solver's time and the bound's."""
    members = community(size, seed)
    settings = Settings(seed=seed)
    started = time.perf_counter()
    result = solve(members, settings=settings)
    solver_time = time.perf_counter() - started
    started = time.perf_counter()
    bound = upper_bound(members, settings)
    return result.total_score / bound, solver_time, time.perf_counter() - started


def run() -> str:
    rows = []
    for size, make_history in ((600, "solver"), (LARGE, "synthetic")):
        members = community(size)
        blocked = blocks(members)
        history = (
            history_by_solving(members, blocked)
            if make_history == "solver"
            else history_synthetic(members)
        )
        result, elapsed, peak = _measure(
            size < 10_000,
            partial(
                solve, members, blocked=blocked, history=history, settings=Settings(seed=ROUNDS)
            ),
        )
        matched = sum(len(g.members) for g in result.groups)
        trios = sum(1 for g in result.groups if len(g.members) == 3)
        rows.append(
            f"| {size:,} | {len(history):,} ({make_history}) | {len(blocked):,} | "
            f"{elapsed:.2f} s | {peak:.0f} MiB | {matched:,} ({trios} trio) | "
            f"{len(result.unmatched)} | {_repeats(result, history)} |"
        )
    mixes = hard_mixes(LARGE)
    seeds = sized((1, 2, 3), (1,))
    ratios = [quality(QUALITY_SIZE, seed) for seed in seeds]
    bounded = {
        size: [bounded_quality(size, seed) for seed in seeds]
        for size in sized((300, 1_000), (QUALITY_SIZE,))
    }
    return "\n".join(
        [
            "Pure Python, one process. Peak memory is what the solve allocates beyond its "
            "input: traced allocations at 600, resident set growth at 100,000.",
            "",
            "| Members | Past pairs | Blocks | Time | Peak memory | Matched | Unmatched "
            "| Repeats |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            "Members hard or impossible to place, no history (goal: 10 s at 100,000 in any mix):",
            "",
            "| Community | Time | Peak memory | Matched | Unmatched |",
            "|---|---:|---:|---:|---:|",
            *mixes,
            "",
            "Quality against the exact maximum-weight matching (networkx, maximum cardinality, "
            "same score), 300 members, no history:",
            "",
            "| Seed | Solver / optimum | Solver time | networkx time |",
            "|---:|---:|---:|---:|",
            *(
                f"| {seed} | {ratio:.2%} | {solver:.2f} s | {exact:.1f} s |"
                for seed, (ratio, solver, exact) in zip(seeds, ratios, strict=True)
            ),
            "",
            "Quality against an upper bound, no history (networkx would take minutes at "
            "1,000): `upper_bound` in `bench/bench_matching.py`, the fractional matching's "
            "Lagrangian bound, shares per member lowered by coordinate descent from half "
            "each member's best pair. Any pairing scores at most the sum of the shares plus, "
            "over every valid pair, what its score exceeds its two shares by. At 300 members "
            "it lies "
            + ", ".join(
                f"{ratio / bound_ratio - 1:.1%}"
                for (ratio, _, _), (bound_ratio, _, _) in zip(
                    ratios, bounded[QUALITY_SIZE], strict=True
                )
            )
            + " above the exact optimum. Above 300 members the candidate pairs are sampled.",
            "",
            "| Members | Seed | Solver / upper bound | Solver time | Bound time |",
            "|---:|---:|---:|---:|---:|",
            *(
                f"| {size:,} | {seed} | {ratio:.2%} | {solver:.2f} s | {bound:.1f} s |"
                for size, rows in bounded.items()
                for seed, (ratio, solver, bound) in zip(seeds, rows, strict=True)
            ),
        ]
    )


if __name__ == "__main__":
    print(run())
