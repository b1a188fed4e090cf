"""Staff's side of a person's password: from the users' list, email each chosen person a link to
choose their own (a new account's first password, or a forgotten one), instead of telling
them a password. An account created with password-based log-in disabled gets one too: the
link is how its first password is chosen."""

from __future__ import annotations

from django.contrib import admin, messages

from .mail import link_lifetime, send_reset_link

MAX_LINKS = 100  # "select all" chooses every user; as many at once as the bulk bar takes


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
    reachable = list(sendable(queryset).values_list("pk", flat=True))
    for pk in reachable:
        send_reset_link.enqueue(pk, by_staff=True)
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
