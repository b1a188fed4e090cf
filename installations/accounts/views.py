"""Django's password views, with what the portal adds: a reset request is rate-limited per
address and per email address (429 with a sentence), a completed reset lifts the log-in pause
of that name, and the forms render with the portal's labelled fields."""

from __future__ import annotations

from datetime import timedelta

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse_lazy

from ..ratelimit.services import Limit, Refused, client_address, ratelimit_hit
from .mail import link_lifetime, send_reset_link


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


def _limits() -> tuple[Limit, Limit]:
    window = timedelta(minutes=settings.PASSWORD_RESET_WINDOW_MINUTES)
    return (
        Limit("reset-address", settings.PASSWORD_RESET_ADDRESS_LIMIT, window),
        Limit("reset-email", settings.PASSWORD_RESET_EMAIL_LIMIT, window),
    )


class ResetRequestView(LifetimeMixin, auth_views.PasswordResetView):
    """ "Forgot your password?": the same answer whether or not the address has an account
    (Django's own), so the page never tells who has one."""

    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        by_address, by_email = _limits()
        refused = ratelimit_hit(limit=by_address, subject=client_address(self.request))
        if refused is None:
            email = form.cleaned_data["email"].strip().lower()
            refused = ratelimit_hit(limit=by_email, subject=email)
        if refused is not None:
            return too_many(self.request, refused)
        for user in form.get_users(form.cleaned_data["email"]):
            send_reset_link.enqueue(user.pk)  # the worker makes the token and sends (mail.py)
        return HttpResponseRedirect(self.get_success_url())


class ResetConfirmView(LifetimeMixin, auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # The owner proved it by the link: a pause from their own mistyping is over.
        axes_reset(username=form.user.get_username())
        return response


class ChangeView(auth_views.PasswordChangeView):
    """The old password is asked for: a borrowed session must not try one after another."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def post(self, request, *args, **kwargs):
        window = timedelta(minutes=settings.PASSWORD_RESET_WINDOW_MINUTES)
        limit = Limit("password-change", settings.PASSWORD_CHANGE_LIMIT, window)
        refused = ratelimit_hit(limit=limit, subject=str(request.user.pk))
        if refused is not None:
            return too_many(request, refused, changing=True)
        return super().post(request, *args, **kwargs)


class ResetSentView(LifetimeMixin, auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"
