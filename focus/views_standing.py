"""The member's focus standing and figures: sharing the figures on their profile
(docs/focus.md, "No-shows, streaks and the dashboard")."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from focus.standing import focus_member_share_set
from members.models import User


@login_required
@require_POST
def share_stats(request: HttpRequest) -> HttpResponse:
    """Show (`share=1`) or stop showing (anything else) the member's focus figures to others
    on their profile; back to the profile (`back=profile`) or the blocks page."""
    user: User = request.user  # type: ignore[assignment]
    share = request.POST.get("share") == "1"
    focus_member_share_set(user=user, share=share)
    if share:
        messages.success(request, _("Members who open your profile now see your focus figures."))
    else:
        messages.success(request, _("Your focus figures are yours alone again."))
    # A fixed choice of pages, never a URL from the form: nothing to redirect elsewhere.
    if request.POST.get("back") == "profile":
        return redirect("members:profile", user.pk)
    return redirect("focus:blocks")
