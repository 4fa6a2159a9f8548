"""Reads about members that enforce who may see what."""

from django.db.models import Q
from django.http import Http404

from members.models import Block, Profile, User


def is_blocked_between(*, user: User, other: User) -> bool:
    return Block.objects.filter(
        Q(blocker=user, blocked=other) | Q(blocker=other, blocked=user)
    ).exists()


def profile_for_viewer(*, viewer: User, member_id: int) -> Profile:
    """The profile `viewer` may open, or Http404 (never "forbidden", which would leak it).

    Members see every onboarded, active member except those on either side of a block;
    visitors see only profiles their owner made public.
    """
    try:
        profile = (
            Profile.objects.select_related("user")
            .prefetch_related("interests", "languages")
            .get(user_id=member_id, user__is_active=True, onboarded_at__isnull=False)
        )
    except Profile.DoesNotExist:
        raise Http404 from None
    if not viewer.is_authenticated:
        if not profile.public:
            raise Http404
        return profile
    if viewer.pk != member_id and is_blocked_between(user=viewer, other=profile.user):
        raise Http404
    return profile
