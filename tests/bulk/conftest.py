from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone


@pytest.fixture
def cast(cast):
    """Scheduled rows on successive days: one handyman can take them all without the overlap
    rule of issue 12 asking for a confirmation (that rule has its own test here)."""
    days = itertools.count(10)  # clear of the other statuses, which stay on tomorrow
    made = cast.installation

    def installation(status: str = "SCHEDULED", **extra):
        if status == "SCHEDULED":
            extra.setdefault("scheduled_date", timezone.localdate() + timedelta(days=next(days)))
        return made(status, **extra)

    cast.installation = installation
    return cast
