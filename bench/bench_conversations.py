"""Private conversations on a community of 10,000 members with 50 conversations each, in
PostgreSQL: the conversation list (`conversations_of`), the header's unread count
(`unread_total`) and pages of one 10,000-message conversation (`messages_page`), with the
number of queries each runs and the plan of the list's slowest query.

`run()` recreates the scratch database `coworking_bench_conversations`, migrates it, then
runs this module as a separate process (`python -m bench.bench_conversations`) so that Django
is set up against that database whatever else the benchmark runner has loaded. The size can
be changed with BENCH_CONVERSATIONS_MEMBERS and BENCH_CONVERSATIONS_EACH (the title says
which size was measured).
"""

import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from bench.quick import sized
from bench.scratch import copy_rows, scratch_run

DATABASE_URL = os.environ.get(
    "BENCH_CONVERSATIONS_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/coworking_bench_conversations",
)
MEMBERS = int(os.environ.get("BENCH_CONVERSATIONS_MEMBERS", sized("10000", "300")))
EACH = int(os.environ.get("BENCH_CONVERSATIONS_EACH", sized("50", "10")))
TITLE = f"Conversations ({MEMBERS:,} members × {EACH} conversations)"
# One seat in ten is in a group of 3–8, the rest in direct conversations.
GROUP_SEATS = max(1, EACH // 10)
GROUP_SIZES = (3, 8)
MESSAGES_EACH = (3, 6)
# Member 1 and member 2 share the long conversation; member 2 is away for its last stretch.
LONG_MESSAGES = sized(10_000, 300)
LONG_UNREAD = sized(1_000, 100)
# One member in fifty has blocked one of the people they talk to.
BLOCKS = MEMBERS // 50
CHUNK = 20_000  # conversations generated and copied at a time
SAMPLE = sized(200, 10)
PAGE_SAMPLE = sized(50, 5)  # members whose conversation list page is rendered
LONG_RUNS = sized(20, 3)
PAGE_RUNS = sized(100, 10)
ROUNDS = 2
GOAL_MS = 100.0
SEED = 20261203
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
EPOCH = datetime(2025, 1, 1, tzinfo=UTC)  # message ids count microseconds from here

FIRST_NAMES = (  # noqa: SIM905 (word lists read better as prose)
    "Lucía María Sofía Martina Camila Paula Julia Carmen Laura Inés Elena Noelia Renata "
    "Hugo Mateo Martín Lucas Pablo Diego Javier Andrés Iñaki Jordi Bruno Tomás Raúl Óscar"
).split()
LAST_NAMES = (  # noqa: SIM905 (word lists read better as prose)
    "García Rodríguez López Martínez Sánchez Pérez Gómez Ruiz Díaz Moreno Álvarez Romero "
    "Navarro Torres Ramos Molina Castro Ortega Rubio Iglesias Quispe Mamani Rojas Aguirre"
).split()
WORDS = (  # noqa: SIM905 (word lists read better as prose)
    "hola qué tal te va bien gracias por el enlace mañana a las diez nos vemos en la "
    "cafetería puedo revisar tu propuesta esta tarde me encantó la charla del jueves "
    "tienes un rato para una llamada sí claro perfecto vale genial te paso el documento "
    "lo hablamos luego see you tomorrow thanks a lot sounds good let me check the draft"
).split()


def run() -> str:
    return scratch_run(
        module="bench.bench_conversations",
        database_url=DATABASE_URL,
        # The pages through Django's test client; DEBUG on only so that templates find
        # static files without collectstatic.
        env={"DEBUG": "1", "ALLOWED_HOSTS": "testserver"},
    )


# --- The worker process: Django set up against the scratch database ----------------------


def _direct_pairs(
    rng: random.Random, quota: dict[int, int], taken: set[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Pair members at random so that each has about `quota` direct partners, none twice and
    never themselves; the few seats left unpaired after some reshuffles stay empty."""
    stubs = [member for member, count in quota.items() for _ in range(count)]
    pairs: list[tuple[int, int]] = []
    for _ in range(20):
        rng.shuffle(stubs)
        leftover = stubs[len(stubs) - len(stubs) % 2 :]
        for first, second in zip(stubs[0::2], stubs[1::2], strict=False):
            pair = (min(first, second), max(first, second))
            if first == second or pair in taken:
                leftover += [first, second]
                continue
            taken.add(pair)
            pairs.append(pair)
        stubs = leftover
        if len(stubs) < 2:
            break
    return pairs


def _groups(rng: random.Random, members: range) -> list[list[int]]:
    """Groups of 3–8 that give each member about GROUP_SEATS group seats."""
    stubs = [member for member in members for _ in range(GROUP_SEATS)]
    rng.shuffle(stubs)
    groups = []
    start = 0
    while start < len(stubs):
        size = rng.randint(*GROUP_SIZES)
        people = list(dict.fromkeys(stubs[start : start + size]))
        start += size
        if len(people) >= GROUP_SIZES[0]:
            groups.append(people)
    return groups


@dataclass
class _Loader:
    """Builds conversations with their seats and messages, ids included, and COPYs them a
    chunk at a time (conversations first, for the foreign keys).

    Message ids follow the time the message was sent, across conversations, as the sequence
    hands them out: a conversation's messages are spread over the id range (and, once the
    table is clustered on its primary key, over the table) as they would be after a year of
    use, not stored side by side."""

    rng: random.Random
    conversations: list[Any] = field(default_factory=list)
    participants: list[Any] = field(default_factory=list)
    messages: list[Any] = field(default_factory=list)
    totals: dict[str, int] = field(
        default_factory=lambda: {"conversations": 0, "participants": 0, "messages": 0}
    )
    seats: dict[int, int] = field(default_factory=dict)
    used_ids: set[int] = field(default_factory=set)
    next_participant: int = 1
    loaded: float = 0.0

    def add(
        self,
        *,
        pk: int,
        people: list[int],
        authors: list[int],
        unread: dict[int, int] | None = None,
        created: datetime | None = None,
    ) -> list[int]:
        """A conversation whose messages are by `authors`, in order; `unread` is how many of
        the last messages each member has not read (at random when not given). Returns the
        message ids."""
        from conversations.models import Conversation, Message, Participant

        rng = self.rng
        direct = len(people) == 2
        if created is None:
            created = NOW - timedelta(seconds=rng.randrange(365 * 86_400))
        # Long conversations spread over their whole life, short ones over a fortnight.
        span = (NOW - created).total_seconds()
        if len(authors) < 100:
            span = min(span, 14 * 86_400)
        moments = sorted(created + timedelta(seconds=rng.random() * span) for _ in authors)
        ids = self.message_ids(moments)
        self.conversations.append(
            Conversation(
                pk=pk,
                kind=Conversation.Kind.DIRECT if direct else Conversation.Kind.GROUP,
                title="" if direct else " ".join(rng.choices(WORDS, k=2)).capitalize(),
                direct_key=f"{min(people)}:{max(people)}" if direct else None,
                created_by_id=people[0],
                created_at=created,
                last_message_at=moments[-1] if moments else None,
            )
        )
        for message_pk, author, moment in zip(ids, authors, moments, strict=True):
            words = rng.choices(WORDS, k=rng.randint(3, 20))
            self.messages.append(
                Message(
                    pk=message_pk,
                    conversation_id=pk,
                    author_id=author,
                    client_id=uuid.UUID(int=rng.getrandbits(128), version=4),
                    text=" ".join(words).capitalize(),
                    created_at=moment,
                    search_vector=self.search_vector(words),
                )
            )
        last_own = {author: message_pk for message_pk, author in zip(ids, authors, strict=True)}
        for position, member in enumerate(people):
            if unread is not None:
                behind = unread.get(member, 0)
            else:
                # Three seats in four have read everything; the others miss the last few.
                behind = 0 if rng.random() < 0.75 else rng.randint(1, len(ids))
            read_upto = ids[len(ids) - behind - 1] if behind < len(ids) else 0
            # Sending a message marks the conversation read up to it (conversations.services).
            last_read = max(read_upto, last_own.get(member, 0))
            self.participants.append(
                Participant(
                    pk=self.next_participant,
                    conversation_id=pk,
                    user_id=member,
                    joined_at=created + timedelta(seconds=position),
                    last_read_id=last_read,
                    told_upto_id=last_read,
                )
            )
            self.next_participant += 1
            self.seats[member] = self.seats.get(member, 0) + 1
        if len(self.conversations) >= CHUNK:
            self.flush()
        return ids

    def message_ids(self, moments: list[datetime]) -> list[int]:
        """Ids in the order of `moments` (sorted): the microsecond since EPOCH, moved on to
        the next free id where two messages share one."""
        ids: list[int] = []
        for moment in moments:
            candidate = (moment - EPOCH) // timedelta(microseconds=1)
            if ids:
                candidate = max(candidate, ids[-1] + 1)
            while candidate in self.used_ids:
                candidate += 1
            self.used_ids.add(candidate)
            ids.append(candidate)
        return ids

    def search_vector(self, words: list[str]) -> str:
        """What conversations.services.message_index stores, `to_tsvector('simple',
        normalise(text))`, in tsvector's input syntax: every word of these texts is letters
        only, so each is one lexeme at its position."""
        from members.search import normalise

        positions: dict[str, list[str]] = {}
        for position, word in enumerate(words, start=1):
            positions.setdefault(normalise(word), []).append(str(position))
        return " ".join(f"'{lexeme}':{','.join(spots)}" for lexeme, spots in positions.items())

    def flush(self) -> None:
        from conversations.models import Conversation, Message, Participant

        started = time.perf_counter()
        self.totals["conversations"] += copy_rows(Conversation, self.conversations)
        self.totals["participants"] += copy_rows(Participant, self.participants)
        self.totals["messages"] += copy_rows(Message, self.messages)
        self.conversations, self.participants, self.messages = [], [], []
        self.loaded += time.perf_counter() - started


@dataclass
class _Population:
    loader: _Loader
    long_ids: list[int]
    blocks: int
    blocked_members: set[int]
    generated: float
    vacuumed: float


def _populate(rng: random.Random) -> _Population:
    from django.core.management.color import no_style
    from django.db import connection

    from conversations.models import Conversation, Message, Participant
    from members.models import Block, User

    started = time.perf_counter()
    users = [
        User(
            pk=pk,
            email=f"member{pk}@bench.invalid",
            password="!",
            display_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            date_joined=NOW - timedelta(days=400 + rng.randrange(400)),
        )
        for pk in range(1, MEMBERS + 1)
    ]
    members = range(1, MEMBERS + 1)
    # The long conversation between members 1 and 2 is one of their EACH.
    quota = {member: EACH - GROUP_SEATS - (member <= 2) for member in members}
    taken = {(1, 2)}
    pairs = _direct_pairs(rng, quota, taken)
    groups = _groups(rng, members)
    shapes: list[list[int]] = [list(pair) for pair in pairs] + groups
    rng.shuffle(shapes)
    generate_started = time.perf_counter() - started

    loader = _Loader(rng)
    started = time.perf_counter()
    loader.loaded += _timed_copy(User, users)
    # Member 2 has been away: the last LONG_UNREAD messages are all member 1's, unread.
    long_authors = [rng.choice((1, 2)) for _ in range(LONG_MESSAGES - LONG_UNREAD)]
    long_authors += [1] * LONG_UNREAD
    long_ids = loader.add(
        pk=1,
        people=[1, 2],
        authors=long_authors,
        unread={2: LONG_UNREAD},
        created=NOW - timedelta(days=300),
    )
    for pk, people in enumerate(shapes, start=2):
        count = rng.randint(*MESSAGES_EACH)
        loader.add(pk=pk, people=people, authors=[rng.choice(people) for _ in range(count)])
    loader.flush()

    # Blocks between people who talk directly: their conversation leaves both lists.
    blocks = []
    blocked_members: set[int] = set()
    for number, (low, high) in enumerate(rng.sample(pairs, BLOCKS), start=1):
        blocker, blocked = (low, high) if rng.random() < 0.5 else (high, low)
        blocks.append(
            Block(
                pk=number,
                blocker_id=blocker,
                blocked_id=blocked,
                created_at=NOW - timedelta(days=1),
            )
        )
        blocked_members |= {low, high}
    loader.loaded += _timed_copy(Block, blocks)
    generated = time.perf_counter() - started - loader.loaded + generate_started

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(
            no_style(), [User, Conversation, Participant, Message, Block]
        ):
            cursor.execute(sql)
        # Messages in the order they were sent, as a year of inserts would have left them.
        cursor.execute("CLUSTER conversations_message USING conversations_message_pkey")
        # What autovacuum would have done by the time anyone reads: statistics for the
        # planner, and a visibility map for index-only scans.
        cursor.execute("VACUUM ANALYZE")
    vacuumed = time.perf_counter() - started
    return _Population(loader, long_ids, len(blocks), blocked_members, generated, vacuumed)


def _timed_copy(model: Any, objects: list[Any]) -> float:
    started = time.perf_counter()
    copy_rows(model, objects)
    return time.perf_counter() - started


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


@dataclass
class _Series:
    """Timings (ms) and query counts of repeated calls of one read."""

    timings: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    # The captured queries of each call: [{"sql": ..., "time": ...}, ...]
    captured: list[list[dict[str, str]]] = field(default_factory=list)

    def summary(self) -> str:
        ordered = sorted(self.timings)
        return (
            f"{statistics.median(ordered):.1f} / {_percentile(ordered, 0.95):.1f} / "
            f"{ordered[-1]:.1f}"
        )

    def p95(self) -> float:
        return _percentile(sorted(self.timings), 0.95)

    def query_counts(self) -> str:
        return ", ".join(str(count) for count in sorted(set(self.queries)))


def _measure(series: _Series, action: Callable[[], Any]) -> Any:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        started = time.perf_counter()
        result = action()
        elapsed = time.perf_counter() - started
    series.timings.append(elapsed * 1000)
    series.queries.append(len(context.captured_queries))
    series.captured.append(list(context.captured_queries))
    return result


def _client(user: Any) -> Any:
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(user)
    return client


def _explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def _worker() -> str:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coworking.settings")
    django.setup()
    from django.db import connection

    from conversations.models import Conversation
    from conversations.selectors import PAGE_SIZE, conversations_of, messages_page, unread_total
    from members.models import User

    rng = random.Random(SEED)
    population = _populate(rng)
    loader = population.loader
    seats = sorted(loader.seats.get(member, 0) for member in range(1, MEMBERS + 1))

    sample = [User.objects.get(pk=pk) for pk in rng.sample(range(3, MEMBERS + 1), SAMPLE)]
    warm = [User.objects.get(pk=pk) for pk in rng.sample(range(3, MEMBERS + 1), 5)]
    first, second = User.objects.get(pk=1), User.objects.get(pk=2)
    long_conversation = Conversation.objects.get(pk=1)
    middle = population.long_ids[len(population.long_ids) // 2]
    for user in warm:  # Python's caches and the first connection
        conversations_of(user=user)
        unread_total(user=user)
    messages_page(conversation=long_conversation, viewer=first)

    labels = {
        "list": f"`conversations_of`, {SAMPLE} random members",
        "unread": f"`unread_total`, the same {SAMPLE} members",
        "long list": f"`conversations_of`, member 2 (in the long conversation, "
        f"{LONG_UNREAD:,} unread there), {LONG_RUNS} calls",
        "latest": f"`messages_page`, latest page of the long conversation, {PAGE_RUNS} calls",
        "before": f"`messages_page`, `before=` its middle message, {PAGE_RUNS} calls",
        "list page": f"`GET /messages/`, the whole page (session, middleware, template), "
        f"{PAGE_SAMPLE} of the random members",
        "open page": f"`GET /messages/1/`, the long conversation's whole page, {PAGE_RUNS} calls",
    }
    clients = [_client(user) for user in sample[:PAGE_SAMPLE]]
    first_client = _client(first)
    # A member's first visit records their session and when they were last seen (two
    # writes, allauth's and core.middleware's): measured are the visits after it.
    for client in clients:
        client.get("/messages/")
    first_client.get("/messages/1/")
    rounds: list[dict[str, _Series]] = []
    listed: list[int] = []
    # The machine's load (1-minute average) before and after each run: other work on the
    # 2 cores shows here, and explains a run whose tail is far from the other's.
    loads: list[str] = []
    for _ in range(ROUNDS):
        before_load = os.getloadavg()[0]
        series = {key: _Series() for key in labels}
        for user in sample:
            listing = _measure(series["list"], partial(conversations_of, user=user))
            listed.append(len(listing.entries))
        for user in sample:
            _measure(series["unread"], partial(unread_total, user=user))
        for _ in range(LONG_RUNS):
            _measure(series["long list"], partial(conversations_of, user=second))
        for _ in range(PAGE_RUNS):
            page, _more = _measure(
                series["latest"],
                lambda: messages_page(conversation=long_conversation, viewer=first),
            )
            assert len(page) == PAGE_SIZE
        for _ in range(PAGE_RUNS):
            page, _more = _measure(
                series["before"],
                lambda: messages_page(conversation=long_conversation, viewer=first, before=middle),
            )
            assert len(page) == PAGE_SIZE and page[-1].pk < middle
        for client in clients:
            response = _measure(series["list page"], partial(client.get, "/messages/"))
            assert response.status_code == 200
        for _ in range(PAGE_RUNS):
            response = _measure(series["open page"], partial(first_client.get, "/messages/1/"))
            assert response.status_code == 200
        rounds.append(series)
        loads.append(f"{before_load:.1f} → {os.getloadavg()[0]:.1f}")

    def verdict(key: str) -> str:
        if key == "unread":
            return "no goal set"
        counts = {count for series in rounds for count in series[key].queries}
        missed = [
            f"run {number}"
            for number, series in enumerate(rounds, 1)
            if series[key].p95() > GOAL_MS
        ]
        if not missed:
            text = f"p95 ≤ {GOAL_MS:.0f} ms: met in both runs"
        elif len(missed) == len(rounds):
            text = f"p95 ≤ {GOAL_MS:.0f} ms: not met"
        else:
            text = f"p95 ≤ {GOAL_MS:.0f} ms: not met in {', '.join(missed)}, met in the other"
        if key in {"list", "long list", "list page"}:
            text += f"; constant queries: {'met' if len(counts) == 1 else 'not met'}"
        return text

    table = [
        "| read | queries | run 1 p50 / p95 / max ms | run 2 p50 / p95 / max ms | goal |",
        "|---|---|---|---|---|",
    ]
    for key, label in labels.items():
        counts = ", ".join(
            str(count) for count in sorted({c for series in rounds for c in series[key].queries})
        )
        table.append(
            f"| {label} | {counts} | {rounds[0][key].summary()} | {rounds[1][key].summary()} "
            f"| {verdict(key)} |"
        )

    # The list's slowest query: the one that took the most time over the last round, as it
    # ran for the sampled member at the 95th percentile, and for member 2.
    last = rounds[-1]["list"]
    positions = len(last.captured[0])
    spent = [
        sum(float(queries[position]["time"]) for queries in last.captured)
        for position in range(positions)
    ]
    slowest = spent.index(max(spent))
    at_p95 = min(range(len(last.timings)), key=lambda index: abs(last.timings[index] - last.p95()))
    typical_plan = _explain(last.captured[at_p95][slowest]["sql"])
    long = rounds[-1]["long list"]
    long_spent = [
        sum(float(queries[position]["time"]) for queries in long.captured)
        for position in range(len(long.captured[0]))
    ]
    long_slowest = long_spent.index(max(long_spent))
    long_plan = _explain(long.captured[0][long_slowest]["sql"])
    share = ", ".join(f"{seconds / sum(spent):.0%}" for seconds in spent)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('conversations_message')), "
            "pg_size_pretty(pg_total_relation_size('conversations_participant')), "
            "pg_size_pretty(pg_total_relation_size('conversations_conversation')), version()"
        )
        messages_size, participants_size, conversations_size, version = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FILTER (WHERE kind = 'direct'), count(*) FILTER (WHERE kind = "
            "'group') FROM conversations_conversation"
        )
        direct_count, group_count = cursor.fetchone()
    sample_blocked = sum(user.pk in population.blocked_members for user in sample)
    totals = loader.totals

    data = " ".join(
        [
            f"Loaded {MEMBERS:,} members, {totals['conversations']:,} conversations",
            f"({direct_count:,} direct, {group_count:,} groups of",
            f"{GROUP_SIZES[0]}–{GROUP_SIZES[1]}), {totals['participants']:,} seats and",
            f"{totals['messages']:,} messages (seed {SEED}).",
            f"Seats per member: min {seats[0]}, median {statistics.median(seats):.0f},",
            f"max {seats[-1]} (pairs left over by the random pairing stay empty).",
            f"Each conversation has {MESSAGES_EACH[0]}–{MESSAGES_EACH[1]} messages, except",
            f"one direct conversation between members 1 and 2 with {LONG_MESSAGES:,}",
            "over 300 days. Message ids follow the time of sending across conversations,",
            "and the table is stored in that order, as a year of inserts leaves it.",
            "A quarter of the seats have some unread, and every message has its search",
            "vector, as `conversations.services.message_index` stores it.",
            f"{population.blocks} members have blocked someone they talk to directly",
            f"({sample_blocked} of the sampled members are on either side of a block).",
            f"Generating took {population.generated:.0f} s, COPY {loader.loaded:.0f} s,",
            "`CLUSTER` (on the primary key) and `VACUUM ANALYZE`",
            f"{population.vacuumed:.0f} s. Messages take {messages_size} with indexes,",
            f"seats {participants_size}, conversations {conversations_size}.",
            f"{version.split(',')[0]}.",
        ]
    )

    return "\n".join(
        [
            data + "\n",
            f"Reproduce with `make bench BENCH=conversations` (smaller: "
            f"`BENCH_CONVERSATIONS_MEMBERS=1000 make bench BENCH=conversations`). Each call "
            f"is timed in the benchmark's process with its queries captured "
            f"(`CaptureQueriesContext`); the whole measurement ran twice in a row (run 1, "
            f"run 2) on the same data, while other work shared the 2 cores. The sampled "
            f"members' lists held {min(listed)}–{max(listed)} conversations. Goals: the list "
            f"p95 ≤ {GOAL_MS:.0f} ms with a constant number of queries, a page of messages "
            f"≤ {GOAL_MS:.0f} ms. Load average during run 1: {loads[0]}, run 2: {loads[1]}.\n",
            *table,
            f"\nShare of the list's time by query, in order (run 2): {share}. Plan of query "
            f"{slowest + 1}, the slowest, for the sampled member at the 95th percentile:\n",
            "```",
            typical_plan,
            "```\n",
            f"Plan of query {long_slowest + 1}, the slowest for member 2, whose list holds the "
            f"{LONG_MESSAGES:,}-message conversation:\n",
            "```",
            long_plan,
            "```",
        ]
    )


if __name__ == "__main__":
    print(_worker())
