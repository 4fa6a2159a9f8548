"""Focus sessions: a power hour's table assignment (issue "Focus sessions": 400 members at
100 tables in at most 1 s on this machine)."""

import random
import time

from bench.quick import sized
from focus.tables import Sitter, tables_assign

TITLE = "Focus sessions: table assignment"
LANGUAGES = (("es",) * 6) + ("en", "ca", "pt")


def power_hour(
    size: int, seed: int = 7
) -> tuple[list[Sitter], list[tuple[int, int]], list[tuple[int, int]]]:
    """`size` members (most Spanish speakers, some with a second language), a block for
    one in twenty and ten acquaintances each among the others."""
    rng = random.Random(seed)
    sitters = []
    for member in range(1, size + 1):
        spoken = {rng.choice(LANGUAGES)}
        if rng.random() < 0.3:
            spoken.add(rng.choice(LANGUAGES))
        sitters.append(Sitter(id=member, languages=frozenset(spoken)))
    ids = [sitter.id for sitter in sitters]
    blocked = [tuple(rng.sample(ids, 2)) for _ in range(size // 20)]
    known = [tuple(rng.sample(ids, 2)) for _ in range(size * 5)]
    return sitters, blocked, known  # type: ignore[return-value]


def run() -> str:
    rows = []
    for size in sized((40, 400, 4000), (40, 400)):
        sitters, blocked, known = power_hour(size)
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            tables = tables_assign(sitters, blocked=blocked, known=known)
            timings.append(time.perf_counter() - started)
        sizes = sorted({len(table) for table in tables})
        by_id = {sitter.id: sitter for sitter in sitters}
        understood = sum(
            1
            for table in tables
            for member in table
            if any(by_id[member].languages & by_id[o].languages for o in table if o != member)
        )
        rows.append(
            f"| {size:,} | {len(blocked):,} | {len(known):,} | {len(tables)} | "
            f"{', '.join(map(str, sizes))} | {understood / size:.1%} | "
            f"{min(timings) * 1000:.1f} ms | {max(timings) * 1000:.1f} ms |"
        )
    return "\n".join(
        [
            "`focus.tables.tables_assign`, pure Python, best and worst of 5 runs. Goal: 400 "
            "members at 100 tables in at most 1 s.",
            "",
            "| Members | Blocks | Acquaintances | Tables | Table sizes | Share with a tablemate "
            "who speaks their language | Best | Worst |",
            "|---:|---:|---:|---:|---|---:|---:|---:|",
            *rows,
        ]
    )


if __name__ == "__main__":
    print(run())
