"""The project's admin site: Django's own, with one rule for every admin registered on it, ours,
Django's (users, groups) and third parties' (axes, django-tasks) alike: crafted input in a
changelist is refused with a sentence or Django's "?e=1" page, never answered with a 500.

It lives outside the ``installations.admin`` package because the site is built while admin
modules are being imported (``apps.PortalAdminConfig`` names it as the default site)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError
from django.db import models


def is_row_key(field: models.Field, value: str) -> bool:
    """Whether a posted value is a possible primary key of the field's model: what the field
    itself accepts (an integer in its range, a UUID, ...), checked before any query sees it."""
    if "\x00" in value:  # PostgreSQL refuses NUL in any text it is given
        return False
    try:
        python = field.to_python(value)
        if python is None:
            return False
        field.run_validators(python)
    except (ValidationError, ValueError, TypeError, OverflowError):
        return False
    return True


class SafeChangelistMixin:
    """Put in front of every registered ModelAdmin by ``PortalAdminSite.register``."""

    def response_action(self, request, queryset):
        # Django filters `pk__in` with the posted ids unchecked: "abc" is a ValueError (500).
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        pk = self.model._meta.pk
        bad = [value for value in selected if not is_row_key(pk, value)]
        if bad:
            self.message_user(
                request,
                f"Nothing was changed: {len(bad)} of the {len(selected)} selected rows "
                f"{'is' if len(bad) == 1 else 'are'} not a row of this list. Select the rows "
                "again and retry.",
                messages.ERROR,
            )
            return None  # Django answers with a redirect back to the changelist
        return super().response_action(request, queryset)

    def get_changelist_instance(self, request):
        # Django turns most bad filter values into its "?e=1" page; a custom filter, a search
        # or a date that fails on conversion (int("²"), a 30-digit year) gets the same answer.
        if any("\x00" in text for key, values in request.GET.lists() for text in (key, *values)):
            # PostgreSQL refuses NUL in any text; found only when the query runs, too late.
            raise IncorrectLookupParameters("NUL in the query string")
        try:
            return super().get_changelist_instance(request)
        except (ValueError, TypeError, OverflowError, ValidationError) as err:
            raise IncorrectLookupParameters(err) from err


class PortalAdminSite(admin.AdminSite):
    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, SafeChangelistMixin):
            admin_class = type(
                admin_class.__name__,
                (SafeChangelistMixin, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__},
            )
        super().register(model_or_iterable, admin_class, **options)
