"""A page that asks before an admin action that members feel (a suspension, a warning, a
cancelled block): the changelist's actions otherwise run at the first click on "Go", and a
wrong tick in a long list would reach people who did nothing."""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.functional import Promise

from core.converters import is_row_id

# The page names the first few; the count says how many in all.
LISTED = 20


def action_confirmed(
    modeladmin: admin.ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    consequence: str | Promise,
) -> TemplateResponse | None:
    """None once the staff member said yes on the page; until then, the page for the action
    to return. The page posts the same action and selection back to the same address (its
    filters included), with "confirm"."""
    if request.POST.get("confirm") == "yes":
        return None
    # The action chosen, as Django's changelist reads it (`index`: which of the page's forms).
    chosen = request.POST.getlist("action")
    index = request.POST.get("index", "0")
    name = chosen[int(index)] if is_row_id(index) and int(index) < len(chosen) else ""
    action = modeladmin.get_action(name)
    count = queryset.count()
    # How the page names each row: the admin's own `confirm_label`, when a row's name alone
    # does not tell it apart (members not yet named are all "New member").
    label = getattr(modeladmin, "confirm_label", str)
    return TemplateResponse(
        request,
        "admin/action_confirm.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": action[2] if action else "",
            "consequence": consequence,
            "opts": modeladmin.model._meta,
            "listed": [label(row) for row in queryset[:LISTED]],
            "count": count,
            "more": max(0, count - LISTED),
            "action": name,
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        },
    )


Action = Callable[[Any, HttpRequest, QuerySet[Any]], Any]


def confirm_first(consequence: str | Promise) -> Callable[[Action], Action]:
    """An admin action's decorator (under `@admin.action`): the action runs once the staff
    member said yes on the page that says `consequence` (`action_confirmed`)."""

    def decorate(action: Action) -> Action:
        @functools.wraps(action)
        def asking_first(
            modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: QuerySet[Any]
        ) -> Any:
            asked = action_confirmed(modeladmin, request, queryset, consequence=consequence)
            if asked is not None:
                return asked
            return action(modeladmin, request, queryset)

        return asking_first

    return decorate
