"""A member's standing in focus sessions (docs/focus.md, "No-shows, streaks and the
dashboard"): who booked a seat and did not come, and the week of drop-in only that three
such no-shows in 30 days bring.

A no-show is a seat still held when its block ended whose member never arrived (the block's
wrap-up marks it, `blocks_wrap_up`), or a seat given back less than 15 minutes before the
start (`seat_cancel` marks it). Giving a seat back earlier is free.
"""

from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from core.emails import email_for, send_once
from focus.models import FocusBlock, FocusError, FocusMember, Seat
from focus.ritual import LENGTHS_MINUTES
from matching.meetings import busy_by_member
from members.models import User
from members.selectors import account_open
from notifications.email_off import email_off_headers
from notifications.models import Kind
from notifications.services import notify

# Giving a seat back up to this long before the start is free; later, it counts as a no-show.
FREE_CANCEL_BEFORE = timedelta(minutes=15)
# A seat given back this soon after it was taken is a slip of the finger: never a no-show.
CHANGE_OF_MIND = timedelta(minutes=5)
# This many no-shows within NO_SHOW_WINDOW bring DROP_IN_ONLY_FOR of drop-in only.
NO_SHOW_LIMIT = 3
NO_SHOW_WINDOW = timedelta(days=30)
DROP_IN_ONLY_FOR = timedelta(days=7)
# A block that ended longer ago than this (beat was down, or it ended before arrivals were
# recorded) is not wrapped up late: "we missed you" a day later would be news to nobody.
WRAP_UP_WITHIN = timedelta(hours=6)
# How long the claim on a no-show's email is kept (a redelivered task finds it taken).
EMAIL_CLAIM_SECONDS = 7 * 24 * 3600


class DropInOnly(FocusError):
    code = "drop_in_only"
    default_message = _(
        "For a week you can drop in but not book ahead: you missed 3 sessions in 30 days."
    )


# As the blocks page writes a block's day and time: "Monday 14 December, 10:50", a format
# each language gives (Spanish "lunes 14 de diciembre, 10:50"); translated where it is used.
DAY_AND_TIME = gettext_noop("l j F, H:i")


def _when(moment: datetime, user: User) -> str:
    """`moment` in the member's zone, in the active language."""
    return formats.date_format(
        timezone.localtime(moment, ZoneInfo(user.time_zone)), gettext(DAY_AND_TIME)
    )


# Counting ---------------------------------------------------------------------------------


def cancel_is_late(*, block: FocusBlock, now: datetime) -> bool:
    """Whether giving a seat back in `block` at `now` counts as a no-show."""
    return block.starts_at - now < FREE_CANCEL_BEFORE


def no_shows_counted(*, user: User, now: datetime, reset_at: datetime | None) -> QuerySet[Seat]:
    """The member's no-shows that count now: within the last 30 days (a given-back seat
    when it was given back, a missed block when it started) and after `reset_at`, their
    FocusMember's `no_shows_reset_at`."""
    moment = Coalesce("cancelled_at", "block__starts_at")
    seats = Seat.objects.filter(user=user, no_show=True).alias(moment=moment)
    seats = seats.filter(moment__gte=now - NO_SHOW_WINDOW)
    if reset_at is not None:
        seats = seats.filter(moment__gt=reset_at)
    return seats


def standing_after_no_show(*, user: User, now: datetime) -> datetime | None:
    """Count the member's no-shows after a new one; at three, make them drop-in only for a
    week and return until when (else None). The three then stop counting
    (`no_shows_reset_at`), so the next week of drop-in only takes three new no-shows.
    Locks the member's FocusMember row (made here if missing): call inside a transaction."""
    member, _created = FocusMember.objects.select_for_update().get_or_create(user=user)
    counted = no_shows_counted(user=user, now=now, reset_at=member.no_shows_reset_at)
    if counted.count() < NO_SHOW_LIMIT:
        return None
    member.drop_in_only_until = now + DROP_IN_ONLY_FOR
    member.no_shows_reset_at = now
    member.save(update_fields=["drop_in_only_until", "no_shows_reset_at"])
    return member.drop_in_only_until


def drop_in_only_until(*, user: User, now: datetime) -> datetime | None:
    """Until when the member may only drop in, if they may only drop in now."""
    until = FocusMember.objects.filter(user=user).values_list("drop_in_only_until", flat=True)
    found = until.first()
    return found if found is not None and found > now else None


def booking_ahead_check(*, user: User, now: datetime) -> None:
    """Raise DropInOnly while the member may only drop in (seat_book, when not dropping in)."""
    until = drop_in_only_until(user=user, now=now)
    if until is not None:
        raise DropInOnly(
            str(
                _(
                    "For a week you can drop in but not book ahead: you missed 3 sessions in 30 "
                    "days. You can book again from %(until)s."
                )
            )
            % {"until": _when(until, user)}
        )


def seat_cancel_record(*, seat: Seat, now: datetime) -> bool:
    """Mark the seat given back at `now`: a no-show when it is less than 15 minutes before
    the start and the member has not arrived, which may bring a week of drop-in only.
    Returns whether it counted as a no-show. Does nothing to a seat already given back."""
    late = (
        cancel_is_late(block=seat.block, now=now)
        and now - seat.booked_at >= CHANGE_OF_MIND
        and seat.arrived_at is None
        and seat.block.cancelled_at is None  # staff cancelled it: nobody is missed
    )
    with transaction.atomic():
        given_back = Seat.objects.filter(pk=seat.pk, cancelled_at__isnull=True).update(
            cancelled_at=now, no_show=late
        )
        if given_back and late:
            standing_after_no_show(user=seat.user, now=now)
    return bool(given_back) and late


def no_shows_reset(*, members: QuerySet[FocusMember], now: datetime) -> int:
    """Staff forgive: earlier no-shows stop counting and drop-in only ends now."""
    return members.update(no_shows_reset_at=now, drop_in_only_until=None)


# The block's end ----------------------------------------------------------------------------


def blocks_wrap_up(*, now: datetime) -> int:
    """Deal with every block that has ended and is not wrapped up yet (within the last 6
    hours): claim it with a conditional UPDATE of `wrapped_at`, so two runs at once or one
    after the other never count a block twice, then mark as no-shows the seats still held
    whose member never arrived, and count each one's standing. Each block is one
    transaction; after it commits, each no-show member is told (`no_show_tell`, a task).
    Returns the number of blocks wrapped up."""
    shortest = timedelta(minutes=min(LENGTHS_MINUTES))
    candidates = FocusBlock.objects.filter(
        wrapped_at__isnull=True,
        starts_at__lte=now - shortest,
        starts_at__gt=now - WRAP_UP_WITHIN,
    ).order_by("starts_at", "id")
    wrapped = 0
    for block in candidates:
        if block.ends_at > now:
            continue
        wrapped += _block_wrap_up(block=block, now=now)
    return wrapped


def _block_wrap_up(*, block: FocusBlock, now: datetime) -> bool:
    from focus import tasks

    with transaction.atomic():
        claimed = FocusBlock.objects.filter(pk=block.pk, wrapped_at__isnull=True).update(
            wrapped_at=now
        )
        if not claimed:
            return False
        if block.cancelled_at is not None:
            return True
        empty = list(
            Seat.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(block=block, cancelled_at__isnull=True, arrived_at__isnull=True)
            # A seat whose account staff closed since is nobody's absence.
            .filter(account_open("user"))
            .order_by("pk")
        )
        # At an event or a coffee agreed for that time: a clash the member chose, not a seat
        # forgotten; they are not told off for it.
        away = elsewhere([seat.user_id for seat in empty], block)
        missing = [seat for seat in empty if seat.user_id not in away]
        Seat.objects.filter(pk__in=[seat.pk for seat in missing]).update(no_show=True)
        for seat in missing:
            until = standing_after_no_show(user=seat.user, now=now)
            restricted = until.isoformat() if until else None
            transaction.on_commit(partial(tasks.no_show_tell.delay, seat.pk, restricted))
    return True


def elsewhere(user_ids: list[int], block: FocusBlock) -> set[int]:
    """Those of the members at something else for part of the block (an event, an agreed
    coffee: matching.meetings.busy_by_member), read at once for all of them."""
    if not user_ids:
        return set()
    busy = busy_by_member(user_ids, block.starts_at, block.ends_at)
    return {
        user_id
        for user_id, spans in busy.items()
        if any(begins < block.ends_at and ends > block.starts_at for begins, ends in spans)
    }


# Telling the member -------------------------------------------------------------------------

NO_SHOW_TEXT = _(
    "We missed you at the %(time)s focus session. If you can't come, give back your seat up "
    "to 15 minutes before, so someone else can sit in it."
)
NO_SHOW_DROP_IN_ONLY_TEXT = _(
    "We missed you at the %(time)s focus session. That makes 3 in 30 days, so until "
    "%(until)s you can drop in to sessions but not book ahead. We hope to see you soon!"
)


def _local(moment: datetime, format_string: str) -> str:
    # Called by notify in the member's language and zone.
    return formats.date_format(timezone.localtime(moment), gettext(format_string))


def no_show_tell(*, seat_id: int, restricted_until: datetime | None = None) -> None:
    """Tell a member, kindly, that they were missed at a block: on the site and by email as
    `notify` says, once (the notice once per seat; the email claimed in the cache through
    `core.emails.send_once`, so a redelivered task sends nothing twice). With
    `restricted_until`, the message says that this no-show brought a week of drop-in only.
    Call outside any transaction (send_once's rule)."""
    seat = Seat.objects.select_related("block", "user").filter(pk=seat_id, no_show=True).first()
    if seat is None:
        return
    user, block = seat.user, seat.block
    params: dict[str, object] = {"time": lazy(_local, str)(block.starts_at, "H:i")}
    if restricted_until is not None:
        params["until"] = lazy(_local, str)(restricted_until, DAY_AND_TIME)
    delivery = notify(
        user=user,
        kind=Kind.FOCUS_NO_SHOW,
        key=f"focus-no-show:{seat.pk}",
        text=NO_SHOW_DROP_IN_ONLY_TEXT if restricted_until else NO_SHOW_TEXT,
        params=params,
        url=reverse("focus:blocks"),
    )
    if not delivery.email:
        return
    claim_key = f"focus:no-show-email:{seat.pk}"

    def send() -> None:
        email_for(
            user=user,
            template="focus/email/no_show",
            headers=email_off_headers(user=user, kind=Kind.FOCUS_NO_SHOW),
            key=f"focus-no-show:{seat.pk}",
            context={
                "focus_block": block,
                "restricted_until": restricted_until,
                "blocks_url": reverse("focus:blocks"),
            },
        ).send()

    send_once(
        claim=lambda: int(cache.add(claim_key, 1, timeout=EMAIL_CLAIM_SECONDS)),
        send=send,
        give_back=lambda: cache.delete(claim_key),
    )


# Sharing --------------------------------------------------------------------------------------


def focus_member_share_set(*, user: User, share: bool) -> FocusMember:
    """Show (or stop showing) the member's focus figures to others on their profile."""
    member, _created = FocusMember.objects.update_or_create(
        user=user, defaults={"share_stats": share}
    )
    return member


def standing_for(*, user: User, now: datetime) -> dict[str, object]:
    """What the blocks page says of the member's standing: until when they may only drop
    in, the no-shows that count now, and whether their figures are shared. Two queries."""
    member = FocusMember.objects.filter(user=user).first()
    until = member.drop_in_only_until if member else None
    return {
        "drop_in_only_until": until if until is not None and until > now else None,
        "no_shows": no_shows_counted(
            user=user, now=now, reset_at=member.no_shows_reset_at if member else None
        ).count(),
        "limit": NO_SHOW_LIMIT,
        "share_stats": bool(member and member.share_stats),
    }
