"""The reader's notifications (issue 21): the list, opening one, marking all read."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from incidents.notifications import (
    notification_open,
    notifications_mark_read,
    notifications_of,
    notifications_shown,
)

PAGE_SIZE = 50


@login_required
def notification_list(request):
    page = Paginator(notifications_of(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "incidents/notifications.html",
        {"page": page, "notifications": notifications_shown(page.object_list, reader=request.user)},
    )


@login_required
def notification_open_view(request, pk: int):
    """Mark the notification read and go to its record, or back to the list if the reader
    may no longer read the record. Another's notification is a 404."""
    notification = get_object_or_404(notifications_of(request.user), pk=pk)
    return redirect(
        notification_open(notification=notification, reader=request.user) or "notifications:list"
    )


@login_required
@require_POST
def notification_mark_all_read(request):
    marked = notifications_mark_read(reader=request.user)
    messages.success(
        request,
        ngettext(
            "%(count)d notification marked read.", "%(count)d notifications marked read.", marked
        )
        % {"count": marked},
    )
    return redirect("notifications:list")
