"""Staff edit a handyman's days off on his admin page (issue 12)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import TimeOff
from ..scheduling.selectors import jobs_kept_on
from ..scheduling.text import day_text, jobs_text
from .mixins import StaleRowsFormSet
from .people import HandymanAdmin


class TimeOffForm(forms.ModelForm):
    class Meta:
        model = TimeOff
        fields = ("day",)

    def clean_day(self) -> date:
        day = self.cleaned_data["day"]
        # Staff may mark today (a handyman calls in sick); the past stays as it was.
        if "day" in self.changed_data and day < timezone.localdate():
            raise forms.ValidationError("Choose today or a later day: past days stay as they were.")
        handyman_id = self.instance.handyman_id
        taken = TimeOff.objects.filter(handyman_id=handyman_id, day=day).exclude(
            pk=self.instance.pk
        )
        if "day" in self.changed_data and handyman_id and taken.exists():
            raise forms.ValidationError(f"{day_text(day)} {day.year} is already marked off.")
        return day


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    form = TimeOffForm
    formset = StaleRowsFormSet
    fields = ("day", "created_by", "created_at")
    readonly_fields = ("created_by", "created_at")
    extra = 1
    ordering = ("-day",)
    verbose_name = "day off"
    verbose_name_plural = "days off (no job is assigned or moved to these days)"


class HandymanWithTimeOffAdmin(HandymanAdmin):
    inlines = (*HandymanAdmin.inlines, TimeOffInline)

    def save_formset(self, request, form, formset, change):
        # Who marked the day: the staff member who added it here.
        added = []
        for row in formset.save(commit=False):
            if row.pk is None:
                row.created_by = request.user
            try:
                with transaction.atomic():
                    row.save()
            except IntegrityError:
                continue  # marked meanwhile (another tab, his phone): the day is off, as asked
            added.append(row)
        for row in formset.deleted_objects:
            row.delete()
        formset.save_m2m()
        for row in added:
            # A day off does not take his jobs off him: say which are left to move.
            if jobs := jobs_kept_on(row.handyman_id, row.day):
                listed = jobs_text(jobs)
                self.message_user(
                    request,
                    f"{row.handyman} still has {len(jobs)} job{'s' if len(jobs) > 1 else ''} on "
                    f"{day_text(row.day)} {row.day.year}, now a day off ({listed}): move them or "
                    "give them to someone else (the board flags them).",
                    level=messages.WARNING,
                )
