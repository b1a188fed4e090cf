"""The status graph: exactly the issue's edges, generated checks over every pair of statuses."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_fsm import TransitionNotAllowed

from installations import services
from installations.demo import photo_upload, png_bytes
from installations.models import Installation
from installations.statuses import (
    GROUPS,
    GROUPS_BY_SLUG,
    NON_TERMINAL_STATUSES,
    TERMINAL_STATUSES,
    Status,
)

S = Status
# The edges the foundations issue lists, written out independently of the model.
EXPECTED_EDGES = {
    (S.SCHEDULED, S.INSTALLER_ASSIGNED, "assign"),
    (S.INSTALLER_ASSIGNED, S.INSTALLER_ASSIGNED, "reassign"),
    (S.EN_ROUTE, S.INSTALLER_ASSIGNED, "reassign"),
    (S.SCHEDULED, S.REJECTED, "reject"),
    (S.INSTALLER_ASSIGNED, S.EN_ROUTE, "set_off"),
    (S.EN_ROUTE, S.INSTALLATION_IN_PROGRESS, "arrive"),
    (S.INSTALLATION_IN_PROGRESS, S.INSTALLATION_COMPLETED, "complete"),
    (S.INSTALLATION_COMPLETED, S.CONTRACT_SENT, "send_contract"),
    (S.CONTRACT_SENT, S.CONTRACT_SIGNED, "sign"),
    (S.CONTRACT_SIGNED, S.CUSTOMER_APPROVED, "approve"),
} | {(s, S.CANCELLED, "cancel") for s in NON_TERMINAL_STATUSES}


def model_edges() -> set[tuple[str, str, str]]:
    field = Installation._meta.get_field("status")
    return {(t.source, t.target, t.name) for t in field.get_all_transitions(Installation)}


def test_the_graph_has_exactly_the_issues_edges_and_none_leaves_a_terminal_status():
    # Equality with the written-out edges also rules out any other pair of statuses.
    assert model_edges() == EXPECTED_EDGES
    # The written-out edges themselves: no wildcard source, nothing out of a finished status.
    assert not [edge for edge in EXPECTED_EDGES if edge[0] in TERMINAL_STATUSES]
    assert {edge[0] for edge in EXPECTED_EDGES} <= set(Status.values)


def test_there_are_exactly_the_ten_statuses_of_the_guide():
    assert [s.value for s in Status] == [
        "SCHEDULED",
        "INSTALLER_ASSIGNED",
        "EN_ROUTE",
        "INSTALLATION_IN_PROGRESS",
        "INSTALLATION_COMPLETED",
        "CONTRACT_SENT",
        "CONTRACT_SIGNED",
        "CUSTOMER_APPROVED",
        "CANCELLED",
        "REJECTED",
    ]
    assert all(label and label != value for value, label in Status.choices)


def test_groups_are_the_guides_and_cover_every_status_once():
    assert [(g.slug, g.label) for g in GROUPS] == [
        ("scheduled", "Scheduled"),
        ("en_route", "En Route"),
        ("in_progress", "In Progress"),
        ("approved", "Approved"),
        ("rejected", "Rejected"),
    ]
    assert GROUPS_BY_SLUG["in_progress"].statuses == (
        S.INSTALLATION_IN_PROGRESS,
        S.INSTALLATION_COMPLETED,
        S.CONTRACT_SENT,
        S.CONTRACT_SIGNED,
    )
    assert GROUPS_BY_SLUG["rejected"].statuses == (S.CANCELLED, S.REJECTED)
    all_statuses = [s for g in GROUPS for s in g.statuses]
    assert sorted(all_statuses) == sorted(Status.values)


def test_the_status_field_is_protected(db, cast):
    inst = cast.installation()
    with pytest.raises(AttributeError):
        inst.status = Status.CUSTOMER_APPROVED


def _attempt(cast, inst: Installation, name: str) -> Installation:
    """Run transition `name` through the service layer with an actor entitled to it."""
    handyman_user = cast.handyman.user
    if name == "assign":
        return services.installation_assign(
            installation=inst, handyman=cast.handyman, actor=cast.partner_user
        )
    if name == "reassign":
        other = cast.other_handyman if inst.handyman_id == cast.handyman.pk else cast.handyman
        return services.installation_reassign(
            installation=inst, handyman=other, actor=cast.partner_user
        )
    if name == "reject":
        return services.installation_reject(
            installation=inst, reason="No stock.", actor=cast.partner_user
        )
    if name == "cancel":
        return services.installation_cancel(installation=inst, reason="Moved.", actor=cast.staff)
    if name == "set_off":
        return services.installation_set_off(installation=inst, eta_minutes=15, actor=handyman_user)
    if name == "arrive":
        return services.installation_arrive(installation=inst, actor=handyman_user)
    if name == "complete":
        return services.installation_complete(
            installation=inst,
            photos=[photo_upload()],
            signature_png=png_bytes(),
            actor=handyman_user,
        )
    if name == "send_contract":
        return services.installation_send_contract(installation=inst, actor=handyman_user)
    if name == "sign":
        return services.installation_sign(
            installation=inst,
            name="Jo Bloggs",
            signature_png=png_bytes(),
            ip="10.0.0.1",
            actor=cast.customer_of(inst),
        )
    if name == "approve":
        return services.installation_approve(installation=inst, actor=cast.customer_of(inst))
    raise AssertionError(name)


TRANSITION_NAMES = sorted({name for _, _, name in EXPECTED_EDGES})


@pytest.mark.parametrize("source", list(Status))
@pytest.mark.usefixtures("jobs_booked_today")
def test_every_transition_from_every_status_works_exactly_on_the_allowed_edges(cast, source):
    for name in TRANSITION_NAMES:
        inst = cast.installation(source)
        allowed = {t for s, t, n in EXPECTED_EDGES if s == source and n == name}
        if allowed:
            after = _attempt(cast, inst, name)
            assert after.status in allowed
            after.refresh_from_db()
            assert after.status in allowed
        else:
            version = inst.version
            with pytest.raises(services.TransitionRefused):
                _attempt(cast, inst, name)
            inst.refresh_from_db()
            assert inst.status == source
            assert inst.version == version


def test_a_status_is_never_skipped_on_the_model_itself(cast):
    inst = cast.installation()
    with pytest.raises(TransitionNotAllowed):
        inst.approve()
    with pytest.raises(TransitionNotAllowed):
        inst.arrive()


def test_reassign_must_choose_a_different_handyman(cast):
    inst = cast.installation(S.INSTALLER_ASSIGNED)
    with pytest.raises(ValidationError) as err:
        services.installation_reassign(
            installation=inst, handyman=cast.handyman, actor=cast.partner_user
        )
    sentence = f"{cast.handyman.display_name} is already assigned; choose someone else."
    assert err.value.message_dict == {"handyman": [sentence]}
    inst.refresh_from_db()
    assert inst.version == 2


def test_reassign_from_en_route_clears_the_departure(cast):
    inst = cast.installation(S.EN_ROUTE)
    inst = services.installation_reassign(
        installation=inst, handyman=cast.other_handyman, actor=cast.partner_user
    )
    assert inst.status == S.INSTALLER_ASSIGNED
    assert inst.handyman == cast.other_handyman
    assert inst.departed_at is None and inst.eta_minutes is None


def test_only_handymen_serving_the_partner_can_be_assigned(cast):
    inst = cast.installation(partner=cast.other_partner)  # hana does not serve Beta
    with pytest.raises(ValidationError) as err:
        services.installation_assign(
            installation=inst, handyman=cast.other_handyman, actor=cast.other_partner_user
        )
    # On the handyman field, so that the dialog shows it beside the choices.
    sentence = f"{cast.other_handyman.display_name} does not work for Beta Kitchens."
    assert err.value.message_dict == {"handyman": [sentence]}
    inst.refresh_from_db()
    assert inst.status == S.SCHEDULED and inst.handyman is None


@pytest.mark.parametrize("service", [services.installation_reject, services.installation_cancel])
@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_and_cancel_need_a_reason(cast, service, reason):
    inst = cast.installation()
    actor = cast.staff
    with pytest.raises(ValidationError) as err:
        service(installation=inst, reason=reason, actor=actor)
    what = "rejection" if service is services.installation_reject else "cancellation"
    # On the reason field, so that a form shows it beside the box.
    assert err.value.message_dict == {"reason": [f"Please give a reason for the {what}."]}
    inst.refresh_from_db()
    assert inst.status == S.SCHEDULED


@pytest.mark.parametrize("service", [services.installation_reject, services.installation_cancel])
def test_a_stale_version_is_refused_with_a_sentence_and_changes_nothing(cast, service):
    inst = cast.installation()
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    with pytest.raises(services.TransitionRefused) as refused:
        service(installation=inst, reason="No stock", actor=cast.staff, expected_version=1)
    assert refused.value.message == (
        "Someone else changed this installation a moment ago: it is now “Installer assigned”. "
        "Nothing was changed; check it and try again."
    )
    assert refused.value.installation.version == 2
    inst.refresh_from_db()
    assert (inst.status, inst.version) == (S.INSTALLER_ASSIGNED, 2)


def test_reasons_and_stage_timestamps_are_stored(cast):
    rejected = cast.installation(S.REJECTED)
    assert rejected.rejection_reason == "Outside our service area."
    assert rejected.rejected_at is not None
    approved = cast.installation(S.CUSTOMER_APPROVED)
    for stamp in (
        "assigned_at",
        "departed_at",
        "arrived_at",
        "completed_at",
        "contract_sent_at",
        "signed_at",
        "approved_at",
    ):
        assert getattr(approved, stamp) is not None, stamp
    assert approved.time_on_site is not None
    assert approved.photos.count() == 1
    assert approved.completion_signature and approved.contract_signature
    cancelled = cast.installation(S.CANCELLED)
    assert cancelled.cancellation_reason == "Customer moved house."
    assert cancelled.cancelled_at is not None


def test_graph_transitions_draws_no_edge_out_of_a_terminal_status():
    import io
    import re

    from django.core.management import call_command

    out = io.StringIO()
    call_command("graph_transitions", "installations.Installation", stdout=out)
    edges = re.findall(r'status\.(\w+)" -> "[\w.]+status\.(\w+)" \[label=(\w+)\]', out.getvalue())
    assert {(s, t, n) for s, t, n in edges} == EXPECTED_EDGES
