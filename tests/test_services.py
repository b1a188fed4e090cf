"""The service layer: who may act, history, stale pages, locks, follow-ups and rebooking."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count
from django.utils import dateformat, timezone

from installations import selectors, services
from installations.demo import png_bytes, walk_to
from installations.models import (
    Customer,
    CustomerActor,
    Installation,
    InstallationPhoto,
    PartnerStatusCount,
    StatusChange,
)
from installations.scheduling.text import long_day_text
from installations.statuses import GROUPS, TERMINAL_STATUSES, Status

S = Status


def actors(cast, inst):
    return {
        "partner_user": cast.partner_user,
        "other_partner_user": cast.other_partner_user,
        "assigned_handyman": cast.handyman.user,
        "other_handyman": cast.other_handyman.user,
        "staff": cast.staff,
        "superuser": cast.superuser,
        "customer": CustomerActor(inst.pk, "Jo"),
        "other_customer": CustomerActor(inst.pk + 1000, "Not Jo"),
    }


# Who may take each transition (from its source status), by role.
WHO = {
    "assign": {"partner_user", "staff", "superuser"},
    "reassign": {"partner_user", "staff", "superuser"},
    "reject": {"partner_user", "staff", "superuser"},
    "set_off": {"assigned_handyman"},
    "arrive": {"assigned_handyman"},
    "complete": {"assigned_handyman"},
    "send_contract": {"assigned_handyman", "staff", "superuser"},
    "sign": {"customer"},
    "approve": {"customer"},
    "cancel": {"staff", "superuser"},
}
SOURCE = {
    "assign": S.SCHEDULED,
    "reassign": S.INSTALLER_ASSIGNED,
    "reject": S.SCHEDULED,
    "set_off": S.INSTALLER_ASSIGNED,
    "arrive": S.EN_ROUTE,
    "complete": S.INSTALLATION_IN_PROGRESS,
    "send_contract": S.INSTALLATION_COMPLETED,
    "sign": S.CONTRACT_SENT,
    "approve": S.CONTRACT_SIGNED,
    "cancel": S.EN_ROUTE,
}


@pytest.mark.parametrize("name", sorted(WHO))
def test_who_may_take_each_transition(cast, name):
    inst = cast.installation(SOURCE[name], scheduled_date=timezone.localdate())  # its day
    for role, actor in actors(cast, inst).items():
        transition = getattr(inst, name)
        from django_fsm import has_transition_perm

        assert has_transition_perm(transition, actor) == (role in WHO[name]), (name, role)
        offered = {a.name for a in selectors.available_actions(inst, actor)}
        assert (name in offered) == (role in WHO[name]), (name, role)


def test_a_refused_actor_changes_nothing(cast):
    inst = cast.installation(S.SCHEDULED)
    before = StatusChange.objects.count()
    with pytest.raises(services.TransitionRefused, match="not allowed"):
        services.installation_assign(
            installation=inst, handyman=cast.handyman, actor=cast.other_partner_user
        )
    inst.refresh_from_db()
    assert inst.status == S.SCHEDULED and inst.handyman is None and inst.version == 1
    assert StatusChange.objects.count() == before


def test_each_transition_writes_one_history_entry_with_who_when_from_to_and_why(cast):
    inst = cast.installation(S.SCHEDULED)
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    services.installation_cancel(installation=inst, reason="Customer moved.", actor=cast.staff)
    entries = list(inst.history.order_by("id"))
    assert [(e.kind, e.from_status, e.to_status) for e in entries] == [
        ("created", "", S.SCHEDULED),
        ("transition", S.SCHEDULED, S.INSTALLER_ASSIGNED),
        ("transition", S.INSTALLER_ASSIGNED, S.CANCELLED),
    ]
    assert entries[1].actor == cast.partner_user and entries[1].transition == "assign"
    assert entries[2].actor == cast.staff and entries[2].reason == "Customer moved."
    assert entries[2].actor_name.endswith("(staff)")
    assert all(e.created_at <= timezone.now() for e in entries)


def test_the_full_path_history_replays_through_allowed_edges(cast):
    from tests.test_state_machine import EXPECTED_EDGES

    inst = cast.installation(S.CUSTOMER_APPROVED)
    entries = list(inst.history.order_by("id"))
    assert entries[0].to_status == S.SCHEDULED
    for entry in entries[1:]:
        assert (entry.from_status, entry.to_status, entry.transition) in EXPECTED_EDGES
    assert entries[-1].to_status == inst.status
    customer_entries = [e for e in entries if e.transition in ("sign", "approve")]
    assert all(e.actor is None and "(customer)" in e.actor_name for e in customer_entries)


def test_a_stale_version_is_refused_and_changes_nothing(cast):
    inst = cast.installation(S.SCHEDULED)
    seen_version = inst.version
    services.installation_assign(installation=inst, handyman=cast.handyman, actor=cast.partner_user)
    with pytest.raises(services.TransitionRefused, match="Someone else changed"):
        services.installation_reassign(
            installation=inst.pk,
            handyman=cast.other_handyman,
            actor=cast.partner_user,
            expected_version=seen_version,
        )
    inst.refresh_from_db()
    assert inst.handyman == cast.handyman and inst.version == seen_version + 1


def test_a_transition_that_no_longer_applies_says_what_happened(cast):
    inst = cast.installation(S.REJECTED)
    with pytest.raises(services.TransitionRefused) as err:
        services.installation_assign(
            installation=inst, handyman=cast.handyman, actor=cast.partner_user
        )
    assert err.value.message == (
        f"#{inst.pk} was rejected, so rebook it if it should still go ahead. Nothing was changed."
    )


def test_a_transition_the_job_has_not_reached_says_not_yet_rather_than_no_longer(cast):
    inst = cast.installation(S.INSTALLER_ASSIGNED)
    with pytest.raises(services.TransitionRefused) as err:
        services.installation_send_contract(installation=inst, actor=cast.staff)
    assert err.value.message == (
        f"#{inst.pk} has a handyman, so it cannot be sent a contract yet. Nothing was changed."
    )


def test_a_rolled_back_transaction_leaves_no_trace(cast):
    inst = cast.installation(S.SCHEDULED)
    history = StatusChange.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.installation_assign(
            installation=inst, handyman=cast.handyman, actor=cast.partner_user
        )
        raise RuntimeError("boom")
    inst.refresh_from_db()
    assert inst.status == S.SCHEDULED and StatusChange.objects.count() == history


def test_the_complete_checklist_needs_photos_and_a_signature(cast):
    inst = cast.installation(S.INSTALLATION_IN_PROGRESS)
    with pytest.raises(ValidationError) as err:
        services.installation_complete(
            installation=inst, photos=[], signature_png=b"", actor=cast.handyman.user
        )
    assert set(err.value.message_dict) == {"photos", "signature"}
    inst.refresh_from_db()
    assert inst.status == S.INSTALLATION_IN_PROGRESS and not inst.photos.exists()


def _photo() -> ContentFile:
    return ContentFile(png_bytes((64, 48), "#9cc"), name="finished.png")


@pytest.mark.parametrize(
    ("signature", "name", "typed", "field"),
    [(b"", "Jo Customer", False, "signature"), (b"", " ", True, "signer_name")],
    ids=["neither-drawn-nor-ticked", "ticked-without-a-name"],
)
def test_a_close_needs_a_drawing_or_a_typed_name_with_the_statement(
    cast, signature, name, typed, field
):
    inst = cast.installation(S.INSTALLATION_IN_PROGRESS)
    with pytest.raises(ValidationError) as refused:
        services.installation_complete(
            installation=inst,
            photos=[_photo()],
            signature_png=signature,
            signer_name=name,
            typed=typed,
            actor=cast.handyman.user,
        )
    assert set(refused.value.message_dict) == {field}
    row = Installation.objects.get(pk=inst.pk)
    assert row.status == S.INSTALLATION_IN_PROGRESS and row.version == inst.version
    assert not row.photos.exists() and not row.history.filter(transition="complete").exists()
    assert (row.completion_signature_kind, row.completion_signer_name) == ("", "")


def test_a_close_signed_with_a_typed_name_keeps_the_name_and_no_image(cast):
    inst = cast.installation(S.INSTALLATION_IN_PROGRESS)
    services.installation_complete(
        installation=inst,
        photos=[_photo()],
        signer_name="  Jo Customer ",
        typed=True,
        actor=cast.handyman.user,
        expected_version=inst.version,
    )
    row = Installation.objects.get(pk=inst.pk)
    assert row.status == S.INSTALLATION_COMPLETED
    assert row.completion_signature_kind == Installation.SignatureKind.TYPED
    assert row.completion_signer_name == "Jo Customer"
    assert not row.completion_signature
    assert row.photos.count() == 1


def test_a_drawn_close_is_recorded_as_drawn(cast):
    inst = cast.installation(S.INSTALLATION_IN_PROGRESS)
    services.installation_complete(
        installation=inst,
        photos=[_photo()],
        signature_png=png_bytes(),
        signer_name="Not used without the statement",
        actor=cast.handyman.user,
    )
    row = Installation.objects.get(pk=inst.pk)
    assert row.completion_signature
    assert (row.completion_signature_kind, row.completion_signer_name) == ("drawn", "")


def _close(cast, inst, photos):
    return services.installation_complete(
        installation=inst, photos=photos, signature_png=png_bytes(), actor=cast.handyman.user
    )


def test_a_close_over_the_jobs_photo_total_stores_nothing(cast, settings):
    # The service's own check, for any caller and for the photos a job already has: the
    # checklist form only sees the photos it was sent.
    inst = cast.installation(S.INSTALLATION_IN_PROGRESS)
    InstallationPhoto.objects.create(installation=inst, image=_photo())
    settings.MAX_PHOTO_TOTAL_BYTES = 2 * _photo().size - 1  # the stored one, and one more

    with pytest.raises(ValidationError) as refused:
        _close(cast, inst, [ContentFile(png_bytes((64, 48), "#c96"), name="b.png")])

    assert "Too many photos for this job" in refused.value.message_dict["photos"][0]
    row = Installation.objects.get(pk=inst.pk)
    assert row.status == S.INSTALLATION_IN_PROGRESS and row.photos.count() == 1


def test_a_close_counts_new_photos_by_the_size_they_were_sent(cast, settings):
    # checklist.check_photo re-encodes each photo and notes the size sent, which the page,
    # the upload counter and the form count: within the limit as sent is within it here too.
    inst = cast.installation(S.INSTALLATION_IN_PROGRESS)
    photo = _photo()
    photo.sent_size = 100
    settings.MAX_PHOTO_TOTAL_BYTES = 100

    _close(cast, inst, [photo])

    assert Installation.objects.get(pk=inst.pk).status == S.INSTALLATION_COMPLETED


def test_set_off_records_the_eta(cast):
    inst = cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=timezone.localdate())
    inst = services.installation_set_off(
        installation=inst, eta_minutes=45, actor=cast.handyman.user
    )
    assert inst.eta_minutes == 45
    assert inst.expected_arrival_at - inst.departed_at == timedelta(minutes=45)


@pytest.mark.parametrize(("minutes", "taken"), [(0, False), (1, True), (240, True), (241, False)])
def test_an_arrival_estimate_is_one_minute_to_four_hours(cast, minutes, taken):
    inst = cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=timezone.localdate())
    if taken:
        services.installation_set_off(
            installation=inst, eta_minutes=minutes, actor=cast.handyman.user
        )
    else:
        with pytest.raises(ValidationError, match="up to 4 hours"):
            services.installation_set_off(
                installation=inst, eta_minutes=minutes, actor=cast.handyman.user
            )
    inst.refresh_from_db()
    assert inst.status == (S.EN_ROUTE if taken else S.INSTALLER_ASSIGNED)


# --- Locked finished records ---------------------------------------------------------------------


@pytest.mark.parametrize("status", sorted(TERMINAL_STATUSES))
def test_finished_records_are_locked_for_partners_and_handymen(cast, status):
    inst = cast.installation(status)
    assert inst.is_locked
    for actor in (cast.partner_user, cast.handyman.user, cast.staff):
        assert selectors.available_actions(inst, actor) == []
    with pytest.raises(services.TransitionRefused, match="locked"):
        services.installation_update(installation=inst, actor=cast.partner_user, notes="x")
    inst.refresh_from_db()
    assert inst.notes == ""


def test_open_records_can_be_edited_by_their_partner(cast):
    inst = cast.installation(S.SCHEDULED)
    inst = services.installation_update(
        installation=inst,
        actor=cast.partner_user,
        notes="Side gate.",
        expected_version=inst.version,
    )
    assert inst.notes == "Side gate." and inst.version == 2
    with pytest.raises(services.TransitionRefused):
        services.installation_update(installation=inst, actor=cast.other_partner_user, notes="x")


def test_an_edit_from_a_page_drawn_before_another_edit_is_refused_and_changes_nothing(cast):
    inst = cast.installation(S.SCHEDULED)
    seen = inst.version
    services.installation_update(
        installation=inst, actor=cast.partner_user, notes="Side gate.", expected_version=seen
    )
    with pytest.raises(services.TransitionRefused, match="Someone else changed"):
        services.installation_update(
            installation=inst.pk, actor=cast.staff, notes="Front door.", expected_version=seen
        )
    inst.refresh_from_db()
    assert inst.notes == "Side gate." and inst.version == seen + 1


@pytest.mark.parametrize(
    ("days", "start", "end", "field"),
    [(-1, 8, 10, "scheduled_date"), (2, 10, 10, "window_end"), (2, 12, 10, "window_end")],
)
def test_the_new_installation_service_refuses_a_bad_slot_and_creates_no_one(
    cast, days, start, end, field
):
    # The form checks the slot first; the service's own check is what holds for any other
    # caller, and then neither the customer nor the job is created.
    with pytest.raises(ValidationError) as refused:
        services.installation_schedule(
            partner=cast.partner,
            customer=None,
            new_customer={"name": "Jo Early", "phone": "", "email": ""},
            site_address="1 Early Road",
            scheduled_date=timezone.localdate() + timedelta(days=days),
            window_start=time(start),
            window_end=time(end),
            actor=cast.partner_user,
        )
    assert field in refused.value.message_dict
    assert not Customer.objects.filter(name="Jo Early").exists()
    assert not Installation.objects.filter(site_address="1 Early Road").exists()


def test_an_override_of_a_locked_record_needs_a_reason_and_is_recorded(cast):
    inst = cast.installation(S.CUSTOMER_APPROVED)
    with pytest.raises(ValidationError):
        services.installation_override(
            installation=inst, actor=cast.superuser, reason=" ", changes={"notes": "Fixed typo"}
        )
    with pytest.raises(services.TransitionRefused):
        services.installation_override(
            installation=inst, actor=cast.staff, reason="typo", changes={"notes": "Fixed typo"}
        )
    inst = services.installation_override(
        installation=inst, actor=cast.superuser, reason="Customer asked", changes={"notes": "Fixed"}
    )
    entry = inst.history.get(kind="override")
    assert entry.changes == {"notes": ["", "Fixed"]} and entry.reason == "Customer asked"
    assert inst.status == S.CUSTOMER_APPROVED


# --- Follow-ups and rebooking ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", [S.INSTALLATION_IN_PROGRESS, S.INSTALLATION_COMPLETED, S.CUSTOMER_APPROVED]
)
def test_a_follow_up_is_a_child_and_leaves_the_parent_as_it_was(cast, status):
    parent = cast.installation(status)
    version = parent.version
    child = services.installation_book_follow_up(installation=parent, actor=cast.handyman.user)
    parent.refresh_from_db()
    assert parent.status == status and parent.version == version
    assert child.kind == Installation.Kind.FOLLOW_UP and child.parent == parent
    assert child.status == S.SCHEDULED and child.customer == parent.customer
    assert list(parent.follow_ups.all()) == [child]


@pytest.mark.parametrize("status", [S.SCHEDULED, S.INSTALLER_ASSIGNED, S.EN_ROUTE])
def test_a_follow_up_is_refused_before_the_handyman_has_been_on_site(cast, status):
    parent = cast.installation(status)
    with pytest.raises(services.TransitionRefused, match="once the handyman has been on site"):
        services.installation_book_follow_up(installation=parent, actor=cast.partner_user)
    assert not parent.follow_ups.exists()


def test_a_follow_up_cannot_come_before_the_visit_it_follows(cast):
    parent = cast.installation(S.INSTALLATION_IN_PROGRESS)
    later = timezone.localdate() + timedelta(days=5)
    type(parent).objects.filter(pk=parent.pk).update(scheduled_date=later)
    with pytest.raises(ValidationError, match="comes after the visit it follows up"):
        services.installation_book_follow_up(
            installation=parent, actor=cast.partner_user, scheduled_date=later - timedelta(days=1)
        )
    assert not parent.follow_ups.exists()
    child = services.installation_book_follow_up(
        installation=parent, actor=cast.partner_user, scheduled_date=later
    )
    assert child.scheduled_date == later


def test_cancelling_a_job_cancels_its_follow_up_not_yet_started(cast):
    parent = cast.installation(S.INSTALLATION_COMPLETED)
    waiting = services.installation_book_follow_up(installation=parent, actor=cast.partner_user)
    started = services.installation_book_follow_up(installation=parent, actor=cast.partner_user)
    assert started == waiting  # one open follow-up at a time
    # A second one the handyman has already set off for: real work, it stays.
    on_the_way = walk_to(
        services.installation_create(
            partner=parent.partner,
            customer=parent.customer,
            site_address=parent.site_address,
            scheduled_date=timezone.localdate(),
            window_start=parent.window_start,
            window_end=parent.window_end,
            actor=cast.partner_user,
            kind=Installation.Kind.FOLLOW_UP,
            parent=parent,
        ),
        S.EN_ROUTE,
        partner_user=cast.partner_user,
        handyman=cast.handyman,
        staff=cast.staff,
    )
    parent.refresh_from_db()
    version = parent.version
    services.installation_cancel(
        installation=parent, actor=cast.staff, reason="Refund.", expected_version=version
    )
    waiting.refresh_from_db()
    on_the_way.refresh_from_db()
    assert waiting.status == S.CANCELLED
    assert (
        waiting.cancellation_reason
        == f"Cancelled with #{parent.pk}, the job it follows up: Refund."
    )
    entry = waiting.history.get(transition="cancel")
    assert entry.actor == cast.staff
    assert on_the_way.status == S.EN_ROUTE
    # The same form again (a double click) changes nothing more.
    again = services.installation_cancel(
        installation=parent, actor=cast.staff, reason="Refund.", expected_version=version
    )
    assert again.replayed
    assert waiting.history.filter(transition="cancel").count() == 1


def test_ensuring_a_follow_up_books_one_then_returns_it_until_it_is_scheduled(cast):
    parent = cast.installation(S.INSTALLATION_IN_PROGRESS)
    first, booked = services.installation_ensure_follow_up(
        installation=parent, actor=cast.handyman.user
    )
    again, booked_again = services.installation_ensure_follow_up(
        installation=parent, actor=cast.handyman.user
    )
    assert (booked, booked_again) == (True, False) and again == first
    # The visit is booked on the parent's own slot: assigning it to the same handyman is a
    # conflict (issue 12), confirmed here since the test is about booking.
    services.installation_assign(
        installation=first, handyman=cast.handyman, actor=cast.partner_user, confirm_conflict=True
    )
    third, booked_third = services.installation_ensure_follow_up(
        installation=parent, actor=cast.handyman.user
    )
    assert booked_third and third != first
    with pytest.raises(services.TransitionRefused):
        services.installation_ensure_follow_up(installation=parent, actor=cast.other_handyman.user)


def test_another_handyman_cannot_book_a_follow_up(cast):
    parent = cast.installation(S.INSTALLATION_COMPLETED)
    with pytest.raises(services.TransitionRefused):
        services.installation_book_follow_up(installation=parent, actor=cast.other_handyman.user)


@pytest.mark.parametrize("status", [S.CANCELLED, S.REJECTED])
def test_rebook_copies_a_dead_record_into_a_new_scheduled_one(cast, status):
    old = cast.installation(status, notes="Blue door")
    new = services.installation_rebook(
        installation=old,
        actor=cast.partner_user,
        scheduled_date=timezone.localdate() + timedelta(days=3),
    )
    old.refresh_from_db()
    assert old.status == status
    assert new.status == S.SCHEDULED and new.rebooked_from == old and new.notes == "Blue door"
    history = set(old.customer.installations.values_list("pk", flat=True))
    assert {old.pk, new.pk} <= history
    with pytest.raises(services.TransitionRefused):
        services.installation_book_follow_up(installation=old, actor=cast.partner_user)


def test_only_dead_records_can_be_rebooked(cast):
    inst = cast.installation(S.SCHEDULED)
    with pytest.raises(services.TransitionRefused, match="Only cancelled or rejected"):
        services.installation_rebook(
            installation=inst, actor=cast.partner_user, scheduled_date=timezone.localdate()
        )


def test_scheduling_refuses_a_past_date(cast):
    from tests.factories import make_installation

    with pytest.raises(ValidationError) as err:
        make_installation(
            partner=cast.partner,
            actor=cast.partner_user,
            scheduled_date=timezone.localdate() - timedelta(days=1),
        )
    assert "scheduled_date" in err.value.message_dict


# --- Counters -------------------------------------------------------------------------------------


def test_status_counters_always_equal_a_real_count(cast):
    for status in Status:
        cast.installation(status)
    cast.installation(S.EN_ROUTE, partner=cast.other_partner)
    real = {
        (row["partner_id"], row["status"]): row["n"]
        for row in Installation.objects.values("partner_id", "status").annotate(n=Count("*"))
    }
    counted = {
        (c.partner_id, c.status): c.count for c in PartnerStatusCount.objects.filter(count__gt=0)
    }
    assert counted == real
    cards = selectors.group_counts(cast.partner)
    assert [c.group for c in cards] == list(GROUPS)
    assert sum(c.count for c in cards) == Installation.objects.filter(partner=cast.partner).count()
    services.recount_partner_statuses()
    assert {(c.partner_id, c.status): c.count for c in PartnerStatusCount.objects.all()} == real


def test_group_counts_take_one_query(cast, django_assert_num_queries):
    cast.installation(S.SCHEDULED)
    with django_assert_num_queries(1):
        selectors.group_counts(cast.partner)


def _sign_snapshot(inst: Installation) -> dict:
    row = Installation.objects.get(pk=inst.pk)
    return {
        "status": row.status,
        "version": row.version,
        "signer": (row.contract_signer_name, row.contract_signed_ip, row.signed_at),
        "signature": (row.contract_signature.name, row.contract_signature_kind),
        "history": list(row.history.values_list("pk", flat=True)),
        "messages": list(row.messages.values_list("pk", flat=True)),
    }


@pytest.mark.parametrize(
    ("name", "signature", "typed", "field"),
    [
        (" ", png_bytes(), False, "name"),
        (" ", b"", True, "name"),
        ("Jo Customer", b"", False, "signature"),
    ],
)
def test_sign_requires_a_name_and_signature(cast, name, signature, typed, field):
    inst = cast.installation(S.CONTRACT_SENT)
    before = _sign_snapshot(inst)
    with pytest.raises(ValidationError) as refused:
        services.installation_sign(
            installation=inst,
            name=name,
            signature_png=signature,
            ip="203.0.113.9",
            actor=cast.customer_of(inst),
            typed=typed,
        )
    assert field in refused.value.message_dict
    assert _sign_snapshot(inst) == before


# --- Repeats of one's own change (issue 11) -----------------------------------------------------


def _repeat_cases(cast):
    """(start status, call(inst, version)) for one transition of each kind of actor."""
    return {
        "assign by the partner": (
            S.SCHEDULED,
            lambda inst, v: services.installation_assign(
                installation=inst.pk,
                handyman=cast.handyman,
                actor=cast.partner_user,
                expected_version=v,
            ),
        ),
        "reject by the partner": (
            S.SCHEDULED,
            lambda inst, v: services.installation_reject(
                installation=inst.pk, reason="Too far", actor=cast.partner_user, expected_version=v
            ),
        ),
        "set off by the handyman": (
            S.INSTALLER_ASSIGNED,
            lambda inst, v: services.installation_set_off(
                installation=inst.pk, eta_minutes=30, actor=cast.handyman.user, expected_version=v
            ),
        ),
        "approve by the customer": (
            S.CONTRACT_SIGNED,
            lambda inst, v: services.installation_approve(
                installation=inst.pk, actor=cast.customer_of(inst), expected_version=v
            ),
        ),
        "cancel by staff": (
            S.EN_ROUTE,
            lambda inst, v: services.installation_cancel(
                installation=inst.pk, reason="Gone", actor=cast.staff, expected_version=v
            ),
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "assign by the partner",
        "reject by the partner",
        "set off by the handyman",
        "approve by the customer",
        "cancel by staff",
    ],
)
def test_it_answers_a_repeat_of_ones_own_change_as_done_without_a_second_change(cast, case):
    start, call = _repeat_cases(cast)[case]
    inst = cast.installation(start, scheduled_date=timezone.localdate())  # "On my way" opens
    seen = inst.version
    first = call(inst, seen)
    changes = StatusChange.objects.filter(installation=inst).count()
    messages = inst.messages.count()

    again = call(inst, seen)

    assert again.pk == first.pk and again.version == first.version == seen + 1
    assert again.status == first.status and again.replayed is True
    assert StatusChange.objects.filter(installation=inst).count() == changes
    assert inst.messages.count() == messages


def test_it_refuses_the_same_transition_with_other_arguments_as_stale(cast):
    inst = cast.installation()
    seen = inst.version
    services.installation_assign(
        installation=inst.pk, handyman=cast.handyman, actor=cast.partner_user, expected_version=seen
    )
    with pytest.raises(services.TransitionRefused, match="Someone else changed"):
        services.installation_assign(
            installation=inst.pk,
            handyman=cast.other_handyman,
            actor=cast.partner_user,
            expected_version=seen,
        )


def test_it_refuses_the_same_change_by_another_person_as_stale(cast):
    inst = cast.installation()
    seen = inst.version
    services.installation_assign(
        installation=inst.pk, handyman=cast.handyman, actor=cast.partner_user, expected_version=seen
    )
    with pytest.raises(services.TransitionRefused, match="Someone else changed"):
        services.installation_assign(
            installation=inst.pk, handyman=cast.handyman, actor=cast.staff, expected_version=seen
        )


def test_it_refuses_a_repeat_once_someone_else_has_changed_it_since(cast):
    inst = cast.installation(scheduled_date=timezone.localdate())
    seen = inst.version
    services.installation_assign(
        installation=inst.pk, handyman=cast.handyman, actor=cast.partner_user, expected_version=seen
    )
    services.installation_set_off(installation=inst.pk, eta_minutes=30, actor=cast.handyman.user)
    with pytest.raises(services.TransitionRefused, match="Someone else changed"):
        services.installation_assign(
            installation=inst.pk,
            handyman=cast.handyman,
            actor=cast.partner_user,
            expected_version=seen,
        )


def test_the_history_entry_records_the_version_it_produced_and_the_arguments(cast):
    inst = cast.installation()
    services.installation_assign(
        installation=inst.pk, handyman=cast.handyman, actor=cast.partner_user, expected_version=1
    )
    change = StatusChange.objects.get(installation=inst, transition="assign")
    assert (change.from_version, change.to_version) == (1, 2)
    assert change.arguments == {"handyman": cast.handyman.pk}


def test_a_reassign_records_the_old_and_the_new_handyman(cast):
    inst = cast.installation(S.INSTALLER_ASSIGNED, handyman=cast.other_handyman)
    services.installation_reassign(
        installation=inst.pk, handyman=cast.handyman, actor=cast.partner_user
    )
    change = StatusChange.objects.get(installation=inst, transition="reassign")
    assert change.from_handyman == cast.other_handyman and change.to_handyman == cast.handyman


# --- One record per form (issue 11, 21.7) --------------------------------------------------------


def test_the_same_creation_token_creates_one_rebooking_and_answers_with_it(cast):
    import uuid

    old = cast.installation(S.REJECTED)
    token = uuid.uuid4()
    day = timezone.localdate() + timedelta(days=3)
    results = [
        services.installation_rebook(
            installation=old.pk, actor=cast.partner_user, scheduled_date=day, token=token
        )
        for _ in range(20)
    ]
    assert len({r.pk for r in results}) == 1
    assert old.rebookings.count() == 1
    assert [r.replayed for r in results] == [False] + [True] * 19


def test_a_creation_token_is_unique_in_the_database(cast):
    import uuid

    from django.db import IntegrityError

    inst = cast.installation()
    token = uuid.uuid4()
    Installation.objects.filter(pk=inst.pk).update(creation_token=token)
    other = cast.installation()
    with pytest.raises(IntegrityError), transaction.atomic():
        Installation.objects.filter(pk=other.pk).update(creation_token=token)


def test_twenty_replays_of_a_follow_up_book_one_visit(cast):
    import uuid

    parent = cast.installation(S.INSTALLATION_COMPLETED)
    token = uuid.uuid4()
    day = timezone.localdate() + timedelta(days=2)
    results = [
        services.installation_book_follow_up(
            installation=parent.pk, actor=cast.partner_user, scheduled_date=day, token=token
        )
        for _ in range(20)
    ]
    assert len({r.pk for r in results}) == 1
    assert parent.follow_ups.count() == 1


def test_a_second_follow_up_while_one_is_open_answers_with_the_open_one(cast):
    import uuid

    parent = cast.installation(S.INSTALLATION_COMPLETED)
    day = timezone.localdate() + timedelta(days=2)
    first = services.installation_book_follow_up(
        installation=parent.pk, actor=cast.partner_user, scheduled_date=day, token=uuid.uuid4()
    )
    second = services.installation_book_follow_up(
        installation=parent.pk, actor=cast.partner_user, scheduled_date=day, token=uuid.uuid4()
    )
    assert second.pk == first.pk and second.replayed is True
    assert parent.follow_ups.count() == 1


# --- What every transition records (mutants of _transition that survived `make mutate`) ---------


def test_a_refusal_carries_the_installation_as_it_now_is(cast):
    # The views re-render the row from it: a refusal without it would show a stale row.
    moved_on = cast.installation(S.REJECTED)
    with pytest.raises(services.TransitionRefused) as no_longer:
        services.installation_assign(
            installation=moved_on.pk, handyman=cast.handyman, actor=cast.partner_user
        )
    assigned = cast.installation(S.INSTALLER_ASSIGNED)
    with pytest.raises(services.TransitionRefused) as not_yours:
        services.installation_set_off(
            installation=assigned.pk, eta_minutes=30, actor=cast.other_handyman.user
        )

    assert no_longer.value.installation.pk == moved_on.pk
    assert no_longer.value.installation.status == S.REJECTED
    assert not_yours.value.installation.pk == assigned.pk


def test_a_step_without_a_reason_records_none_and_names_handymen_only_when_they_change(cast):
    inst = cast.installation(S.SCHEDULED, scheduled_date=timezone.localdate())
    services.installation_assign(installation=inst.pk, handyman=cast.handyman, actor=cast.staff)
    services.installation_set_off(installation=inst.pk, eta_minutes=30, actor=cast.handyman.user)

    assigned, set_off = inst.history.filter(kind=StatusChange.Kind.TRANSITION).order_by("id")
    assert (assigned.reason, set_off.reason) == ("", "")
    assert (assigned.from_handyman, assigned.to_handyman) == (None, cast.handyman)
    # The same handyman before and after: nothing to name.
    assert (set_off.from_handyman, set_off.to_handyman) == (None, None)


def test_each_change_is_announced_once_and_only_after_commit(
    cast, caplog, django_capture_on_commit_callbacks
):
    inst = cast.installation(S.SCHEDULED)
    caplog.set_level("DEBUG", logger="installations.events")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.installation_assign(installation=inst.pk, handyman=cast.handyman, actor=cast.staff)
        assert not [r for r in caplog.records if r.name == "installations.events"]
    for callback in callbacks:
        callback()

    change = inst.history.get(transition="assign")
    announced = [r.getMessage() for r in caplog.records if r.name == "installations.events"]
    assert announced == [f"installation {inst.pk}: assign (history {change.pk})"]


def test_the_locking_query_brings_what_the_history_and_messages_read(
    cast, django_assert_num_queries
):
    # The locked row comes with its partner, customer and handyman (the history entry, the
    # counters and the customer's messages read them): without them each is one more query,
    # taken while the row is locked.
    inst = cast.installation(S.INSTALLER_ASSIGNED, handyman=cast.handyman)
    with transaction.atomic(), django_assert_num_queries(1):
        locked = services._lock(inst.pk)
        assert (locked.partner.name, locked.customer.name) == (
            cast.partner.name,
            inst.customer.name,
        )
        assert locked.handyman.user.get_username() == cast.handyman.user.get_username()


def test_a_change_to_a_record_that_no_longer_exists_is_refused_in_words(cast):
    with pytest.raises(services.TransitionRefused) as refused:
        services.installation_reject(installation=999_999, reason="Gone", actor=cast.staff)

    assert refused.value.message == "This installation no longer exists."


def test_every_history_entry_is_announced_inside_its_transaction(cast):
    """New capabilities (live feed, webhooks, dashboard) follow the history through one signal,
    sent inside the writing transaction: creation, transitions and overrides alike."""
    from installations.signals import history_recorded

    heard = []

    def listen(sender, change, installation, **kwargs):
        heard.append((change.kind, change.to_status, transaction.get_connection().in_atomic_block))

    history_recorded.connect(listen)
    try:
        inst = cast.installation(S.SCHEDULED)
        services.installation_assign(
            installation=inst, handyman=cast.handyman, actor=cast.partner_user
        )
        services.installation_cancel(installation=inst, actor=cast.staff, reason="Moved away")
        services.installation_override(
            installation=inst, actor=cast.superuser, reason="typo", changes={"notes": "Fixed"}
        )
    finally:
        history_recorded.disconnect(listen)
    assert heard == [
        ("created", S.SCHEDULED, True),
        ("transition", S.INSTALLER_ASSIGNED, True),
        ("transition", S.CANCELLED, True),
        ("override", S.CANCELLED, True),
    ]
    assert len(heard) == inst.history.count()


# --- When a step opens: "On my way" on the job's own day -----------------------------------------


def _booked(cast, days: int) -> Installation:
    """His job booked `days` from today (before today: booked then, never started)."""
    job = cast.installation(S.INSTALLER_ASSIGNED, scheduled_date=timezone.localdate())
    day = timezone.localdate() + timedelta(days=days)
    Installation.objects.filter(pk=job.pk).update(scheduled_date=day)
    return Installation.objects.get(pk=job.pk)


def _his_on_my_way_refused(cast, job: Installation):
    """His "On my way" for `job`, which the service must refuse: the refusal."""
    with pytest.raises(services.TransitionRefused) as refused:
        services.installation_set_off(
            installation=job.pk,
            eta_minutes=30,
            actor=cast.handyman.user,
            expected_version=job.version,
        )
    return refused


def test_on_my_way_before_the_jobs_day_is_refused_by_the_service_and_changes_nothing(cast):
    # Every caller (the handyman's page, the admin, an import, a script) goes through here: a
    # customer texted "on his way" on Tuesday for Friday's job is a false promise.
    job = _booked(cast, 3)
    changes, messages = job.history.count(), job.messages.count()

    refused = _his_on_my_way_refused(cast, job)

    friday = long_day_text(job.scheduled_date)
    assert refused.value.message == (
        f"#{job.pk} is booked for {friday}: “On my way” opens on "
        "that day. If the customer wants you sooner, ask the office to move the job. Nothing "
        "was changed."
    )
    assert refused.value.installation.pk == job.pk
    again = Installation.objects.get(pk=job.pk)
    assert (again.status, again.version, again.departed_at) == (
        S.INSTALLER_ASSIGNED,
        job.version,
        None,
    )
    assert (job.history.count(), job.messages.count()) == (changes, messages)


def test_on_my_way_for_a_job_booked_in_another_year_says_the_year(cast):
    # "Monday 4 January" a year and a month ahead read as a job booked for next month.
    job = _booked(cast, 400)
    refused = _his_on_my_way_refused(cast, job)
    day = job.scheduled_date
    assert f"is booked for {dateformat.format(day, 'l j F')} {day.year}:" in refused.value.message


@pytest.mark.parametrize(("days", "opens"), [(-2, True), (0, True), (1, False), (30, False)])
def test_the_actions_a_page_offers_agree_with_what_the_service_does(cast, days, opens):
    job = _booked(cast, days)

    offered = "set_off" in {a.name for a in selectors.available_actions(job, cast.handyman.user)}

    assert offered is opens
    if opens:
        done = services.installation_set_off(
            installation=job.pk, eta_minutes=30, actor=cast.handyman.user
        )
        assert done.status == S.EN_ROUTE
    else:
        with pytest.raises(services.TransitionRefused, match="opens on that day"):
            services.installation_set_off(
                installation=job.pk, eta_minutes=30, actor=cast.handyman.user
            )


@pytest.mark.parametrize("who", ["staff", "superuser", "other_handyman", "partner_user"])
def test_someone_who_may_never_set_off_is_told_so_not_when_it_opens(cast, who):
    # Staff do not set off for the handyman, early or on the day: the office moves the date
    # (the scheduling room), and he sets off.
    job = _booked(cast, 3)
    actor = getattr(cast, who)
    actor = actor.user if who == "other_handyman" else actor

    with pytest.raises(services.TransitionRefused, match="You are not allowed to do that"):
        services.installation_set_off(installation=job.pk, eta_minutes=30, actor=actor)

    assert Installation.objects.get(pk=job.pk).status == S.INSTALLER_ASSIGNED
