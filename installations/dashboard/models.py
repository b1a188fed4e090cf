"""The dashboard's rollups: kept in step with the history by the service layer's transaction
(receivers.py), rebuilt from the rows by ``manage.py rebuild_dashboard``. A page reads these,
never the partner's installations: their size follows the period and the partner's handymen,
not the number of jobs the partner ever had."""

from __future__ import annotations

from django.db import models

from ..models import Partner  # defined before installations.models imports this module
from ..statuses import Status

__all__ = [
    "PartnerDashboard",
    "DashboardJob",
    "DashboardReasonWeek",
    "DashboardStatusDay",
    "DashboardStepHandymanWeek",
    "DashboardStepWeek",
    "DashboardThresholds",
]


class Step(models.TextChoices):
    """What the flow-time charts measure; the three arrival steps are how far outside the window
    the handyman arrived (0 s inside it), so their counts are the inside/before/after shares."""

    CREATED_ASSIGNED = "created_assigned", "Created → assigned"
    ASSIGNED_ARRIVED = "assigned_arrived", "Assigned → arrived"
    ON_SITE = "on_site", "Time on site"
    COMPLETED_SIGNED = "completed_signed", "Completed → contract signed"
    SIGNED_APPROVED = "signed_approved", "Contract signed → approved"
    ARRIVED_BEFORE = "arrived_before", "Arrived before the window"
    ARRIVED_INSIDE = "arrived_inside", "Arrived inside the window"
    ARRIVED_AFTER = "arrived_after", "Arrived after the window"


class DashboardStatusDay(models.Model):
    """Entries into and exits from each status per partner and (local) day, from the history's
    status changes. Outcomes per week are the entries into the three final statuses; the open
    pipeline at a week's end is today's counters minus the net entries since."""

    partner = models.ForeignKey("installations.Partner", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    status = models.CharField(max_length=32, choices=Status.choices)
    entered = models.IntegerField(default=0)
    left = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "day", "status"], name="dash_status_day_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.day} {self.status}: +{self.entered} -{self.left}"


class DashboardStepWeek(models.Model):
    """A histogram of one flow-time step per partner and week (of the step's end): log-spaced
    buckets of seconds (see rollups.bucket_of), so a percentile is a walk over a few dozen
    counters instead of a sort of every job of the period."""

    partner = models.ForeignKey("installations.Partner", on_delete=models.CASCADE, related_name="+")
    week = models.DateField(help_text="The Monday of the week the step ended in.")
    step = models.CharField(max_length=20, choices=Step.choices)
    bucket = models.SmallIntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "week", "step", "bucket"], name="dash_step_week_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.week} {self.step} [{self.bucket}]: {self.count}"


class DashboardStepHandymanWeek(models.Model):
    """The same histogram per handyman (the handyman on the job when the step is counted)."""

    partner = models.ForeignKey("installations.Partner", on_delete=models.CASCADE, related_name="+")
    week = models.DateField()
    handyman_id = models.IntegerField(help_text="0 when the job has no handyman.")
    step = models.CharField(max_length=20, choices=Step.choices)
    bucket = models.SmallIntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "week", "handyman_id", "step", "bucket"],
                name="dash_step_hm_week_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.week} {self.handyman_id} {self.step}: {self.count}"


class DashboardReasonWeek(models.Model):
    """Cancellations and rejections per partner, week and reason (as typed, tidied)."""

    class Outcome(models.TextChoices):
        CANCELLED = "cancelled", "Cancelled"
        REJECTED = "rejected", "Rejected"

    partner = models.ForeignKey("installations.Partner", on_delete=models.CASCADE, related_name="+")
    week = models.DateField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.CharField(max_length=200)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "week", "outcome", "reason"], name="dash_reason_week_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner_id} {self.week} {self.outcome} {self.reason}: {self.count}"


class DashboardJob(models.Model):
    """One row per installation: its status, since when its wait in it counts (the entry into
    it, or later for a job waiting for its booked day: rollups.waiting_since), and the facts it
    last contributed to the histograms. A change (transition, override, reschedule) recomputes
    the facts from the saved row and moves only the difference, so an override of a time or of
    the handyman corrects the charts, and a reschedule moves the day a wait counts from. The
    (partner, status, since) index serves the stuck-jobs list."""

    installation = models.OneToOneField(
        "installations.Installation",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="dashboard",
    )
    partner = models.ForeignKey("installations.Partner", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=32, choices=Status.choices)
    since = models.DateTimeField()
    # [[step, week ISO, handyman id, bucket], ...] and [[outcome, week ISO, reason], ...]
    steps = models.JSONField(default=list)
    reasons = models.JSONField(default=list)

    class Meta:
        indexes = [
            models.Index(fields=["partner", "status", "since"], name="dash_job_stuck"),
            # The staff view across all partners.
            models.Index(fields=["status", "since"], name="dash_job_stuck_all"),
        ]

    def __str__(self) -> str:
        return f"{self.installation_id} {self.status} since {self.since}"


class DashboardThresholds(models.Model):
    """A partner's own stuck-job thresholds in hours per open status (absent: the default)."""

    partner = models.OneToOneField(
        "installations.Partner", on_delete=models.CASCADE, related_name="dashboard_thresholds"
    )
    hours = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "dashboard thresholds"

    def __str__(self) -> str:
        return f"Thresholds of partner {self.partner_id}"


class PartnerDashboard(Partner):
    """The partners as the admin lists them under "Partner dashboards": each row opens that
    partner's dashboard (installations/admin/dashboard.py). No table of its own."""

    class Meta:
        proxy = True
        verbose_name = "partner dashboard"
        verbose_name_plural = "partner dashboards"
