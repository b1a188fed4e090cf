"""The cast every test can ask for: two partners, their users, handymen, staff and a superuser."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from installations.demo import walk_to
from installations.live import selectors as live_selectors
from installations.models import CustomerActor, Handyman, Installation, Partner
from installations.sms import InMemoryBackend
from installations.statuses import VISITED_STATUSES, Status

from .factories import (
    STAFF_PERMS,
    HandymanFactory,
    PartnerFactory,
    PartnerUserFactory,
    UserFactory,
    booking_day,
    grant,
    make_installation,
)

# The statuses a job reaches only once its handyman has set off.
SET_OFF = VISITED_STATUSES | {Status.EN_ROUTE}

_DB_DIR: str | None = None
_CLOCK: Any = None


def night_clock(moment: str) -> Any:
    """The wall clock moved to `moment` (ISO 8601), ticking on from there: time.time(),
    datetime.now() and timezone.now() all read it. tests/suite.py runs the SQLite leg so
    (PORTAL_TEST_CLOCK), at a moment a test written for daytime on a weekday fails."""
    import time_machine

    return time_machine.travel(datetime.fromisoformat(moment), tick=True)


def pytest_configure(config: pytest.Config) -> None:
    """On SQLite the test database is a file, whichever tests run.

    Django's default is a shared-cache in-memory database: there a thread's own connection
    meets a table lock, not the busy timeout, and a racing test failed with "database table is
    locked", unless the browser tests' conftest (which needs a file for gunicorn) happened to be
    collected too: the racing tests passed in the whole suite and failed in their file alone.
    A file is also what production runs: WAL, and writers queued by BEGIN IMMEDIATE."""
    global _DB_DIR
    database = django_settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and _DB_DIR is None:
        _DB_DIR = tempfile.mkdtemp(prefix="portal-test-db-")
        database.setdefault("TEST", {})["NAME"] = str(Path(_DB_DIR) / "test.sqlite3")
    global _CLOCK
    moment = os.environ.get("PORTAL_TEST_CLOCK")
    if moment and _CLOCK is None:
        _CLOCK = night_clock(moment)
        _CLOCK.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _DB_DIR is not None:
        shutil.rmtree(_DB_DIR, ignore_errors=True)
    if _CLOCK is not None:
        _CLOCK.stop()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AXES_ENABLED = False
    # Hashing is deliberately slow; tests need logins, not protection against brute force.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SMS_BACKEND = "installations.sms.InMemoryBackend"
    InMemoryBackend.outbox.clear()
    # The live feed's one-second memo of each scope's newest number lives in this process:
    # a test starts without what an earlier test's rows (rolled back, ids reused) left in it.
    live_selectors.forget_all()


@dataclass
class Cast:
    partner: Partner
    other_partner: Partner
    partner_user: Any
    other_partner_user: Any
    handyman: Handyman
    other_handyman: Handyman
    staff: Any
    superuser: Any

    def installation(
        self,
        status: str = "SCHEDULED",
        *,
        handyman: Handyman | None = None,
        partner: Partner | None = None,
        **extra,
    ) -> Installation:
        partner = partner or self.partner
        actor = self.partner_user if partner == self.partner else self.other_partner_user
        day = extra.get("scheduled_date") or booking_day()
        if status in SET_OFF:
            # "On my way" opens on the job's own day (models.its_day_has_come): a job walked
            # past it is set off on today's date, then put back on the day asked for (tomorrow
            # by default, as every other job) as it stands. A job under way whose date says a
            # later day exists (set off before the rule, as the demo and scripts could), and the
            # pages show it; tests of the rule itself book today's jobs.
            extra["scheduled_date"] = timezone.localdate()
        inst = make_installation(partner=partner, actor=actor, **extra)
        inst = walk_to(
            inst,
            status,
            partner_user=actor,
            handyman=handyman or self.handyman,
            staff=self.staff,
        )
        if day != inst.scheduled_date:
            Installation.objects.filter(pk=inst.pk).update(scheduled_date=day)
            inst.refresh_from_db()
        return inst

    def customer_of(self, installation: Installation) -> CustomerActor:
        return CustomerActor(installation.pk, installation.customer.name)


@pytest.fixture
def jobs_booked_today(cast, monkeypatch):
    """Jobs booked for today unless a test says otherwise: its handyman sets off for them, and
    "On my way" opens on the job's own day (models.its_day_has_come)."""
    real = cast.installation

    def installation(status: str = "SCHEDULED", **extra) -> Installation:
        extra.setdefault("scheduled_date", timezone.localdate())
        return real(status, **extra)

    monkeypatch.setattr(cast, "installation", installation)


def _platform_staff():
    """Staff who run the platform: they view installations and retry messages (a staff
    account without these permissions reads no record's files and retries nothing)."""
    from django.contrib.auth.models import Permission

    user = UserFactory(username="staff", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="installations",
            codename__in=["view_installation", "change_message"],
        )
    )
    return user


@pytest.fixture
def cast(db) -> Cast:
    partner = PartnerFactory(name="Acme Appliances")
    other = PartnerFactory(name="Beta Kitchens")
    handyman = HandymanFactory(user=UserFactory(username="hank", first_name="Hank"))
    other_handyman = HandymanFactory(user=UserFactory(username="hana", first_name="Hana"))
    handyman.partners.add(partner, other)
    other_handyman.partners.add(partner)
    return Cast(
        partner=partner,
        other_partner=other,
        partner_user=PartnerUserFactory(partner=partner, user__username="acme").user,
        other_partner_user=PartnerUserFactory(partner=other, user__username="beta").user,
        handyman=handyman,
        other_handyman=other_handyman,
        staff=_platform_staff(),
        superuser=UserFactory(username="root", is_staff=True, is_superuser=True),
    )


@pytest.fixture
def root_client(client, cast):
    """Signed in to the staff admin as the superuser."""
    client.force_login(cast.superuser)
    return client


@pytest.fixture
def staff_client(client, cast):
    """Signed in to the staff admin as staff allowed to view and change installations."""
    grant(cast.staff, *STAFF_PERMS)
    client.force_login(cast.staff)
    return client
