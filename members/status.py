"""Until when members are busy right now, for the badges the directory, profiles, the rooms'
lobby and conversations show ("In focus until 11:50"). Members knows nothing of what makes
someone busy: the apps above register a provider in their `AppConfig.ready()` (focus: a
member at work in a focus block), and the pages ask `busy_until` once for all the members
they list."""

from collections.abc import Callable, Iterable
from datetime import datetime

# Given members' ids and the moment, {member id: until when they are busy} for those who are.
# One query for any number of ids; members not busy are left out.
StatusProvider = Callable[[Iterable[int], datetime], dict[int, datetime]]

_providers: list[StatusProvider] = []


def status_provider_register(provider: StatusProvider) -> None:
    """Called from an app's `ready()`; registering the same provider twice keeps one."""
    if provider not in _providers:
        _providers.append(provider)


def busy_until(*, user_ids: Iterable[int], now: datetime) -> dict[int, datetime]:
    """{member id: until when} for the members of `user_ids` busy at `now`; when two
    providers say so, the later end wins. One query per provider, none without ids."""
    ids = set(user_ids)
    if not ids:
        return {}
    busy: dict[int, datetime] = {}
    for provider in _providers:
        for user_id, until in provider(ids, now).items():
            if user_id in ids and (user_id not in busy or until > busy[user_id]):
                busy[user_id] = until
    return busy
