"""The focus block's two plain algorithms (docs/focus.md): the ritual's clock, computed from
the stored start at any instant (a reconnect or a restart changes nothing), and the tables,
whose rules hold for any members, languages, blocks and acquaintances."""

from datetime import UTC, datetime, timedelta
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from focus.ritual import Phase, moment_at, on_the_half_hour, phase_bounds
from focus.tables import Sitter, tables_assign

START = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def test_a_50_minute_block_checks_in_works_and_checks_out_within_its_time() -> None:
    at = [START + timedelta(minutes=m) for m in (-1, 0, 2, 3, 30, 46, 47, 49, 50)]

    phases = [moment_at(START, 50, now).phase for now in at]

    assert phases == [
        Phase.BEFORE,
        Phase.CHECK_IN,
        Phase.CHECK_IN,
        Phase.WORK,
        Phase.WORK,
        Phase.WORK,
        Phase.CHECK_OUT,
        Phase.CHECK_OUT,
        Phase.OVER,
    ]
    work = moment_at(START, 50, START + timedelta(minutes=30, seconds=15))
    assert work.ends_at == START + timedelta(minutes=47)
    assert work.seconds_left(START + timedelta(minutes=30, seconds=15)) == 16 * 60 + 45


@given(
    minutes=st.sampled_from([25, 50, 75]),
    offset=st.integers(min_value=-600, max_value=80 * 60),
)
def test_the_clock_is_the_same_whenever_it_is_asked(minutes: int, offset: int) -> None:
    """What a page sees after a reconnect, or a process after a restart: the same phase
    and end, from the stored start alone; phases follow each other without a gap."""
    now = START + timedelta(seconds=offset)
    moment = moment_at(START, minutes, now)
    assert moment == moment_at(START, minutes, now)
    bounds = phase_bounds(START, minutes)
    starts = [begins for _phase, begins in bounds]
    assert starts == sorted(starts) and starts[-1] == START + timedelta(minutes=minutes)
    if moment.ends_at is not None:
        assert moment.ends_at > now
        assert moment_at(START, minutes, moment.ends_at).phase != moment.phase


def test_only_the_three_lengths_and_half_hours() -> None:
    with pytest.raises(ValueError):
        phase_bounds(START, 45)
    assert on_the_half_hour(START) and not on_the_half_hour(START + timedelta(minutes=15))


languages = st.frozensets(st.sampled_from(["es", "en", "ca", "pt"]), min_size=1, max_size=2)


@st.composite
def rooms(draw: st.DrawFn) -> tuple[list[Sitter], list[tuple[int, int]], list[tuple[int, int]]]:
    n = draw(st.integers(min_value=1, max_value=40))
    sitters = [Sitter(id=i + 1, languages=draw(languages)) for i in range(n)]
    pairs = st.tuples(st.integers(1, n), st.integers(1, n)).filter(lambda p: p[0] != p[1])
    return sitters, draw(st.lists(pairs, max_size=n)), draw(st.lists(pairs, max_size=n))


@settings(max_examples=300, deadline=None)
@given(rooms())
def test_tables_seat_everyone_once_four_at_most_and_never_a_blocked_pair(
    room: tuple[list[Sitter], list[tuple[int, int]], list[tuple[int, int]]],
) -> None:
    sitters, blocked, known = room

    tables = tables_assign(sitters, blocked=blocked, known=known)

    seated = [member for table in tables for member in table]
    assert sorted(seated) == sorted(sitter.id for sitter in sitters)
    assert all(1 <= len(table) <= 4 for table in tables)
    apart = {frozenset(pair) for pair in blocked}
    for table in tables:
        assert not any(frozenset((a, b)) in apart for a in table for b in table if a != b)
    # As few tables as four to a table allows, unless blocks force more.
    if not blocked:
        assert len(tables) == -(-len(sitters) // 4)
        assert max(map(len, tables)) - min(map(len, tables)) <= 1  # even: 3, 3, 3 not 4, 4, 1


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=1, max_value=6), st.integers(min_value=1, max_value=6))
def test_two_language_groups_in_fours_each_sit_with_their_own(spanish: int, english: int) -> None:
    sitters = [Sitter(id=i, languages=frozenset({"es"})) for i in range(1, 4 * spanish + 1)]
    sitters += [Sitter(id=1000 + i, languages=frozenset({"en"})) for i in range(1, 4 * english + 1)]

    tables = tables_assign(sitters)

    by_id = {sitter.id: sitter for sitter in sitters}
    for table in tables:
        assert len({language for m in table for language in by_id[m].languages}) == 1


def test_people_who_know_each_other_are_preferred_as_tablemates() -> None:
    sitters = [Sitter(id=i, languages=frozenset({"es"})) for i in range(1, 9)]

    tables = tables_assign(sitters, known=[(1, 8), (2, 7)])

    assert any({1, 8} <= set(table) for table in tables)
    assert any({2, 7} <= set(table) for table in tables)


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=8, max_value=60), st.randoms(use_true_random=False))
def test_a_few_blocks_cost_no_extra_table(n: int, rng: Random) -> None:
    """One block for every ten members, as in a community: still as few tables as four to
    a table allows, and nobody alone at one (someone blocked moves, or swaps seats)."""
    sitters = [Sitter(id=i, languages=frozenset({"es"})) for i in range(1, n + 1)]
    blocked = [(rng.randint(1, n), rng.randint(1, n)) for _ in range(n // 10)]

    tables = tables_assign(sitters, blocked=blocked)

    assert len(tables) == -(-n // 4)
    assert min(map(len, tables)) >= 2
