"""Staff's side of a person's password: from the users' list, email each chosen person a link to
choose their own (a new account's first password, or a forgotten one), instead of telling
them a password. An account created with password-based log-in disabled gets one too: the
link is how its first password is chosen."""

from __future__ import annotations

import time

from django.contrib import admin, messages

from .. import done_before
from .mail import link_lifetime, send_reset_link
from .views import REPEAT_SECONDS  # a repeat within it is the same request, as a person's own

MAX_LINKS = 100  # "select all" chooses every user; as many at once as the bulk bar takes
SENT = "password_links_sent"  # done_before's ledger: the people chosen -> when their links went


def sendable(queryset):
    """The users a link can reach: active, with an email address."""
    return queryset.filter(is_active=True).exclude(email="")


@admin.action(description="Email a link to choose a password", permissions=["change"])
def send_password_links(modeladmin, request, queryset):
    if queryset.order_by()[: MAX_LINKS + 1].count() > MAX_LINKS:
        modeladmin.message_user(
            request,
            f"No link was sent: choose at most {MAX_LINKS} people at once.",
            level=messages.ERROR,
        )
        return
    chosen = list(queryset.values_list("pk", flat=True))
    # The same people sent links by the same person just now (a double click, the form sent
    # again): answered as done, each sent one email, as a person's own request is.
    key = ",".join(map(str, sorted(chosen)))
    sent_at = done_before.recalled(request, SENT, key)
    if sent_at is not None and 0 <= time.time() - sent_at < REPEAT_SECONDS:
        modeladmin.message_user(
            request,
            "Already on its way: a link was sent to the people chosen a moment ago. Nothing "
            "was sent again.",
            level=messages.INFO,
        )
        return
    reachable = list(sendable(queryset).values_list("pk", flat=True))
    for pk in reachable:
        send_reset_link.enqueue(pk, by_staff=True)
    done_before.remember(request, SENT, key, time.time())
    if reachable:
        modeladmin.message_user(
            request,
            f"A link to choose a password is on its way to {len(reachable)} "
            f"{'person' if len(reachable) == 1 else 'people'}; it works for {link_lifetime()}, "
            "once.",
            level=messages.SUCCESS,
        )
    left = len(chosen) - len(reachable)
    if left:
        modeladmin.message_user(
            request,
            f"Not sent to {left}: no email address, or the account is inactive.",
            level=messages.WARNING,
        )
