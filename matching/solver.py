"""The coffee-pair solver: members who opted in are paired two by two, with one trio when
the count is odd. A pure module (standard library only) so it is tested and benchmarked alone;
`docs/matching.md` explains the algorithm and how each hard rule is guaranteed.

Contract of `solve`:

1. no group holds a blocked pair (a trio counts as three pairs);
2. every pair in a group shares a language;
3. every member is in exactly one group or in `unmatched`; groups have two members, and at
   most one has three (made only to absorb a member who would otherwise stay unmatched).
   Up to `FULL_GRAPH_LIMIT` members every valid pair is considered, so as many members as
   possible are placed (maximum matching by augmenting paths, plus an exhaustive trio search
   up to `TRIO_EXACT_LIMIT` members). Above it, candidates are sampled, and the members left
   unmatched have every valid pair of theirs added before the augmenting-path repair;
4. a pair that met before is used only when needed to place more members: the matching is
   first made maximum on never-met pairs, then extended with past pairs, the oldest first.
   Up to `FULL_GRAPH_LIMIT` members: when never-met pairs alone can place as many members
   as all valid pairs can, the result holds no repeat.

The same input and seed give the same result whatever the order of `candidates`; the work
is bounded by counts, never by the clock, so a slower machine does not change the answer.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from types import MappingProxyType

WEEK_MINUTES = 7 * 24 * 60
FULL_HOURS_MINUTES = 40 * 60  # an overlap of a 40-hour week scores 1
FULL_GRAPH_LIMIT = 300  # up to this many members, every valid pair is a candidate
TRIO_EXACT_LIMIT = 30  # up to this many members, the trio search tries every triangle
CANDIDATES_PER_MEMBER = 20  # sampled pairs proposed by each member above FULL_GRAPH_LIMIT
# 2-opt evaluations: counted, never timed, so the answer does not depend on the machine.
# Enough to converge on a complete graph; a thin layer at scale, where time is short.
SWAPS_PER_MEMBER = 400
SWAPS_AT_SCALE = 30_000
SWAPS_PER_MEMBER_AT_SCALE = 2
# A repeat costs more than any pair can score (at most ~3), so no score gain ever buys one;
# the part that shrinks with age makes an older repeat cheaper than a recent one.
REPEAT_PENALTY = 100.0
PARTS = ("overlap", "interests", "mentoring", "random", "repeat_penalty")
HOUR_BANDS = 12  # two-hour bands of the working day, for sampling candidates

_NO_HISTORY: Mapping[tuple[int, int], int] = MappingProxyType({})
_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class Candidate:
    id: int
    languages: frozenset[str]  # ISO codes, e.g. {"es", "en"}
    interests: frozenset[int]  # interest ids
    # Usual working time as [start, end) intervals in minutes since Monday 00:00 UTC, within
    # [0, 10080); an interval crossing the end of the week is split by the caller.
    hours: tuple[tuple[int, int], ...]
    mentor: bool = False  # open to mentoring
    mentee: bool = False  # open to being mentored


@dataclass(frozen=True)
class Settings:
    seed: int  # same input + seed -> same output
    randomness: float = 0.15  # weight of the random term (0 = deterministic scores)
    overlap_weight: float = 1.0
    interest_weight: float = 1.0
    mentoring_weight: float = 0.5


@dataclass(frozen=True)
class Group:
    members: tuple[int, ...]  # 2 (or 3 for the trio), sorted
    score: float  # sum of the breakdown; a trio sums its three pairs
    breakdown: dict[str, float]  # overlap, interests, mentoring, random, repeat_penalty (<= 0)


@dataclass(frozen=True)
class Result:
    groups: list[Group]
    unmatched: list[int]  # ids with no place in any valid group, sorted
    total_score: float


def solve(
    candidates: Sequence[Candidate],
    *,
    blocked: Collection[tuple[int, int]] = (),
    history: Mapping[tuple[int, int], int] = _NO_HISTORY,
    settings: Settings,
) -> Result:
    """Pair the candidates for one round (see the module docstring for the guarantees).

    `blocked` holds pairs (either order) that must never meet; `history` maps pairs (either
    order) that met before to how many rounds ago (1 = last round). Pairs naming unknown
    ids are ignored. Raises ValueError on duplicate ids or hours outside the week.
    """
    problem = _Problem(candidates, blocked, history, settings)
    n = problem.n
    graph = _candidate_graph(problem)
    mate = _greedy(problem, graph)
    _augment(graph, mate)
    if n > FULL_GRAPH_LIMIT:
        # Whoever sampling left out gets every valid pair of theirs, then a second repair.
        left_out = [u for u in range(n) if mate[u] < 0]
        if len(left_out) > 1:
            for u in left_out:
                graph.add_all_valid_pairs(u)
            _augment(graph, mate)
    if n <= FULL_GRAPH_LIMIT:
        budget = SWAPS_PER_MEMBER * n
    else:
        budget = SWAPS_AT_SCALE + SWAPS_PER_MEMBER_AT_SCALE * n
    _improve(problem, graph, mate, budget=budget)
    trio = _make_trio(problem, graph, mate)
    return _result(problem, mate, trio)


# --- The problem: members by index, validity and scores --------------------------------


class _Problem:
    """Members sorted by id and indexed 0..n-1, with what scoring a pair needs precomputed."""

    def __init__(
        self,
        candidates: Sequence[Candidate],
        blocked: Collection[tuple[int, int]],
        history: Mapping[tuple[int, int], int],
        settings: Settings,
    ) -> None:
        self.members = sorted(candidates, key=lambda c: c.id)
        self.n = len(self.members)
        self.ids = [c.id for c in self.members]
        if len(set(self.ids)) != self.n:
            raise ValueError("duplicate candidate ids")
        self.settings = settings
        self.seed = settings.seed
        self.overlap_unit = settings.overlap_weight / FULL_HOURS_MINUTES
        self.history = history
        index = {member_id: i for i, member_id in enumerate(self.ids)}
        # Sorted, so that bit numbers (and sampling) do not depend on string hashing.
        codes = sorted({code for c in self.members for code in c.languages})
        bit = {code: 1 << k for k, code in enumerate(codes)}
        self.language_bits = [sum(bit[code] for code in c.languages) for c in self.members]
        masks: dict[tuple[tuple[int, int], ...], int] = {}  # identical weeks share one int
        self.hours = [masks.setdefault(c.hours, _hours_mask(c.hours)) for c in self.members]
        self.interests = [c.interests for c in self.members]
        self.mentor = [c.mentor for c in self.members]
        self.mentee = [c.mentee for c in self.members]
        self.blocked: dict[int, set[int]] = {}
        for a, b in blocked:
            if a in index and b in index and a != b:
                self.blocked.setdefault(index[a], set()).add(index[b])
                self.blocked.setdefault(index[b], set()).add(index[a])
        self._cache: dict[int, float | None] = {}

    def valid(self, i: int, j: int) -> bool:
        """Rules 1 and 2: a shared language and no block."""
        return (
            i != j
            and self.language_bits[i] & self.language_bits[j] != 0
            and j not in self.blocked.get(i, ())
        )

    def rounds_ago(self, i: int, j: int) -> int | None:
        a, b = self.ids[i], self.ids[j]
        ago = self.history.get((a, b))
        if ago is None:
            ago = self.history.get((b, a))
        return None if ago is None else max(1, ago)

    def parts(self, i: int, j: int) -> tuple[float, float, float, float, float]:
        """The parts of a pair's score, in the order of `PARTS`; they sum to the score."""
        s = self.settings
        overlap = (self.hours[i] & self.hours[j]).bit_count()
        shared = len(self.interests[i] & self.interests[j])
        union = len(self.interests[i]) + len(self.interests[j]) - shared
        complementary = (self.mentor[i] and self.mentee[j]) or (self.mentee[i] and self.mentor[j])
        ago = self.rounds_ago(i, j)
        return (
            s.overlap_weight * min(1.0, overlap / FULL_HOURS_MINUTES),
            s.interest_weight * (shared / union if union else 0.0),
            s.mentoring_weight if complementary else 0.0,
            s.randomness * _noise(s.seed, self.ids[i], self.ids[j]),
            0.0 if ago is None else -REPEAT_PENALTY * (1 + 1 / ago),
        )

    def fresh_score(self, i: int, j: int) -> float:
        """`sum(parts(i, j))` for a pair that never met: the hot path, written out flat."""
        overlap = (self.hours[i] & self.hours[j]).bit_count()
        score = self.overlap_unit * (
            overlap if overlap < FULL_HOURS_MINUTES else FULL_HOURS_MINUTES
        )
        a, b = self.interests[i], self.interests[j]
        if a and b:
            shared = len(a & b)
            if shared:
                score += self.settings.interest_weight * shared / (len(a) + len(b) - shared)
        if (self.mentor[i] and self.mentee[j]) or (self.mentee[i] and self.mentor[j]):
            score += self.settings.mentoring_weight
        return score + self.settings.randomness * _noise(self.seed, self.ids[i], self.ids[j])

    def weight(self, i: int, j: int) -> float | None:
        """The pair's score (repeat penalty included), or None when the pair is not valid.

        Cached only for small communities: at scale the cache would outgrow the graph.
        """
        key = i * self.n + j if i < j else j * self.n + i
        if key in self._cache:
            return self._cache[key]
        w = None
        if self.valid(i, j):
            ago = self.rounds_ago(i, j)
            w = self.fresh_score(i, j) - (0.0 if ago is None else REPEAT_PENALTY * (1 + 1 / ago))
        if self.n <= FULL_GRAPH_LIMIT:
            self._cache[key] = w
        return w


def _hours_mask(hours: tuple[tuple[int, int], ...]) -> int:
    """The week as an int with one bit per working minute, so overlap is a popcount."""
    mask = 0
    for start, end in hours:
        if not 0 <= start < end <= WEEK_MINUTES:
            raise ValueError(f"hours interval {(start, end)} is not within one week")
        mask |= ((1 << (end - start)) - 1) << start
    return mask


def _noise(seed: int, a: int, b: int) -> float:
    """A value in [0, 1) fixed by the seed and the pair (either order): a multiply-xorshift
    hash, cheaper than a seeded generator per pair and as good for serendipity."""
    x = ((a + b) * 0x9E3779B97F4A7C15 ^ (a * b + seed) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 31)) * 0x94D049BB133111EB) & _MASK64
    return (x >> 11) / 9007199254740992.0  # 2**53


# --- Candidate pairs ---------------------------------------------------------------------


class _Graph:
    """Candidate pairs as adjacency lists, never-met pairs apart from past ones.

    `fresh[i]` lists i's never-met partners, `past[i]` its (partner, rounds ago) pairs. A
    neighbour may appear twice; every algorithm here tolerates it.
    """

    def __init__(self, problem: _Problem) -> None:
        self.problem = problem
        self.fresh: list[list[int]] = [[] for _ in range(problem.n)]
        self.past: list[list[tuple[int, int]]] = [[] for _ in range(problem.n)]
        self.fresh_edges: list[tuple[int, int]] = []
        self._complete: set[int] = set()

    def add(self, i: int, j: int) -> None:
        if not self.problem.valid(i, j):
            return
        ago = self.problem.rounds_ago(i, j)
        if ago is None:
            self.fresh[i].append(j)
            self.fresh[j].append(i)
            self.fresh_edges.append((i, j))
        else:
            self.past[i].append((j, ago))
            self.past[j].append((i, ago))

    def add_all_valid_pairs(self, i: int) -> None:
        """Every valid pair of i, so i's fate does not depend on sampling."""
        if i in self._complete:
            return
        self._complete.add(i)
        known = set(self.fresh[i]) | {j for j, _ in self.past[i]}
        for j in range(self.problem.n):
            if j not in known and j not in self._complete:
                self.add(i, j)

    def neighbours(self, min_age: int | None) -> Callable[[int], Iterable[int]]:
        """Never-met partners, plus past ones met at least `min_age` rounds ago (if given)."""
        if min_age is None:
            return self.fresh.__getitem__
        return lambda v: self.fresh[v] + [j for j, ago in self.past[v] if ago >= min_age]

    def ages(self) -> list[int]:
        return sorted({ago for pairs in self.past for _, ago in pairs}, reverse=True)


def _candidate_graph(problem: _Problem) -> _Graph:
    graph = _Graph(problem)
    if problem.n <= FULL_GRAPH_LIMIT:
        for i, j in combinations(range(problem.n), 2):
            graph.add(i, j)
    else:
        _sample_candidates(problem, graph, random.Random(problem.settings.seed))
    return graph


def _sample_candidates(problem: _Problem, graph: _Graph, rng: random.Random) -> None:
    """Each member proposes a bounded number of partners likely to score well: same
    language and a nearby working-hour band (most of the score), shared interests,
    a complementary mentor or mentee, and a few at random so the graph stays connected.
    """
    n = problem.n
    bands = [_band(c.hours) for c in problem.members]
    by_time: dict[tuple[int, int], list[int]] = {}
    by_language: dict[int, list[int]] = {}
    by_interest: dict[int, list[int]] = {}
    mentors: dict[int, list[int]] = {}
    mentees: dict[int, list[int]] = {}
    for i in range(n):
        for language in _bits(problem.language_bits[i]):
            by_time.setdefault((language, bands[i]), []).append(i)
            by_language.setdefault(language, []).append(i)
            if problem.mentor[i]:
                mentors.setdefault(language, []).append(i)
            if problem.mentee[i]:
                mentees.setdefault(language, []).append(i)
        for interest in problem.interests[i]:
            by_interest.setdefault(interest, []).append(i)
    interests = [sorted(s) for s in problem.interests]
    time_share = CANDIDATES_PER_MEMBER * 6 // 10
    interest_share = CANDIDATES_PER_MEMBER * 3 // 10
    random_share = CANDIDATES_PER_MEMBER - time_share - interest_share
    # Members with the same languages and band draw from the same pools: build them once.
    pools: dict[tuple[int, int], tuple[list[int], list[int], list[int], list[int]]] = {}
    draw = rng.random
    for i in range(n):
        key = (problem.language_bits[i], bands[i])
        if key not in pools:
            languages = _bits(key[0])
            pools[key] = (
                [
                    j
                    for language in languages
                    for step in (-1, 0, 1)
                    for j in by_time.get((language, (key[1] + step) % HOUR_BANDS), ())
                ],
                [j for language in languages for j in by_language[language]],
                [j for language in languages for j in mentors.get(language, ())],
                [j for language in languages for j in mentees.get(language, ())],
            )
        near, same_language, mentor_pool, mentee_pool = pools[key]
        proposals = _pick(near, time_share, draw) + _pick(same_language, random_share, draw)
        for _ in range(interest_share if interests[i] else 0):
            pool = by_interest[interests[i][int(draw() * len(interests[i]))]]
            proposals.append(pool[int(draw() * len(pool))])
        if problem.mentee[i]:
            proposals += _pick(mentor_pool, 3, draw)
        if problem.mentor[i]:
            proposals += _pick(mentee_pool, 3, draw)
        # A pair proposed from both sides is added twice; duplicates are harmless.
        for j in sorted(set(proposals)):
            graph.add(i, j)


def _pick(pool: list[int], count: int, draw: Callable[[], float]) -> list[int]:
    """`count` members drawn uniformly, with replacement, from the pool."""
    size = len(pool)
    return [pool[int(draw() * size)] for _ in range(count)] if size else []


def _band(hours: tuple[tuple[int, int], ...]) -> int:
    """The two-hour band of the day around which the member works (circular mean)."""
    x = y = 0.0
    for start, end in hours:
        angle = 2 * math.pi * (((start + end) / 2) % 1440) / 1440
        x += (end - start) * math.cos(angle)
        y += (end - start) * math.sin(angle)
    minute = (math.atan2(y, x) / (2 * math.pi) * 1440) % 1440
    return int(minute // (1440 / HOUR_BANDS)) % HOUR_BANDS


def _bits(value: int) -> list[int]:
    return [1 << k for k in range(value.bit_length()) if value >> k & 1]


# --- Matching: greedy, then augmenting paths ----------------------------------------------


def _greedy(problem: _Problem, graph: _Graph) -> list[int]:
    """Never-met pairs by descending score, each taken when both members are free."""
    mate = [-1] * problem.n
    edges = graph.fresh_edges
    score = problem.fresh_score
    weights = [score(i, j) for i, j in edges]
    for k in sorted(range(len(edges)), key=weights.__getitem__, reverse=True):
        i, j = edges[k]
        if mate[i] < 0 and mate[j] < 0:
            mate[i], mate[j] = j, i
    return mate


def _augment(graph: _Graph, mate: list[int]) -> None:
    """Place as many members as the candidate pairs allow (rules 3 and 4).

    First on never-met pairs only, then letting in past pairs from the oldest round to the
    most recent, so a repeat appears only when it places more members. A member with no
    augmenting path stays without one after later augmentations on the same graph (Edmonds),
    so each member is searched from once per graph.
    """
    unmatched = [u for u in range(len(mate)) if mate[u] < 0]
    if len(unmatched) < 2:
        return  # an augmenting path joins two unmatched members
    _augment_from(unmatched, graph.neighbours(None), mate)
    ages = graph.ages()
    if not ages:
        return
    # Searching every tier from a member no past pair can help is the expensive case, so
    # first find out, on all pairs at once, who can still be placed at all.
    everything = graph.neighbours(ages[-1])
    hopeful = [u for u in unmatched if mate[u] < 0 and _augmenting_path(u, everything, mate)]
    for min_age in ages:
        if len(hopeful) < 1 or sum(1 for u in unmatched if mate[u] < 0) < 2:
            return
        _augment_from(hopeful, graph.neighbours(min_age), mate)
        hopeful = [u for u in hopeful if mate[u] < 0]


def _augment_from(
    roots: list[int], neighbours: Callable[[int], Iterable[int]], mate: list[int]
) -> None:
    for root in roots:
        if mate[root] < 0:
            path = _simple_augmenting_path(root, neighbours, mate)
            if path is None:
                path = _augmenting_path(root, neighbours, mate)
            for v, w in path or ():
                mate[v], mate[w] = w, v


def _simple_augmenting_path(
    root: int, neighbours: Callable[[int], Iterable[int]], mate: list[int]
) -> list[tuple[int, int]] | None:
    """An alternating breadth-first search that visits each member once: cheap, and it finds
    a path in nearly every case on these dense graphs, but it can miss one hidden behind an
    odd cycle (a blossom), so a None only means "ask Edmonds".
    """
    parent: dict[int, int] = {}
    seen = {root}
    queue = [root]
    head = 0
    while head < len(queue):
        v = queue[head]
        head += 1
        for to in neighbours(v):
            if to in seen:
                continue
            if mate[to] < 0:
                parent[to] = v
                pairs = []
                x = to
                while x >= 0:
                    pairs.append((x, parent[x]))
                    x = mate[parent[x]]
                return pairs
            if mate[to] in seen:
                continue
            parent[to] = v
            seen.add(to)
            seen.add(mate[to])
            queue.append(mate[to])
    return None


def _augmenting_path(
    root: int, neighbours: Callable[[int], Iterable[int]], mate: list[int]
) -> list[tuple[int, int]] | None:
    """Edmonds' blossom search from an unmatched root: the pairs to match along a shortest
    alternating path to another unmatched member, or None when there is none.

    State lives in dicts, so a search costs what it explores, not the size of the community.
    """
    base: dict[int, int] = {}
    parent: dict[int, int] = {}
    used = {root}
    tree = [root]
    queue = [root]

    def base_of(x: int) -> int:
        return base.get(x, x)

    def common_base(a: int, b: int) -> int:
        seen = set()
        while True:
            a = base_of(a)
            seen.add(a)
            if mate[a] < 0:
                break
            a = parent[mate[a]]
        while True:
            b = base_of(b)
            if b in seen:
                return b
            b = parent[mate[b]]

    def mark_path(v: int, stem: int, child: int, blossom: set[int]) -> None:
        while base_of(v) != stem:
            blossom.add(base_of(v))
            blossom.add(base_of(mate[v]))
            parent[v] = child
            child = mate[v]
            v = parent[mate[v]]

    head = 0
    while head < len(queue):
        v = queue[head]
        head += 1
        for to in neighbours(v):
            if base_of(v) == base_of(to) or mate[v] == to:
                continue
            if to == root or (mate[to] >= 0 and mate[to] in parent):
                stem = common_base(v, to)
                blossom: set[int] = set()
                mark_path(v, stem, to, blossom)
                mark_path(to, stem, v, blossom)
                for x in tree:
                    if base_of(x) in blossom:
                        base[x] = stem
                        if x not in used:
                            used.add(x)
                            queue.append(x)
            elif to not in parent:
                parent[to] = v
                tree.append(to)
                if mate[to] < 0:
                    pairs = []
                    x = to
                    while x >= 0:
                        pairs.append((x, parent[x]))
                        x = mate[parent[x]]
                    return pairs
                used.add(mate[to])
                tree.append(mate[to])
                queue.append(mate[to])
    return None


# --- Local improvement and the trio --------------------------------------------------------


def _improve(problem: _Problem, graph: _Graph, mate: list[int], *, budget: int) -> None:
    """2-opt: swap partners between two pairs (a, b), (c, d) when (a, c), (b, d) or
    (a, d), (b, c) score more. Repeat penalties are in the weights, so a swap never adds
    a repeat; it keeps the matched set, so rules 1 to 3 hold throughout.
    """
    weight = problem.weight
    current = [-1.0] * problem.n  # the score of each member's pair, kept up to date
    for a in range(problem.n):
        if a < mate[a]:
            current[a] = current[mate[a]] = weight(a, mate[a]) or 0.0
    improved = True
    while improved and budget > 0:
        improved = False
        for a in range(problem.n):
            if budget <= 0:
                return
            b = mate[a]
            if b < 0:
                continue
            for c in graph.fresh[a] + [j for j, _ in graph.past[a]]:
                d = mate[c]
                if d < 0 or c == b:
                    continue
                budget -= 1
                now = current[a] + current[c]
                if _swap(a, b, c, d, now, weight, mate, current):
                    improved = True
                    break


def _swap(
    a: int,
    b: int,
    c: int,
    d: int,
    now: float,
    weight: Callable[[int, int], float | None],
    mate: list[int],
    current: list[float],
) -> bool:
    """Re-pair (a, b), (c, d) as (a, c), (b, d) or (a, d), (b, c) if that scores more."""
    for x, y in ((c, d), (d, c)):
        w1 = weight(a, x)
        if w1 is None:
            continue
        w2 = weight(b, y)
        if w2 is not None and w1 + w2 > now + 1e-9:
            mate[a], mate[x], mate[b], mate[y] = x, a, y, b
            current[a] = current[x] = w1
            current[b] = current[y] = w2
            return True
    return False


def _make_trio(problem: _Problem, graph: _Graph, mate: list[int]) -> tuple[int, int, int] | None:
    """Absorb one unmatched member into a pair, where it adds the most (rule 3).

    Tries the unmatched members' pairs first; when none fits and the community is small,
    tries every triangle, rebuilding the matching of the others around it.
    """
    unmatched = [u for u in range(problem.n) if mate[u] < 0]
    if not unmatched or problem.n < 3:
        return None
    weight = problem.weight
    best: tuple[float, int, int, int] | None = None
    for u in unmatched:
        graph.add_all_valid_pairs(u)
        for v in graph.fresh[u] + [j for j, _ in graph.past[u]]:
            w = mate[v]
            if w < 0 or not problem.valid(u, w):
                continue
            gain = (weight(u, v) or 0.0) + (weight(u, w) or 0.0)
            if best is None or gain > best[0]:
                best = (gain, u, v, w)
    small = problem.n <= TRIO_EXACT_LIMIT
    # A trio with a repeat is a last resort: a trio of strangers may exist elsewhere.
    if small and (best is None or best[0] < -REPEAT_PENALTY / 2):
        trio = _trio_by_triangles(problem, mate, fresh_only=True)
        if trio is not None:
            return trio
    if best is not None:
        _, u, v, w = best
        mate[v] = mate[w] = -1
        return (u, v, w)
    return _trio_by_triangles(problem, mate, fresh_only=False) if small else None


def _trio_by_triangles(
    problem: _Problem, mate: list[int], *, fresh_only: bool
) -> tuple[int, int, int] | None:
    """A triangle whose removal leaves a matching at most one pair smaller (so one more
    member is placed), with the matching of the others rebuilt; on never-met pairs only if
    `fresh_only`. Small communities only: every triangle costs a matching.
    """
    pairs = sum(1 for v in mate if v >= 0) // 2
    graph = _Graph(problem)
    for i, j in combinations(range(problem.n), 2):
        if not (fresh_only and problem.rounds_ago(i, j)):
            graph.add(i, j)
    adjacent = [set(graph.fresh[i]) | {j for j, _ in graph.past[i]} for i in range(problem.n)]
    for a, b, c in combinations(range(problem.n), 3):
        if b not in adjacent[a] or c not in adjacent[a] or c not in adjacent[b]:
            continue
        rest = [-1] * problem.n
        for x in (a, b, c):
            rest[x] = -2  # out of the matching: no neighbour will reach it
        _augment_without(graph, rest, {a, b, c})
        if sum(1 for v in rest if v >= 0) // 2 >= pairs - 1:
            mate[:] = [v if v >= 0 else -1 for v in rest]
            return (a, b, c)
    return None


def _augment_without(graph: _Graph, mate: list[int], removed: set[int]) -> None:
    """A maximum matching of the graph without `removed` (whose mate is -2)."""
    tiers: list[int | None] = [None, *graph.ages()]
    for min_age in tiers:
        full = graph.neighbours(min_age)

        def neighbours(v: int, full: Callable[[int], Iterable[int]] = full) -> list[int]:
            return [w for w in full(v) if w not in removed]

        for root in range(len(mate)):
            if mate[root] == -1:
                path = _augmenting_path(root, neighbours, mate)
                for v, w in path or ():
                    mate[v], mate[w] = w, v


# --- The result ---------------------------------------------------------------------------


def _result(problem: _Problem, mate: list[int], trio: tuple[int, int, int] | None) -> Result:
    groups: list[tuple[int, ...]] = [(i, mate[i]) for i in range(problem.n) if i < mate[i]]
    if trio is not None:
        groups.append(trio)
    placed = {i for group in groups for i in group}
    out = []
    for group in groups:
        breakdown: dict[str, float] = {}
        for i, j in combinations(group, 2):
            for key, value in zip(PARTS, problem.parts(i, j), strict=True):
                breakdown[key] = breakdown.get(key, 0.0) + value
        members = tuple(sorted(problem.ids[i] for i in group))
        out.append(Group(members=members, score=sum(breakdown.values()), breakdown=breakdown))
    out.sort(key=lambda g: g.members)
    unmatched = [problem.ids[i] for i in range(problem.n) if i not in placed]
    return Result(groups=out, unmatched=unmatched, total_score=sum(g.score for g in out))
