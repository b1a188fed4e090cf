"""The reset link's email, sent by the background worker.

The request only queues the user's id: the worker makes the token and sends the mail. So the
page answers as fast for an address with an account as for one without (a mail server's delay
would otherwise tell them apart), and no live token is ever written to a table (the task
queue's rows, which staff can read in the admin, hold the id alone)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task


def link_lifetime() -> str:
    """How long a reset link works, in the words the pages and the email use."""
    minutes = max(1, settings.PASSWORD_RESET_TIMEOUT // 60)
    if minutes % 60:
        return f"{minutes} minute{pluralize(minutes)}"
    hours = minutes // 60
    if hours == 1:
        return "one hour"
    if hours % 24:
        return f"{hours} hours"
    days = hours // 24
    return "one day" if days == 1 else f"{days} days"


def reset_link(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("accounts:password_reset_confirm", args=[uid, token])
    return f"{settings.SITE_URL}{path}"


@task()
def send_reset_link(user_id: int, by_staff: bool = False) -> bool:
    """Email the user a fresh link; False (nothing sent) if the account can no longer use one.
    `by_staff`: sent from the users' list (accounts/admin.py), also to an account created with
    no password yet, whose first password this is; a person asking for it themselves is sent
    one only for an account that logs in by password (Django's rule)."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not user.email or not (by_staff or user.has_usable_password()):
        return False
    ctx = {
        "user": user,
        "link": reset_link(user),
        "link_lifetime": link_lifetime(),
        "by_staff": by_staff,
    }
    subject = render_to_string("registration/password_reset_subject.txt", ctx)
    body = render_to_string("registration/password_reset_email.txt", ctx)
    send_mail(" ".join(subject.split()), body, None, [user.email])
    return True
