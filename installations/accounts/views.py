"""Django's password views, with what the portal adds: a reset request is rate-limited per
address and per email address (429 with a sentence), a completed reset lifts the log-in pause
of that name, and the forms render with the portal's labelled fields."""

from __future__ import annotations

import time

from axes.utils import reset as axes_reset
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse_lazy

from ..ratelimit.services import Refused, client_address, limit, ratelimit_hit
from .mail import link_lifetime, send_reset_link

# Session keys: the address this browser last asked a link for, and when; the account it
# last saved a password for through a link.
ASKED = "password_reset_asked"
RESET_FOR = "password_reset_for"
REPEAT_SECONDS = 60


class LifetimeMixin:
    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "link_lifetime": link_lifetime()}


def too_many(request: HttpRequest, refused: Refused, *, changing: bool = False) -> HttpResponse:
    """429 with a page that says how long to wait; `Retry-After` says it to scripts."""
    response = render(
        request,
        "registration/password_reset_too_many.html",
        {"refused": refused, "link_lifetime": link_lifetime(), "changing": changing},
        status=429,
    )
    response["Retry-After"] = str(refused.retry_after)
    return response


class ResetRequestView(LifetimeMixin, auth_views.PasswordResetView):
    """ "Forgot your password?": the same answer whether or not the address has an account
    (Django's own), so the page never tells who has one."""

    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        if self._repeat(email):
            return HttpResponseRedirect(self.get_success_url())
        address = client_address(self.request)
        refused = ratelimit_hit(limit=limit("reset-address"), subject=address)
        if refused is None:
            refused = ratelimit_hit(limit=limit("reset-email"), subject=email)
        if refused is not None:
            return too_many(self.request, refused)
        for user in form.get_users(form.cleaned_data["email"]):
            send_reset_link.enqueue(user.pk)  # the worker makes the token and sends (mail.py)
        self.request.session[ASKED] = [email, time.time()]
        return HttpResponseRedirect(self.get_success_url())

    def _repeat(self, email: str) -> bool:
        """The same address asked for again from this browser just now (a double click, a
        resent form): answered as done, neither sent nor counted a second time."""
        asked = self.request.session.get(ASKED)
        return bool(asked) and asked[0] == email and time.time() - asked[1] < REPEAT_SECONDS


class ResetConfirmView(LifetimeMixin, auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def dispatch(self, *args, **kwargs):
        response = super().dispatch(*args, **kwargs)
        # The link is used up by the first press: a second one (a double click, a resent form)
        # from the browser that just saved the password through it is answered as done.
        if (
            self.request.method == "POST"
            and not self.validlink
            and self.user is not None
            and self.request.session.get(RESET_FOR) == self.user.pk
        ):
            return HttpResponseRedirect(self.success_url)
        return response

    def form_valid(self, form):
        response = super().form_valid(form)
        self.request.session[RESET_FOR] = form.user.pk
        # The owner proved it by the link: a pause from their own mistyping is over.
        axes_reset(username=form.user.get_username())
        return response


class ChangeView(auth_views.PasswordChangeView):
    """The old password is asked for: a borrowed session must not try one after another."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def post(self, request, *args, **kwargs):
        refused = ratelimit_hit(limit=limit("password-change"), subject=str(request.user.pk))
        if refused is not None:
            return too_many(request, refused, changing=True)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        # A second press (a double click, a resent form) finds the old password changed
        # already, to the very one it asks for: answered as done, not "incorrect".
        new = form.data.get("new_password1")
        if (
            set(form.errors) == {"old_password"}
            and new
            and new == form.data.get("new_password2")
            and self.request.user.check_password(new)
        ):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_invalid(form)


class ResetSentView(LifetimeMixin, auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"
