"""Staff edit a handyman's days off on his admin page (issue 12)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import admin
from django.utils import timezone

from ..models import TimeOff
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
        return day


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    form = TimeOffForm
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
        for row in formset.save(commit=False):
            if row.pk is None:
                row.created_by = request.user
            row.save()
        for row in formset.deleted_objects:
            row.delete()
        formset.save_m2m()
