"""A database error in the middle of a change leaves no partial write."""

from __future__ import annotations

import pytest
from django.db import DatabaseError

from installations import notifications, services
from installations.demo import photo_upload, png_bytes
from installations.models import Installation, Message, PartnerStatusCount, StatusChange
from installations.statuses import Status


def state(inst: Installation) -> tuple:
    inst.refresh_from_db()
    return (
        inst.status,
        inst.version,
        inst.handyman_id,
        StatusChange.objects.filter(installation=inst).count(),
        Message.objects.filter(installation=inst).count(),
        tuple(PartnerStatusCount.objects.order_by("status").values_list("status", "count")),
    )


def _fail(*args, **kwargs):
    raise DatabaseError("simulated: the disk went away")


@pytest.mark.parametrize("where", ["history", "counters", "messages"])
def test_a_database_error_mid_transition_writes_nothing(cast, monkeypatch, where):
    inst = cast.installation(Status.INSTALLATION_IN_PROGRESS)
    inst = services.installation_complete(
        installation=inst,
        photos=[photo_upload()],
        signature_png=png_bytes(),
        actor=cast.handyman.user,
    )
    before = state(inst)
    if where == "history":
        monkeypatch.setattr(StatusChange.objects, "create", _fail)
    elif where == "counters":
        monkeypatch.setattr(services, "_bump_count", _fail)
    else:
        monkeypatch.setattr(notifications, "queue_for_change", _fail)
    with pytest.raises(DatabaseError):
        services.installation_send_contract(installation=inst, actor=cast.handyman.user)
    monkeypatch.undo()
    assert state(inst) == before
    # And the same change goes through once the fault is gone.
    services.installation_send_contract(installation=inst, actor=cast.handyman.user)
    inst.refresh_from_db()
    assert inst.status == Status.CONTRACT_SENT
