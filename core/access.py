from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest
from django.http.response import HttpResponseBase

View = Callable[..., HttpResponseBase]


def staff_required(view: View) -> View:
    """Visitors go to the login page; signed-in members who are not staff get a 403 (a
    login page would only confuse them)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def staff_with(*permissions: str) -> Callable[[View], View]:
    """`staff_required`, and the admin's own permissions for what the view shows or does:
    a staff account given the events alone has no say in moderation, here as in the admin."""

    def decorator(view: View) -> View:
        @staff_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.has_perms(permissions):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def staff_may(user: Any, permission: str) -> bool:
    """Whether `user` is staff holding the admin's `permission` ("app.codename"): what staff
    do on the site takes the right the admin asks for the same act (docs/security.md,
    "Staff act with the admin's permissions wherever they act")."""
    return bool(user.is_staff) and user.has_perm(permission)


def staff_holding(permission: str, user_ids: Iterable[int]) -> set[int]:
    """The ids among `user_ids` of active staff holding `permission`, in one query: the
    bulk form of `staff_may`, through the account, its groups or superuser status."""
    app_label, codename = permission.split(".")
    direct = Q(
        user_permissions__codename=codename,
        user_permissions__content_type__app_label=app_label,
    )
    grouped = Q(
        groups__permissions__codename=codename,
        groups__permissions__content_type__app_label=app_label,
    )
    holders = get_user_model().objects.filter(
        Q(is_superuser=True) | direct | grouped, pk__in=user_ids, is_staff=True, is_active=True
    )
    return set(holders.values_list("pk", flat=True))
