"""The coffee-pair solver: members who opted in are paired two by two, with one trio when
the count is odd. A pure module (standard library only) so it is tested and benchmarked alone;
`docs/matching.md` explains the algorithm and how each rule is guaranteed.

Contract of `solve`:

1. no group holds a blocked pair (a trio counts as three pairs);
2. every pair in a group shares a language;
3. every member is in exactly one group or in `unmatched`; groups have two members, and at
   most one has three (made only to absorb a member who would otherwise stay unmatched).
   Up to `FULL_GRAPH_LIMIT` members every valid pair is considered and as many members as
   possible are placed: a maximum matching (augmenting paths), then a trio whenever one
   places one member more (every triangle through a member some maximum matching leaves
   out). Above it, candidates are sampled, and the members left unmatched have every valid
   pair of theirs added before the augmenting-path repair;
4. pairs are let in by tiers, each used only when the tiers before cannot place as many
   members: never-met pairs whose working hours overlap, then never-met pairs with no common
   hour, then pairs that met before, the oldest first. Up to `FULL_GRAPH_LIMIT` members:
   when a tier's pairs alone can place as many members as all valid pairs can (trio
   included), every group lies in that tier;
5. the trio goes to members who have been in fewer trios (`trio_counts`): the result's trio
   minimises the largest count among its members over the trios that place as many;
6. when someone must be left out, members in `priority` (those left out last time) take
   the place of another member in a pair where a partner of theirs allows it, with a pair
   of the same tier or an earlier one;
7. small tables (`table_size=4`): the pairs so made are joined two by two into tables of
   four whose six pairs are all valid, as many as a matching of the pairs allows, never-met
   ones first; a pair left over joins the two pairs of a table as two trios where it can
   (else it stays a pair), and the trio stays a table of three. Rules 1 and 2 hold for
   every pair at a table; rule 3 (as many placed as possible) holds as for pairs;
8. the end of the strangers (pairs, up to `FULL_GRAPH_LIMIT`, even counts): when nobody has more
   than `ENDGAME_PARTNERS` never-met partners left and they pair everyone, the round's
   pairing leaves never-met pairs that pair everyone again for as many rounds as the fewest
   left to anyone allow, whenever a search bounded by `ENDGAME_STEPS` finds such a run:
   everyone meets everyone they may before a first repeat.

The same input and seed give the same result whatever the order of `candidates`; the work
is bounded by counts, never by the clock, so a slower machine does not change the answer.
"""

from __future__ import annotations

import gc
import math
import random
from array import array
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations, starmap
from operator import lt
from types import MappingProxyType

WEEK_MINUTES = 7 * 24 * 60
FULL_HOURS_MINUTES = 40 * 60  # an overlap of a 40-hour week scores 1
FULL_GRAPH_LIMIT = 300  # up to this many members, every valid pair is a candidate
CANDIDATES_PER_MEMBER = 16  # sampled pairs proposed by each member above FULL_GRAPH_LIMIT
# Local search, counted, never timed, so the answer does not depend on the machine. Up to
# FULL_GRAPH_LIMIT members: alternating cycles of up to CYCLE_DEPTH pairs, at most
# CYCLE_BREADTH[k] partners followed at the k-th step, CYCLE_STEPS_PER_MEMBER partners
# looked at per member in all (300 members converge on 35-55 % of it, at 99.7-99.8 % of the
# exact optimum, in the time 2-opt took to reach 98.2-98.6 %). Above: a thin layer of
# 2-opt, where time is short. Tables of four swap seats SWAPS_PER_MEMBER times a member.
CYCLE_DEPTH = 6
CYCLE_BREADTH = (8, 5, 3, 2, 1, 1)
CYCLE_STEPS_PER_MEMBER = 1_000
SWAPS_PER_MEMBER = 400
SWAPS_AT_SCALE = 30_000
SWAPS_PER_MEMBER_AT_SCALE = 2
# A repeat costs more than any pair can score (at most ~3), so no score gain ever buys one;
# the part that shrinks with age makes an older repeat cheaper than a recent one.
REPEAT_PENALTY = 100.0
# A pair with no common working hour costs more than any swap of two pairs can gain (~6),
# and much less than a repeat: strangers who cannot meet in working hours come before a
# repeat, never before strangers who can.
APART_PENALTY = 10.0
PARTS = ("overlap", "interests", "mentoring", "random", "apart_penalty", "repeat_penalty")
# Triangles whose removal is tested when the trio needs the matching rebuilt around it,
# per member: enough for every sparse case (few triangles) and every dense one (the first
# test succeeds); a count, so the answer does not depend on the machine.
TRIO_TESTS_PER_MEMBER = 20
# Above FULL_GRAPH_LIMIT, how many other pairs a pair may be joined with at a table of four:
# the first ones found through its members' candidate partners (bounds the work at scale).
TABLE_LINKS_AT_SCALE = 6
HOUR_BANDS = 12  # two-hour bands of the working day, for sampling candidates
# Up to this many distinct working weeks in a community, the common minutes of every two
# are counted once, into a table (at most 2 MB): a lookup per pair instead of an AND and a
# popcount of two 10,080-bit ints. Above it (everyone with a week of their own), per pair.
WEEK_TABLE_LIMIT = 1_024
# The end of the strangers (rule 8): when every member has at most this many never-met
# partners left, the round's pairing is chosen so that the ones left still pair everyone
# in the rounds after, as long as they last. Pairings searched for, by pairs tried: a
# count, so the answer does not depend on the machine.
ENDGAME_PARTNERS = 6
ENDGAME_STEPS = 5_000
# The search goes one call deeper per pair placed (n / 2 a round): it plans no more rounds
# than keep it this deep, well within Python's recursion limit (1,000) and its caller's.
ENDGAME_DEPTH = 600

_NO_HISTORY: Mapping[tuple[int, int], int] = MappingProxyType({})
_NO_COUNTS: Mapping[int, int] = MappingProxyType({})
_MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class Candidate:
    id: int
    languages: frozenset[str]  # ISO codes, e.g. {"es", "en"}; hashed (sets worked out once)
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
    trio_counts: Mapping[int, int] = _NO_COUNTS,
    priority: Collection[int] = (),
    table_size: int = 2,
    settings: Settings,
) -> Result:
    """Pair the candidates for one round (see the module docstring for the guarantees).

    `blocked` holds pairs (either order) that must never meet; `history` maps pairs (either
    order) that met before to how many rounds ago (1 = last round); `trio_counts` maps
    members to how many trios they were in; `priority` names members to place first (left
    out last round). With `table_size` 4, the pairs are then joined two by two into small
    tables (rule 7). Pairs or members naming unknown ids are ignored.
    Raises ValueError on duplicate ids, hours outside the week or a table size not 2 or 4.
    The process's cycle collector is paused while it runs (and put back as it was).
    """
    if table_size not in (2, 4):
        raise ValueError(f"table size {table_size} is not 2 or 4")
    # The solve makes millions of small lists and tuples that live until it returns: the
    # cycle collector's passes over them, and over the caller's history of a million pairs,
    # freed nothing and took 5 % of a solve at 100,000 members. The few cycles a solve leaves
    # (`_improve_cycles`'s recursive helper) are collected once it is back on, as are those a
    # web process makes meanwhile when it solves itself (the admin's preview, the embedded
    # scheduler): a pause of a solve's few seconds.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _solve(candidates, blocked, history, trio_counts, priority, table_size, settings)
    finally:
        if collecting:
            gc.enable()


def _solve(
    candidates: Sequence[Candidate],
    blocked: Collection[tuple[int, int]],
    history: Mapping[tuple[int, int], int],
    trio_counts: Mapping[int, int],
    priority: Collection[int],
    table_size: int,
    settings: Settings,
) -> Result:
    problem = _Problem(candidates, blocked, history, trio_counts, priority, settings)
    graph = _candidate_graph(problem)
    mate = _greedy(problem, graph)
    tiers = graph.tiers()
    fresh_tiers = 2  # never-met pairs that overlap, then all never-met pairs
    parts = _Parts(problem, graph, mate)
    _augment(problem, tiers[:fresh_tiers], mate, lonely=parts.lonely(mate))
    if problem.n > FULL_GRAPH_LIMIT:
        # Whoever sampling left out gets every valid pair of theirs, then a second repair,
        # still on never-met pairs: a repeat only once strangers are exhausted for them.
        left_out = [u for u in range(problem.n) if mate[u] < 0 and problem.has_partner[u]]
        if len(left_out) > 1:
            for u in left_out:
                graph.add_all_valid_pairs(u)
                parts.joined(u, graph.adjacent(u))
            tiers = graph.tiers()
            _augment(problem, tiers[:fresh_tiers], mate, lonely=parts.lonely(mate))
    _augment(problem, tiers, mate, skip=fresh_tiers, lonely=parts.lonely(mate))
    if problem.n <= FULL_GRAPH_LIMIT:
        _improve_cycles(problem, graph, mate, budget=CYCLE_STEPS_PER_MEMBER * problem.n)
    elif table_size == 2:
        # At scale, tables of four are improved by their own swaps (`_improve_tables`),
        # which reseat members whatever pairs they came from: a 2-opt of the pairs first
        # would cost as much again for little.
        budget = SWAPS_AT_SCALE + SWAPS_PER_MEMBER_AT_SCALE * problem.n
        _improve(problem, graph, mate, budget=budget)
    if table_size == 2:  # tables of four regroup the pairs: a plan of pairings would not hold
        _look_ahead(problem, graph, mate)
    _prefer(problem, graph, mate)
    trio = _make_trio(problem, graph, mate)
    groups: list[tuple[int, ...]] = [(i, mate[i]) for i in range(problem.n) if i < mate[i]]
    if table_size == 4:
        groups = _tables(problem, graph, groups)
    if trio is not None:
        groups.append(trio)
    return _result(problem, groups)


# --- The problem: members by index, validity and scores --------------------------------


class _Problem:
    """Members sorted by id and indexed 0..n-1, with what scoring a pair needs precomputed."""

    def __init__(
        self,
        candidates: Sequence[Candidate],
        blocked: Collection[tuple[int, int]],
        history: Mapping[tuple[int, int], int],
        trio_counts: Mapping[int, int],
        priority: Collection[int],
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
        index = {member_id: i for i, member_id in enumerate(self.ids)}
        # Pairs that met as (smaller id, larger id): rounds ago, the form
        # matching.services.pair_history gives; any other order is copied once into it (the
        # more recent meeting wins), so that the hot path looks a pair up once.
        self.history = history
        if not all(starmap(lt, history)):  # a million keys: compared in C
            normal: dict[tuple[int, int], int] = {}
            for (a, b), ago in history.items():
                key = (a, b) if a < b else (b, a)
                if a != b and (key not in normal or ago < normal[key]):
                    normal[key] = ago
            self.history = normal
        # Sorted, so that bit numbers (and sampling) do not depend on string hashing. Only
        # languages two or more members speak: one nobody else speaks pairs nobody, and a
        # bit each for 80,000 such languages made masks of up to 10 KB per member.
        spoken = Counter(code for c in self.members for code in c.languages)
        codes = sorted(code for code, count in spoken.items() if count > 1)
        number = {code: k for k, code in enumerate(codes)}
        # Numbers for the pools, a bitmask for validity (one `&` a pair).
        # Worked out once per distinct set of languages (a few dozen in most communities).
        numbered = {
            spoken_set: tuple(sorted(number[code] for code in spoken_set if code in number))
            for spoken_set in {c.languages for c in self.members}
        }
        self.languages = [numbered[c.languages] for c in self.members]
        masks = {numbers: sum(1 << k for k in numbers) for numbers in numbered.values()}
        self.language_bits = [masks[numbers] for numbers in self.languages]
        # Identical weeks share a number and one mask.
        weeks: dict[tuple[tuple[int, int], ...], int] = {}
        week_numbers = [weeks.setdefault(c.hours, len(weeks)) for c in self.members]
        self.week_hours = list(weeks)  # by number
        week_masks = [_hours_mask(hours) for hours in self.week_hours]
        self.hours = [week_masks[number] for number in week_numbers]
        self.weeks = len(weeks)
        # Small per-member numbers the hot path reads, as flat arrays (4 bytes or 1 a member
        # rather than a pointer to an int object).
        self.week = array("i", week_numbers)
        # Only where the pairs to weigh outnumber the table's cells (a large community):
        # 1,024 weeks take half a second to tabulate, more than 1,000 members' pairs cost.
        tabulate = (
            self.weeks <= WEEK_TABLE_LIMIT and self.weeks**2 <= CANDIDATES_PER_MEMBER * self.n
        )
        self.week_overlaps = _overlap_table(week_masks) if tabulate else None
        self.interests = [c.interests for c in self.members]
        # Interests as bits, for the hot path: only those two or more members hold (one
        # nobody else holds is never shared), the most held first (the smallest ints).
        held = Counter(interest for c in self.members for interest in c.interests)
        bit = {interest: k for k, (interest, count) in enumerate(held.most_common()) if count > 1}
        self.interest_bits = [
            sum(1 << bit[interest] for interest in c.interests if interest in bit)
            for c in self.members
        ]
        self.interest_counts = array("i", [len(c.interests) for c in self.members])
        self.mentor = [c.mentor for c in self.members]
        self.mentee = [c.mentee for c in self.members]
        # Mentoring as bits (1 mentors, 2 is mentored), and the bits a member looks for in
        # a partner: a pair is complementary when one's role meets what the other seeks.
        self.role = array("b", [c.mentor | c.mentee << 1 for c in self.members])
        self.seeks = array("b", [c.mentee | c.mentor << 1 for c in self.members])
        self.interest_weight = settings.interest_weight
        self.mentoring_weight = settings.mentoring_weight
        self.randomness = settings.randomness
        self.trios = [trio_counts.get(member_id, 0) for member_id in self.ids]
        first = set(priority)
        self.priority = [member_id in first for member_id in self.ids]
        self.blocked: dict[int, set[int]] = {}
        for a, b in blocked:
            if a in index and b in index and a != b:
                self.blocked.setdefault(index[a], set()).add(index[b])
                self.blocked.setdefault(index[b], set()).add(index[a])
        # Who shares a language with whom, by language: every valid partner of a member is
        # in the pools of its languages, so nothing needs to scan the whole community.
        self.speakers: dict[int, list[int]] = {}
        for i, numbers in enumerate(self.languages):
            for language in numbers:
                self.speakers.setdefault(language, []).append(i)
        self.has_partner = [self._has_partner(i) for i in range(self.n)]
        self._cache: dict[int, float | None] = {}

    def _has_partner(self, i: int) -> bool:
        """Whether any valid pair of i exists: linear in the community overall, since a
        member looks past the first few speakers of its languages only when it blocked
        (or was blocked by) them."""
        blocked = self.blocked.get(i, ())
        for language in self.languages[i]:
            for j in self.speakers[language]:
                if j != i and j not in blocked:
                    return True
        return False

    def partners(self, i: int) -> Iterable[int]:
        """Every member sharing a language with i (some twice), for `valid` to filter."""
        for language in self.languages[i]:
            yield from self.speakers[language]

    def valid(self, i: int, j: int) -> bool:
        """Rules 1 and 2: a shared language and no block."""
        return (
            i != j
            and self.language_bits[i] & self.language_bits[j] != 0
            and j not in self.blocked.get(i, ())
        )

    def apart(self, i: int, j: int) -> bool:
        """No common working minute in the week."""
        return self.overlap(i, j) == 0

    def overlap(self, i: int, j: int) -> int:
        """Their common working minutes in the week."""
        table = self.week_overlaps
        if table is None:
            return (self.hours[i] & self.hours[j]).bit_count()
        return table[self.week[i] * self.weeks + self.week[j]]

    def rounds_ago(self, i: int, j: int) -> int | None:
        # Members are sorted by id: the smaller index has the smaller id.
        ids = self.ids
        ago = self.history.get((ids[i], ids[j]) if i < j else (ids[j], ids[i]))
        return None if ago is None else max(1, ago)

    def parts(self, i: int, j: int) -> tuple[float, ...]:
        """The parts of a pair's score, in the order of `PARTS`; they sum to the score."""
        s = self.settings
        overlap = self.overlap(i, j)
        shared = len(self.interests[i] & self.interests[j])
        union = len(self.interests[i]) + len(self.interests[j]) - shared
        complementary = (self.mentor[i] and self.mentee[j]) or (self.mentee[i] and self.mentor[j])
        ago = self.rounds_ago(i, j)
        return (
            s.overlap_weight * min(1.0, overlap / FULL_HOURS_MINUTES),
            s.interest_weight * (shared / union if union else 0.0),
            s.mentoring_weight if complementary else 0.0,
            s.randomness * _noise(s.seed, self.ids[i], self.ids[j]),
            0.0 if overlap else -APART_PENALTY,
            0.0 if ago is None else -REPEAT_PENALTY * (1 + 1 / ago),
        )

    def fresh_score(self, i: int, j: int, overlap: int | None = None) -> float:
        """`sum(parts(i, j))` for a pair that never met: the hot path, written out flat (and
        again in `_Graph.add_many`; a test holds both to `parts`).
        `overlap`: their common working minutes, when already counted."""
        if overlap is None:
            table = self.week_overlaps
            if table is None:
                overlap = (self.hours[i] & self.hours[j]).bit_count()
            else:
                overlap = table[self.week[i] * self.weeks + self.week[j]]
        if overlap:
            score = self.overlap_unit * (
                overlap if overlap < FULL_HOURS_MINUTES else FULL_HOURS_MINUTES
            )
        else:
            score = -APART_PENALTY
        shared = (self.interest_bits[i] & self.interest_bits[j]).bit_count()
        if shared:
            score += (
                self.interest_weight
                * shared
                / (self.interest_counts[i] + self.interest_counts[j] - shared)
            )
        if self.role[i] & self.seeks[j]:
            score += self.mentoring_weight
        # `_noise(self.seed, a, b)` written out: the hot path.
        a, b = self.ids[i], self.ids[j]
        noise = ((hash((a + b, a * b, self.seed)) & _MASK64) >> 11) / 9007199254740992.0
        return score + self.randomness * noise

    def weight(self, i: int, j: int) -> float | None:
        """The pair's score (penalties included), or None when the pair is not valid.

        Cached only for small communities: at scale the cache would outgrow the graph.
        """
        cached = self.n <= FULL_GRAPH_LIMIT
        if cached:
            key = i * self.n + j if i < j else j * self.n + i
            if key in self._cache:
                return self._cache[key]
        w = None
        if self.valid(i, j):
            # `rounds_ago` written out: the local improvement's hot path.
            ids = self.ids
            ago = self.history.get((ids[i], ids[j]) if i < j else (ids[j], ids[i]))
            w = self.fresh_score(i, j)
            if ago is not None:
                w -= REPEAT_PENALTY * (1 + 1 / max(1, ago))
        if cached:
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


def _overlap_table(masks: list[int]) -> array:
    """The common minutes of every two weeks, row by row: `table[a * len(masks) + b]`."""
    size = len(masks)
    table = array("H", bytes(2 * size * size))
    for a, mask in enumerate(masks):
        for b in range(a, size):
            table[a * size + b] = table[b * size + a] = (mask & masks[b]).bit_count()
    return table


def _noise(seed: int, a: int, b: int) -> float:
    """A value in [0, 1) fixed by the seed and the pair (either order): the top 53 bits of
    Python's hash of a tuple of ints (xxHash's mixing, and never salted: only strings and
    bytes are). A seeded generator per pair costs many times more, and a multiply-xorshift on
    Python's big ints took 1 µs a pair, 2 s of a solve at 100,000 members. Written out again
    in `_Problem.fresh_score`."""
    return ((hash((a + b, a * b, seed)) & _MASK64) >> 11) / 9007199254740992.0  # 2**53


# --- Candidate pairs ---------------------------------------------------------------------


class _Graph:
    """Candidate pairs as adjacency lists, by tier: never-met pairs whose hours overlap
    (`near`), never-met pairs with no common hour (`apart`), and pairs that met before
    (`past`, with how many rounds ago). A neighbour may appear twice; every algorithm here
    tolerates it.
    """

    def __init__(self, problem: _Problem) -> None:
        self.problem = problem
        self.near: list[list[int]] = [[] for _ in range(problem.n)]
        self.apart: list[list[int]] = [[] for _ in range(problem.n)]
        self.past: list[list[tuple[int, int]]] = [[] for _ in range(problem.n)]
        # The near pairs once each, as two arrays of members (at 100,000 members, 1.4
        # million pairs: 11 MB here, about 100 MB as a list of tuples), and the score of each
        # (single precision: it only orders the greedy step, and takes half the memory).
        self.near_from = array("i")
        self.near_to = array("i")
        self.near_scores = array("f")
        # The greedy step is their only reader: pairs added after it (for whoever sampling
        # left out) are neither listed nor scored here.
        self.listing = True
        self._complete: set[int] = set()

    def add_many(self, i: int, partners: Iterable[int]) -> None:
        """Add the valid pairs of i with `partners`, each to its tier: `valid`,
        `rounds_ago` and the common minutes written out with what they read bound once
        (the hot path at scale: about 20 partners a member)."""
        problem = self.problem
        bits, hours, ids, history, week, table = (
            problem.language_bits,
            problem.hours,
            problem.ids,
            problem.history,
            problem.week,
            problem.week_overlaps,
        )
        bits_i, hours_i, id_i = bits[i], hours[i], ids[i]
        row = week[i] * problem.weeks
        blocked_i = problem.blocked.get(i, ())
        near, apart, past = self.near, self.apart, self.past
        listing = self.listing
        # `fresh_score` written out once more, with what it reads of i and of the problem
        # bound here: the graph scores every near pair it finds (1.4 million at 100,000
        # members), so a call and a dozen lookups per pair are worth saving.
        unit, seed, randomness = problem.overlap_unit, problem.seed, problem.randomness
        interest_weight, mentoring_weight = problem.interest_weight, problem.mentoring_weight
        interest_bits, interest_counts, seeks = (
            problem.interest_bits,
            problem.interest_counts,
            problem.seeks,
        )
        interests_i, count_i, role_i = interest_bits[i], interest_counts[i], problem.role[i]
        from_, to, scores = self.near_from, self.near_to, self.near_scores
        for j in partners:
            if j == i or not bits_i & bits[j] or j in blocked_i:
                continue
            # Members are sorted by id: the smaller index has the smaller id.
            ago = history.get((id_i, ids[j]) if i < j else (ids[j], id_i))
            if ago is not None:
                ago = max(1, ago)
                past[i].append((j, ago))
                past[j].append((i, ago))
                continue
            overlap = (
                table[row + week[j]] if table is not None else (hours_i & hours[j]).bit_count()
            )
            if not overlap:
                apart[i].append(j)
                apart[j].append(i)
            else:
                near[i].append(j)
                near[j].append(i)
                if listing:
                    from_.append(i)
                    to.append(j)
                    weight = unit * (
                        overlap if overlap < FULL_HOURS_MINUTES else FULL_HOURS_MINUTES
                    )
                    shared = (interests_i & interest_bits[j]).bit_count()
                    if shared:
                        weight += interest_weight * shared / (count_i + interest_counts[j] - shared)
                    if role_i & seeks[j]:
                        weight += mentoring_weight
                    id_j = ids[j]
                    noise = hash((id_i + id_j, id_i * id_j, seed)) & _MASK64
                    scores.append(weight + randomness * ((noise >> 11) / 9007199254740992.0))

    def add_all_valid_pairs(self, i: int) -> None:
        """Every valid pair of i, so i's fate does not depend on sampling."""
        if i in self._complete:
            return
        self._complete.add(i)
        known = set(self.adjacent(i))
        known.add(i)
        added = []
        for j in self.problem.partners(i):
            if j not in known and j not in self._complete:
                known.add(j)
                added.append(j)
        self.add_many(i, added)

    def adjacent(self, v: int) -> list[int]:
        """Every candidate partner of v, whatever the tier."""
        return self.near[v] + self.apart[v] + [j for j, _ in self.past[v]]

    def ages(self) -> list[int]:
        """How many rounds ago past pairs met, the oldest first."""
        return sorted({ago for pairs in self.past for _, ago in pairs}, reverse=True)

    def tiers(self) -> list[Callable[[int], list[int]]]:
        """Neighbours by tier, each tier holding the ones before it: overlapping strangers;
        all strangers; then also the pairs met at least so many rounds ago, oldest first."""
        near, apart, past = self.near, self.apart, self.past

        def fresh(v: int) -> list[int]:
            return near[v] + apart[v]

        def met_since(min_age: int) -> Callable[[int], list[int]]:
            return lambda v: near[v] + apart[v] + [j for j, ago in past[v] if ago >= min_age]

        return [near.__getitem__, fresh, *(met_since(age) for age in self.ages())]

    def tier_of(self, i: int, j: int, ages: list[int]) -> int:
        """The first tier holding the pair (i, j), `ages` as `ages()` gives them."""
        ago = self.problem.rounds_ago(i, j)
        if ago is not None:
            return 2 + ages.index(ago)
        return 1 if self.problem.apart(i, j) else 0


def _candidate_graph(problem: _Problem) -> _Graph:
    graph = _Graph(problem)
    if problem.n <= FULL_GRAPH_LIMIT:
        for i in range(problem.n):  # the pairs in `combinations` order, a member at a time
            graph.add_many(i, range(i + 1, problem.n))
    else:
        _sample_candidates(problem, graph, random.Random(problem.settings.seed))
    return graph


def _sample_candidates(problem: _Problem, graph: _Graph, rng: random.Random) -> None:
    """Each member proposes a bounded number of partners likely to score well: same
    language and a nearby working-hour band (most of the score), shared interests,
    a complementary mentor or mentee, and a few at random so the graph stays connected.
    """
    n = problem.n
    week_bands = [_band(hours) for hours in problem.week_hours]  # members share weeks
    bands = [week_bands[week] for week in problem.week]
    by_time: dict[tuple[int, int], list[int]] = {}
    by_language: dict[int, list[int]] = {}
    by_interest: dict[int, list[int]] = {}
    mentors: dict[int, list[int]] = {}
    mentees: dict[int, list[int]] = {}
    for i in range(n):
        for language in problem.languages[i]:
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
    # Members with the same languages and band draw from the same pools: build them once,
    # and what does not depend on the hours once per languages (a whole language's pool
    # once per band held 30 MB more at 100,000 members).
    near_pools: dict[tuple[tuple[int, ...], int], list[int]] = {}
    language_pools: dict[tuple[int, ...], tuple[list[int], list[int], list[int]]] = {}
    draw, floor = rng.random, math.floor
    for i in range(n):
        languages, band = problem.languages[i], bands[i]
        if (languages, band) not in near_pools:
            near_pools[(languages, band)] = [
                j
                for language in languages
                for step in (-1, 0, 1)
                for j in by_time.get((language, (band + step) % HOUR_BANDS), ())
            ]
        if languages not in language_pools:
            language_pools[languages] = (
                [j for language in languages for j in by_language[language]],
                [j for language in languages for j in mentors.get(language, ())],
                [j for language in languages for j in mentees.get(language, ())],
            )
        near = near_pools[(languages, band)]
        same_language, mentor_pool, mentee_pool = language_pools[languages]
        proposals = _pick(near, time_share, draw) + _pick(same_language, random_share, draw)
        for _ in range(interest_share if interests[i] else 0):
            pool = by_interest[interests[i][floor(draw() * len(interests[i]))]]
            proposals.append(pool[floor(draw() * len(pool))])
        if problem.mentee[i]:
            proposals += _pick(mentor_pool, 3, draw)
        if problem.mentor[i]:
            proposals += _pick(mentee_pool, 3, draw)
        # A pair proposed from both sides is added twice; duplicates are harmless.
        graph.add_many(i, sorted(set(proposals)))


def _pick(pool: list[int], count: int, draw: Callable[[], float]) -> list[int]:
    """`count` members drawn uniformly, with replacement, from the pool."""
    size, floor = len(pool), math.floor
    # `math.floor`, the same as `int` for these (non-negative) draws, is a third faster.
    return [pool[floor(draw() * size)] for _ in range(count)] if size else []


def _band(hours: tuple[tuple[int, int], ...]) -> int:
    """The two-hour band of the day around which the member works (circular mean)."""
    x = y = 0.0
    for start, end in hours:
        angle = 2 * math.pi * (((start + end) / 2) % 1440) / 1440
        x += (end - start) * math.cos(angle)
        y += (end - start) * math.sin(angle)
    minute = (math.atan2(y, x) / (2 * math.pi) * 1440) % 1440
    return int(minute // (1440 / HOUR_BANDS)) % HOUR_BANDS


# --- Matching: greedy, then augmenting paths ----------------------------------------------

Neighbours = Callable[[int], Iterable[int]]
Path = list[tuple[int, int]]


def _greedy(problem: _Problem, graph: _Graph) -> list[int]:
    """Never-met pairs with a common hour by descending score, each taken when both members
    are free. The first tier only: a pair of another taken here could stand in the way of
    a grouping made of the first tier alone, which no later swap of two pairs undoes."""
    mate = [-1] * problem.n
    firsts, seconds, weights = graph.near_from, graph.near_to, graph.near_scores
    for k in sorted(range(len(weights)), key=weights.__getitem__, reverse=True):
        i, j = firsts[k], seconds[k]
        if mate[i] < 0 and mate[j] < 0:
            mate[i], mate[j] = j, i
    graph.listing = False
    return mate


class _Parts:
    """Which unplaced members share a part of the candidate graph (all tiers). One who
    shares theirs with no other unplaced member is lonely: no augmenting path can ever join
    them to anyone on this graph, however the others are paired, so no search starts from
    them. (A failed search from one of them walks its whole part: 100,000 members with
    three who speak only Catalan made several such walks per round.)

    A breadth-first search from each of them, taking turns, joined when they meet: a search
    that runs out has walked a whole part, so once at most one is still running, each part
    is known well enough. The small parts of the hard to place are walked, never the large
    one. Pairs added later join parts without a second search."""

    STEP = 64  # members a search visits in its turn

    def __init__(self, problem: _Problem, graph: _Graph, mate: list[int]) -> None:
        roots = [u for u in range(problem.n) if mate[u] < 0 and problem.has_partner[u]]
        self.owner = owner = [-1] * problem.n  # the root whose search reached each first
        self.link = {root: root for root in roots}  # roots found in one part
        self.parts = len(roots)
        for root in roots:
            owner[root] = root
        # Each running search's queue, by the root that stands for its part.
        self.queues: dict[int, list[int]] = {root: [root] for root in roots}
        near, apart, past = graph.near, graph.apart, graph.past
        while len(self.queues) > 1:
            for top in list(self.queues):
                queue = self.queues.get(top)
                if queue is None:
                    continue  # joined to another part this round
                for _ in range(self.STEP):
                    if not queue:
                        break
                    v = queue.pop()
                    mine = owner[v]
                    for partners in (near[v], apart[v], [j for j, _ in past[v]]):
                        for w in partners:
                            theirs = owner[w]
                            if theirs < 0:
                                owner[w] = mine
                                queue.append(w)
                            elif theirs != mine:
                                self._union(theirs, mine)
                    queue = self.queues.get(self._find(top), queue)
                if not queue:
                    self.queues.pop(self._find(top), None)
                if len(self.queues) <= 1:
                    break
        # The one search still running, if any: a member it has not reached may be in its
        # part, so pairs added later to such a member count as joining it.
        self.running = next(iter(self.queues), None)

    def _find(self, root: int) -> int:
        link = self.link
        while link[root] != root:
            link[root] = link[link[root]]
            root = link[root]
        return root

    def _union(self, a: int, b: int) -> None:
        a, b = self._find(a), self._find(b)
        if a == b:
            return
        self.link[a] = b
        self.parts -= 1
        moved = self.queues.pop(a, None)
        if moved is not None:
            kept = self.queues.get(b)
            if kept is None:
                self.queues[b] = moved
            else:
                kept.extend(moved)

    def joined(self, u: int, partners: Iterable[int]) -> None:
        """New pairs of u's (u unplaced when the parts were found)."""
        mine = self.owner[u]
        for w in partners:
            if self.parts <= 1:
                return
            theirs = self.owner[w]
            if theirs >= 0:
                self._union(theirs, mine)
            elif self.running is not None:
                self._union(self.running, mine)

    def lonely(self, mate: list[int]) -> set[int]:
        if self.parts <= 1:
            return set()
        waiting = [root for root in self.link if mate[root] < 0]
        together: dict[int, int] = {}
        for root in waiting:
            top = self._find(root)
            together[top] = together.get(top, 0) + 1
        return {root for root in waiting if together[self._find(root)] == 1}


def _augment(
    problem: _Problem,
    tiers: Sequence[Neighbours],
    mate: list[int],
    *,
    skip: int = 0,
    lonely: Collection[int] = (),
) -> None:
    """Place as many members as the tiers' pairs allow (rules 3 and 4), tier by tier, from
    `tiers[skip]` on: a later tier's pairs are used only for members the earlier ones could
    not place. Members with no valid partner at all, and `lonely` ones (`_Parts`), are
    never searched from.

    Past pairs come in one round at a time, so searching every tier from a member no pair
    can help would be the expensive case: with `skip`, who can still be placed at all is
    first found out on all pairs at once.
    """
    roots = [
        u for u in range(problem.n) if mate[u] < 0 and problem.has_partner[u] and u not in lonely
    ]
    if len(roots) < 2 or len(tiers) <= skip:
        return  # an augmenting path joins two unmatched members
    if skip:
        dead: set[int] = set()
        roots = [u for u in roots if _augmenting_path(u, tiers[-1], mate, dead)[0]]
    for neighbours in tiers[skip:]:
        roots = [u for u in roots if mate[u] < 0]
        if len(roots) < 2:
            return
        _augment_from(roots, neighbours, mate, every_unplaced=not skip)


def _augment_from(
    roots: list[int],
    neighbours: Neighbours,
    mate: list[int],
    *,
    limit: int | None = None,
    every_unplaced: bool = False,
) -> int:
    """Augment from each root in turn (stopping after `limit` augmentations, if given); how
    many were made. A failed search's tree (Edmonds' Hungarian tree) lies on no augmenting
    path for the rest of the pass, so no later search enters it: the members nobody can be
    paired with cost one walk of their part of the graph. With `every_unplaced` (the roots
    are everyone a path could end at), the last root left is not searched from: there is
    nobody for it to reach."""
    dead: set[int] = set()
    made = 0
    waiting = {root for root in roots if mate[root] < 0}
    for root in roots:
        if limit is not None and made >= limit:
            break
        if mate[root] >= 0:
            continue
        waiting.discard(root)
        if every_unplaced and not waiting:
            break  # the last one: nobody else unplaced to join it to
        path = _simple_augmenting_path(root, neighbours, mate, dead)
        if path is None:
            path, tree = _augmenting_path(root, neighbours, mate, dead)
            if path is None:
                dead.update(tree)
                continue
        for v, w in path:
            mate[v], mate[w] = w, v
        waiting.discard(path[0][0])  # the path's other end
        made += 1
    return made


def _simple_augmenting_path(
    root: int, neighbours: Neighbours, mate: list[int], dead: set[int]
) -> Path | None:
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
            if to in seen or to in dead:
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
    root: int,
    neighbours: Neighbours,
    mate: list[int],
    dead: set[int],
    outer: set[int] | None = None,
) -> tuple[Path | None, list[int]]:
    """Edmonds' blossom search from an unmatched root: the pairs to match along a shortest
    alternating path to another unmatched member, or None and the search's tree (every
    member it reached). `dead` members are skipped; on failure, `outer` (if given) gets the
    members reached at an even distance, each of which some maximum matching leaves out.

    State lives in dicts, so a search costs what it explores, not the size of the community.
    """
    base: dict[int, int] = {}
    inside: dict[int, list[int]] = {}  # a blossom's base -> the members it holds
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
            if to in dead or base_of(v) == base_of(to) or mate[v] == to:
                continue
            if to == root or (mate[to] >= 0 and mate[to] in parent):
                stem = common_base(v, to)
                blossom: set[int] = set()
                mark_path(v, stem, to, blossom)
                mark_path(to, stem, v, blossom)
                # Relabel only the blossom's members: scanning the whole tree at every
                # contraction made a failed search quadratic in the community.
                merged = inside.setdefault(stem, [stem])
                for old_base in blossom:
                    if old_base == stem:
                        continue
                    for x in inside.pop(old_base, [old_base]):
                        base[x] = stem
                        merged.append(x)
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
                    return pairs, tree
                used.add(mate[to])
                tree.append(mate[to])
                queue.append(mate[to])
    if outer is not None:
        outer.update(used)
    return None, tree


# --- Local improvement and the trio --------------------------------------------------------


def _improve(problem: _Problem, graph: _Graph, mate: list[int], *, budget: int) -> None:
    """2-opt: swap partners between two pairs (a, b), (c, d) when (a, c), (b, d) or
    (a, d), (b, c) score more. Penalties are in the weights, so a swap never adds a repeat
    or a pair with no common hour for a gain; it keeps the matched set, so rules 1 to 3
    hold throughout.
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
            for c in graph.adjacent(a):
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


def _improve_cycles(
    problem: _Problem,
    graph: _Graph,
    mate: list[int],
    *,
    budget: int,
    starts: Collection[int] | None = None,
) -> None:
    """Re-pair the members of up to `CYCLE_DEPTH` pairs around an alternating cycle when
    that scores more: from a member a0, leave its partner b0 for a better partner c1, whose
    partner d1 goes to c2, and so on, until the last one left, dk, pairs with a0. 2-opt is
    the cycle of two pairs; its local optimum was 98.2-98.6 % of the exact optimum on 300
    members, and the longer cycles close most of the gap (Lin-Kernighan's idea, for pairs).

    A step is followed only while the pairs added so far outscore the pairs taken out so
    far (the gain criterion): each member's partners are sorted by score, so the first
    partner that fails it ends the step. The matched members stay matched, so rules 3, 5
    and 6 hold as they did, and the trio (unmatched here) is left alone. `budget` counts
    the partners looked at; `starts`, the members to search from first (by default every
    matched one).
    """
    n = problem.n
    matched = [u for u in range(n) if mate[u] >= 0]
    if len(matched) < 4:
        return  # one pair: nothing to re-pair
    # Rule 4 whatever the cycle's length and the weights: a matching of strangers (with a
    # common hour) takes no pair outside its tier; the penalties alone would let a cycle
    # of four pairs buy a pair with no common hour. A matching that holds a repeat may
    # take any valid pair, the penalties deciding, as 2-opt did: augmenting paths through
    # the past tiers break up pairs of strangers, and two old repeats traded for a pair of
    # strangers and a more recent repeat put them back.
    ages = graph.ages()
    tier = max(graph.tier_of(u, mate[u], ages) for u in matched)
    allowed = graph.tiers()[tier] if tier < 2 else graph.adjacent
    weight = problem.weight
    scores: list[dict[int, float]] = [{} for _ in range(n)]
    for u in matched:
        row = scores[u]
        for v in allowed(u):
            if mate[v] >= 0 and v not in row:
                row[v] = weight(u, v) or 0.0
    ranked = [sorted(((w, v) for v, w in row.items()), reverse=True) for row in scores]
    current = [scores[u].get(mate[u], 0.0) if mate[u] >= 0 else 0.0 for u in range(n)]
    on_path: set[int] = set()
    tries = budget

    def extend(a0: int, x: int, gain: float, depth: int) -> list[int] | None:
        """The members c1, c2, ... of a cycle from a0 with a positive gain, x being the
        member left without a partner and `gain` what was added less what was taken out."""
        nonlocal tries
        followed = 0
        for w, c in ranked[x]:
            if gain + w <= 1e-9:
                break  # the gain criterion; the partners after c score less still
            if c in on_path:
                continue
            tries -= 1
            if tries < 0:
                return None
            d = mate[c]
            left = gain + w - current[c]
            closing = scores[d].get(a0)
            if closing is not None and left + closing > 1e-9:
                return [c]
            if depth + 1 < CYCLE_DEPTH and followed < CYCLE_BREADTH[depth]:
                followed += 1
                on_path.update((c, d))
                found = extend(a0, d, left, depth + 1)
                on_path.difference_update((c, d))
                if found is not None:
                    return [c, *found]
                if tries < 0:
                    return None
        return None

    # Members to search from, in turn: every matched one (or `starts`), then again the
    # members of each cycle made, until none is left.
    queue = deque(matched if starts is None else sorted(starts))
    waiting = set(queue)
    while queue and tries > 0:
        a0 = queue.popleft()
        waiting.discard(a0)
        b0 = mate[a0]
        if b0 < 0:
            continue
        on_path.update((a0, b0))
        found = extend(a0, b0, -current[a0], 0)
        on_path.clear()
        if found is None:
            continue
        cycle = [a0, b0]
        x = b0
        for c in found:
            d = mate[c]
            mate[x], mate[c] = c, x
            current[x] = current[c] = scores[x][c]
            cycle += (c, d)
            x = d
        mate[x], mate[a0] = a0, x
        current[x] = current[a0] = scores[x][a0]
        for member in cycle:
            if member not in waiting:
                waiting.add(member)
                queue.append(member)


def _prefer(problem: _Problem, graph: _Graph, mate: list[int]) -> None:
    """An unmatched member with priority takes the place of a member without it in a pair,
    partnering the one left (the best such pair, of the same tier or an earlier one):
    the matching keeps its size, and who is left out changes."""
    if not any(problem.priority):
        return
    ages = graph.ages()
    weight = problem.weight
    for p in range(problem.n):
        if mate[p] >= 0 or not problem.priority[p] or not problem.has_partner[p]:
            continue
        if problem.n > FULL_GRAPH_LIMIT:
            graph.add_all_valid_pairs(p)
        best: tuple[float, int] | None = None
        for v in graph.adjacent(p):
            w = mate[v]
            if w < 0 or problem.priority[w]:
                continue
            if graph.tier_of(p, v, ages) > graph.tier_of(v, w, ages):
                continue
            score = weight(p, v) or 0.0
            if best is None or score > best[0]:
                best = (score, v)
        if best is not None:
            v = best[1]
            mate[mate[v]] = -1
            mate[p], mate[v] = v, p


def _look_ahead(problem: _Problem, graph: _Graph, mate: list[int]) -> None:
    """Rule 8. Pairs chosen round by round, each round on its own, can leave never-met pairs
    that no longer pair everyone (say, a ring of five): a repeat comes a round early. So
    when the strangers run short (nobody has more than ENDGAME_PARTNERS left) and they pair
    everyone this round, look ahead one round, then two, and so on up to the fewest left to
    anyone: keep this round's pairing while the strangers left after it still give that
    many full pairings, else take the first of a run of pairings that does. The pairs come
    from the tier the pairing lies in (rule 4), the best-scoring tried first."""
    n = problem.n
    if not 4 <= n <= FULL_GRAPH_LIMIT or n % 2 or min(mate) < 0:
        return
    ages = graph.ages()
    tier = max(graph.tier_of(u, mate[u], ages) for u in range(n) if u < mate[u])
    if tier > 1:
        return  # a repeat this round already
    adjacent = [set(graph.near[u]) for u in range(n)]
    if tier == 1:
        for u in range(n):
            adjacent[u].update(graph.apart[u])
    if max(len(partners) for partners in adjacent) > ENDGAME_PARTNERS:
        return
    weight = problem.weight
    order = [
        sorted(partners, key=lambda v, u=u: (-(weight(u, v) or 0.0), v))  # type: ignore[misc]
        for u, partners in enumerate(adjacent)
    ]
    steps = [ENDGAME_STEPS]
    current = mate[:]
    last = min(min(len(partners) for partners in adjacent), ENDGAME_DEPTH // (n // 2 + 2))
    for rounds in range(2, last + 1):
        _take(adjacent, current)
        later = _pairings(adjacent, order, rounds - 1, steps)
        _take(adjacent, current, back=True)
        if later is None:
            found = _pairings(adjacent, order, rounds, steps)
            if found is None:
                break  # none exists, or the budget is spent: plan no further
            current = found[0]
    mate[:] = current


def _take(adjacent: list[set[int]], mate: list[int], *, back: bool = False) -> None:
    """Take the pairing `mate` out of the graph `adjacent` (or put it back)."""
    for u, v in enumerate(mate):
        if back:
            adjacent[u].add(v)
        else:
            adjacent[u].discard(v)


def _pairings(
    adjacent: list[set[int]], order: list[list[int]], rounds: int, steps: list[int]
) -> list[list[int]] | None:
    """`rounds` pairings of everyone sharing no pair, from the pairs in `adjacent` (left
    as it was found), or None. Depth first, the member with the fewest free partners
    first, each member's partners in `order`; `steps` is the budget of pairs tried, shared."""
    if rounds == 0:
        return []
    n = len(adjacent)
    mate = [-1] * n
    free = [len(partners) for partners in adjacent]  # partners not paired yet

    def seat(u: int, v: int, change: int) -> None:
        for w in adjacent[u]:
            free[w] -= change
        for w in adjacent[v]:
            free[w] -= change

    def extend(left: int) -> list[list[int]] | None:
        if left == 0:
            _take(adjacent, mate)
            rest = _pairings(adjacent, order, rounds - 1, steps)
            _take(adjacent, mate, back=True)
            return None if rest is None else [mate.copy(), *rest]
        options, chosen = min((free[u], u) for u in range(n) if mate[u] < 0)
        if options == 0:
            return None
        for v in order[chosen]:
            if mate[v] >= 0 or v not in adjacent[chosen]:
                continue
            steps[0] -= 1
            if steps[0] < 0:
                return None
            mate[chosen], mate[v] = v, chosen
            seat(chosen, v, 1)
            found = extend(left - 2)
            seat(chosen, v, -1)
            mate[chosen] = mate[v] = -1
            if found is not None:
                return found
        return None

    return extend(n)


Trio = tuple[int, int, int]


def _make_trio(problem: _Problem, graph: _Graph, mate: list[int]) -> Trio | None:
    """One trio that places one member more, if any exists (rules 3 to 5).

    Tier by tier from the one the matching lies in, so the trio and the matching rebuilt
    around it use no pair of a later tier when they need not.
    """
    exposed = [u for u in range(problem.n) if mate[u] < 0 and problem.has_partner[u]]
    if not exposed:
        return None
    exhaustive = problem.n <= FULL_GRAPH_LIMIT
    if not exhaustive:
        for u in exposed:
            graph.add_all_valid_pairs(u)
    ages = graph.ages()
    first = max(
        (graph.tier_of(i, mate[i], ages) for i in range(problem.n) if i < mate[i]), default=0
    )
    for neighbours in graph.tiers()[first:]:
        found = _trio_in_tier(problem, neighbours, mate, exposed, exhaustive=exhaustive)
        if found is not None:
            trio, rest, rebuilt = found
            before = mate[:]
            mate[:] = [v if v >= 0 else -1 for v in rest]
            if rebuilt:
                # The rest was improved already: search again from the pairs rebuilt.
                changed = [u for u in range(problem.n) if before[u] != mate[u] >= 0]
                budget = CYCLE_STEPS_PER_MEMBER * problem.n
                _improve_cycles(problem, graph, mate, budget=budget, starts=changed)
            return trio
    return None


def _trio_in_tier(
    problem: _Problem,
    neighbours: Neighbours,
    mate: list[int],
    exposed: list[int],
    *,
    exhaustive: bool,
) -> tuple[Trio, list[int], bool] | None:
    """A triangle of the tier whose removal leaves a matching one pair smaller (so one
    member more is placed), members with the fewest trios first, then (when `exhaustive`)
    members who met the most others with as few trios, then the highest score: the
    triangle, the matching of the others, and whether that matching was rebuilt.

    First the cheap ones: an unmatched member with both members of a pair. Then, if
    `exhaustive` and none of those is as fair as can be, every triangle through a member
    some maximum matching leaves out (only such a triangle can work: take a maximum
    matching of the rest and add one edge of the triangle), each tested by rebuilding the
    matching without it, up to `TRIO_TESTS_PER_MEMBER` tests per member.
    """
    trios = problem.trios
    weight = problem.weight
    sets: dict[int, set[int]] = {}

    def adjacent(v: int) -> set[int]:
        found = sets.get(v)
        if found is None:
            found = sets[v] = set(neighbours(v))
        return found

    def fairness(a: int, b: int, c: int) -> tuple[int, int]:
        return max(trios[a], trios[b], trios[c]), trios[a] + trios[b] + trios[c]

    def score(a: int, b: int, c: int) -> float:
        return (weight(a, b) or 0.0) + (weight(a, c) or 0.0) + (weight(b, c) or 0.0)

    # Rule 5 over the rounds: members with as few trios who met (or are paired now) cannot
    # share a later trio without a repeat, so among trios as fair, the one whose members
    # met the most others with their count goes first, and those left can still sit
    # together. Up to 300 members. Which fair trio came first was left to the pairing
    # before: 7 runs in 20 of 33 members over 11 rounds gave everyone the trio once; 19
    # with this order (21 members: 8 and 19; 45 members: 6 and 19).
    alike = _met_alike(problem, mate) if exhaustive else [0] * problem.n

    def spread(a: int, b: int, c: int) -> int:
        return -(alike[a] + alike[b] + alike[c])

    best: tuple[tuple[int, int], int, float, Trio, list[int], bool] | None = None
    for u in exposed:
        for v in sorted(adjacent(u)):
            w = mate[v]
            if v < w and w in adjacent(u):
                trio: Trio = tuple(sorted((u, v, w)))  # type: ignore[assignment]
                rank = (fairness(u, v, w), spread(u, v, w), -score(u, v, w))
                if best is None or rank < best[:3]:
                    rest = list(mate)
                    rest[u] = rest[v] = rest[w] = -1
                    best = (*rank, trio, rest, False)
    if not exhaustive or (best is not None and best[0] == (0, 0) and not any(alike)):
        return None if best is None else best[3:]
    outer: set[int] = set()
    dead: set[int] = set()
    for u in exposed:
        _augmenting_path(u, neighbours, mate, dead, outer)
    budget = TRIO_TESTS_PER_MEMBER * problem.n

    def order(x: int) -> tuple[int, int, int]:
        return trios[x], -alike[x], x

    tested: set[Trio] = set()
    for a in sorted(outer, key=order):
        if best is not None and trios[a] > best[0][0]:
            break
        around = sorted(adjacent(a), key=order)
        for k, b in enumerate(around):
            for c in around[k + 1 :]:
                if c not in adjacent(b):
                    continue
                fair = fairness(a, b, c)
                spreads = spread(a, b, c)
                trio = tuple(sorted((a, b, c)))  # type: ignore[assignment]
                if (best is not None and (fair, spreads) >= best[:2]) or trio in tested:
                    continue
                if budget <= 0:
                    return None if best is None else best[3:]
                budget -= 1
                tested.add(trio)
                rebuilt = _matching_without(trio, neighbours, mate)
                if rebuilt is not None:
                    best = (fair, spreads, -score(*trio), trio, rebuilt, True)
                    if fair == (0, 0):
                        return best[3:]
    return None if best is None else best[3:]


def _met_alike(problem: _Problem, mate: list[int]) -> list[int]:
    """For each member, how many members with as many trios they met before or are paired
    with in `mate`."""
    index = {member_id: i for i, member_id in enumerate(problem.ids)}
    trios = problem.trios
    alike = [1 if v >= 0 and trios[u] == trios[v] else 0 for u, v in enumerate(mate)]
    for a, b in problem.history:
        i, j = index.get(a), index.get(b)
        if i is not None and j is not None and trios[i] == trios[j]:
            alike[i] += 1
            alike[j] += 1
    return alike


def _matching_without(trio: Trio, neighbours: Neighbours, mate: list[int]) -> list[int] | None:
    """The maximum matching `mate` with the trio's members taken out (their mate -2) and
    repaired, if it is at most one pair smaller; else None.

    Each pair of `mate` touching the trio is lost; the members it leaves alone are the only
    possible ends of an augmenting path (any other would have augmented `mate`), so one
    search from each of them is enough.
    """
    inside = set(trio)
    rest = list(mate)
    freed = []
    lost = 0
    for x in trio:
        y = mate[x]
        rest[x] = -2
        if y >= 0 and y not in inside:
            freed.append(y)
            rest[y] = -1
            lost += 1
        elif y > x:
            lost += 1
    needed = lost - 1

    def outside(v: int) -> list[int]:
        return [w for w in neighbours(v) if w not in inside]

    if needed <= 0:
        return rest
    made = _augment_from(freed, outside, rest, limit=needed)
    return rest if made >= needed else None


# --- Small tables --------------------------------------------------------------------------


def _tables(
    problem: _Problem, graph: _Graph, pairs: list[tuple[int, ...]]
) -> list[tuple[int, ...]]:
    """Join the pairs two by two into tables of four (rule 7): a matching whose nodes are
    the pairs, two pairs linked when all four pairs across them are valid and scored by
    those four, made by the same greedy and augmenting steps as the members' matching (on
    links without a repeat first). Candidate links come from the members' candidate
    partners, so the work stays bounded at scale."""
    owner = {member: k for k, pair in enumerate(pairs) for member in pair}
    weight = problem.weight

    def across(x: int, y: int) -> float | None:
        total = 0.0
        for a in pairs[x]:
            for b in pairs[y]:
                w = weight(a, b)
                if w is None:
                    return None
                total += w
        return total

    links: dict[tuple[int, int], float] = {}
    fresh: list[list[int]] = [[] for _ in pairs]
    every: list[list[int]] = [[] for _ in pairs]
    most = TABLE_LINKS_AT_SCALE if problem.n > FULL_GRAPH_LIMIT else len(pairs)
    for x, pair in enumerate(pairs):
        # The pairs of its members' candidate partners, the first `most` of them.
        others: dict[int, None] = {}
        for a in pair:
            for c in graph.adjacent(a):
                y = owner.get(c)
                if y is not None and y != x:
                    others[y] = None
                    if len(others) >= most:
                        break
            if len(others) >= most:
                break
        for y in others:
            key = (x, y) if x < y else (y, x)
            if key in links:
                continue
            w = across(x, y)
            if w is None:
                continue
            links[key] = w
            for lists in (every, fresh) if w > -REPEAT_PENALTY else (every,):
                lists[x].append(y)
                lists[y].append(x)
    table = [-1] * len(pairs)
    for x, y in sorted(links, key=links.__getitem__, reverse=True):
        if table[x] < 0 and table[y] < 0:
            table[x], table[y] = y, x
    for neighbours in (fresh.__getitem__, every.__getitem__):
        roots = [x for x in range(len(pairs)) if table[x] < 0]
        if len(roots) > 1:
            _augment_from(roots, neighbours, table, every_unplaced=True)
    apart: list[tuple[int, ...]] = []
    for x in [x for x in range(len(pairs)) if table[x] < 0]:
        apart += _split_into(problem, graph, pairs, owner, table, x) or [pairs[x]]
    tables = [pairs[x] + pairs[table[x]] for x in range(len(pairs)) if x < table[x]] + apart
    at_scale = problem.n > FULL_GRAPH_LIMIT
    budget = SWAPS_AT_SCALE if at_scale else SWAPS_PER_MEMBER * problem.n
    _improve_tables(problem, graph, tables, budget=budget)
    return tables


def _split_into(
    problem: _Problem,
    graph: _Graph,
    pairs: list[tuple[int, ...]],
    owner: dict[int, int],
    table: list[int],
    x: int,
) -> list[tuple[int, ...]] | None:
    """The pair x left without a table, with a table (y, z) taken apart into two trios,
    one member of x joining each pair, where all their pairs are valid (the best such);
    the table is marked as taken apart (-2). None when no table fits."""
    a, b = pairs[x]
    weight = problem.weight

    def joins(member: int, y: int) -> float | None:
        first, second = weight(member, pairs[y][0]), weight(member, pairs[y][1])
        return None if first is None or second is None else first + second

    best: tuple[float, int, int, int, int] | None = None
    for y in sorted({owner[c] for c in graph.adjacent(a) + graph.adjacent(b) if c in owner}):
        z = table[y]
        if z < 0:
            continue
        for p, q in ((a, b), (b, a)):
            first, second = joins(p, y), joins(q, z)
            if first is None or second is None:
                continue
            if best is None or first + second > best[0]:
                best = (first + second, p, q, y, z)
    if best is None:
        return None
    _, p, q, y, z = best
    table[y] = table[z] = -2
    return [(p, *pairs[y]), (q, *pairs[z])]


def _improve_tables(
    problem: _Problem, graph: _Graph, tables: list[tuple[int, ...]], *, budget: int
) -> None:
    """Swap two members of different tables when both tables stay valid and score more
    together: the pairs were made for pairs, and a table joined from two of them may hold
    a repeat that another seating avoids. `budget` counts the swaps tried."""
    where = {member: k for k, members in enumerate(tables) for member in members}
    weight = problem.weight

    def score(members: Sequence[int]) -> float | None:
        total = 0.0
        for a, b in combinations(members, 2):
            w = weight(a, b)
            if w is None:
                return None
            total += w
        return total

    scores: list[float] = [score(members) or 0.0 for members in tables]
    tries = budget

    def swap_from(k: int) -> bool:
        nonlocal tries
        for u in tables[k]:
            for v in graph.adjacent(u):
                other = where.get(v)
                if other is None or other == k or tries <= 0:
                    continue
                tries -= 1
                mine = tuple(v if m == u else m for m in tables[k])
                theirs = tuple(u if m == v else m for m in tables[other])
                first, second = score(mine), score(theirs)
                if first is None or second is None:
                    continue
                if first + second > scores[k] + scores[other] + 1e-9:
                    tables[k], tables[other] = mine, theirs
                    scores[k], scores[other] = first, second
                    where[u], where[v] = other, k
                    return True
        return False

    improved = True
    while improved and tries > 0:
        improved = False
        for k in range(len(tables)):
            improved |= swap_from(k)


# --- The result ---------------------------------------------------------------------------


def _result(problem: _Problem, groups: list[tuple[int, ...]]) -> Result:
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
