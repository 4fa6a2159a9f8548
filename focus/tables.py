"""Who sits at which table in a focus block (docs/focus.md): tables of at most four, never
two members of whom one blocks the other, members who share a language together where
possible, and members who have met (or favoured each other) preferred as tablemates. A
plain algorithm with no Django imports, tested for its rules on any input.

Greedy, in an order that keeps the choices easy: the members with the most blocks first
(they fit fewest tables), then by their room's most spoken language, so that speakers of
one language come one after another, each followed at once by the people they know. Each
takes the table where they fit best: one where someone speaks their language, then one
with people they know, then the emptiest. There are as few tables as four to a table
allows, filled evenly (ten people sit 4, 3, 3, not 4, 4, 2); a member whom blocks keep
from every table opens another.
"""

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

TABLE_SIZE = 4


@dataclass(frozen=True)
class Sitter:
    id: int
    languages: frozenset[str]


def _pairs(ids: Sequence[int], pairs: Collection[tuple[int, int]]) -> dict[int, set[int]]:
    linked: dict[int, set[int]] = {i: set() for i in ids}
    for a, b in pairs:
        if a in linked and b in linked and a != b:
            linked[a].add(b)
            linked[b].add(a)
    return linked


def tables_assign(
    sitters: Sequence[Sitter],
    *,
    blocked: Collection[tuple[int, int]] = (),
    known: Collection[tuple[int, int]] = (),
    size: int = TABLE_SIZE,
) -> list[list[int]]:
    """Tables as lists of member ids, each in seating order. `blocked` and `known` are
    pairs in either order. Deterministic for the same input."""
    if size < 2:
        raise ValueError("a table seats at least two")
    ids = [sitter.id for sitter in sitters]
    if len(set(ids)) != len(ids):
        raise ValueError("a member sits once")
    if not ids:
        return []
    by_id = {sitter.id: sitter for sitter in sitters}
    blocks, friends = _pairs(ids, blocked), _pairs(ids, known)
    spoken = Counter(language for sitter in sitters for language in sitter.languages)

    def main_language(i: int) -> str:
        return max(sorted(by_id[i].languages), key=lambda language: spoken[language])

    count = -(-len(ids) // size)
    # Even tables: every table takes `low` members; `spare` of them one more.
    low, spare = divmod(len(ids), count)
    tables: list[list[int]] = [[] for _ in range(count)]
    bigger = 0  # tables holding more than `low`

    def room_at(table: list[int]) -> bool:
        return len(table) < low or (len(table) == low and bigger < spare)

    order = sorted(ids, key=lambda i: (-len(blocks[i]), main_language(i), i))
    placed: set[int] = set()
    queue: list[int] = []
    for first in order:
        queue.append(first)
        while queue:
            member = queue.pop(0)
            if member in placed:
                continue
            placed.add(member)
            chosen = _best_table(member, tables, room_at, by_id, blocks, friends)
            if chosen < 0:
                swap = _swap_in(member, tables, room_at, blocks)
                if swap is not None:
                    chosen, target, mover = swap
                    tables[chosen].remove(mover)
                    bigger += len(tables[target]) == low
                    tables[target].append(mover)
                    bigger -= len(tables[chosen]) == low  # one fewer, for a moment
            if chosen < 0:  # past evenness, up to `size`
                chosen = _best_table(
                    member, tables, lambda t: len(t) < size, by_id, blocks, friends
                )
            if chosen < 0:  # blocks keep them from every table
                tables.append([member])
            else:
                bigger += len(tables[chosen]) == low
                tables[chosen].append(member)
            # The people they know next, while their table has room.
            queue.extend(sorted(friend for friend in friends[member] if friend not in placed))
    return [table for table in tables if table]


def _swap_in(
    member: int,
    tables: list[list[int]],
    has_room: Callable[[list[int]], bool],
    blocks: dict[int, set[int]],
) -> tuple[int, int, int] | None:
    """For `member`, whom blocks keep from every table with room: someone at another table
    (the one there who blocks them or is blocked, or anyone at a table with none) who can
    move to a table with room where nobody blocks them; `member` then takes their seat.
    (that table, the mover's new table, the mover), or None."""
    mine = blocks[member]
    open_tables = [k for k, table in enumerate(tables) if has_room(table)]
    for index, table in enumerate(tables):
        clashes = [other for other in table if other in mine]
        # The one who blocks them moves; at a table with no one who does, anyone may.
        movers = clashes if len(clashes) == 1 else ([] if clashes else list(table))
        for mover in movers:
            for target in open_tables:
                if target != index and not any(o in blocks[mover] for o in tables[target]):
                    return index, target, mover
    return None


def _best_table(
    member: int,
    tables: list[list[int]],
    has_room: Callable[[list[int]], bool],
    by_id: dict[int, Sitter],
    blocks: dict[int, set[int]],
    friends: dict[int, set[int]],
) -> int:
    """The index of the table where `member` fits best among those with room, or -1."""
    languages, mine, friendly = by_id[member].languages, blocks[member], friends[member]
    best: tuple[int, int, int] | None = None
    chosen = -1
    for index, table in enumerate(tables):
        if not has_room(table) or any(other in mine for other in table):
            continue
        if not table:
            understood = 1
        else:
            understood = 2 if any(languages & by_id[o].languages for o in table) else 0
        fit = (understood, sum(1 for other in table if other in friendly), -len(table))
        if best is None or fit > best:
            best, chosen = fit, index
    return chosen
