"""Bulk assign and reject: each row through the core service on its own, one result per row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from installations import services
from installations.bulk.services import (
    MAX_ROWS,
    NO_VERSION,
    NOT_FOUND,
    installations_bulk_assign,
    installations_bulk_reject,
)
from installations.models import Installation, PartnerStatusCount, StatusChange
from installations.refusals import refusal_sentence
from installations.signals import history_recorded
from installations.statuses import Status

from ..factories import HandymanFactory, PartnerUserFactory, UserFactory


def _page(*installations: Installation) -> dict[int, int | None]:
    """What the list page sends: each selected row with the version it showed."""
    return {inst.pk: inst.version for inst in installations}


def _assign(cast, rows, handyman=None, actor=None):
    return installations_bulk_assign(
        partner=cast.partner,
        rows=rows,
        handyman=handyman or cast.handyman,
        actor=actor or cast.partner_user,
    )


def _assign_entries(inst: Installation) -> int:
    return inst.history.filter(transition="assign").count()


def _counts(partner) -> dict[str, int]:
    return dict(PartnerStatusCount.objects.filter(partner=partner).values_list("status", "count"))


def test_a_row_deleted_after_the_selection_was_read_is_not_found(cast, monkeypatch):
    # Staff deleted it between the list's selection and its turn in the loop.
    gone, kept = cast.installation(), cast.installation()
    real_assign = services.installation_assign

    def assign(**kwargs):
        if kwargs["installation"] == gone.pk:
            Installation.objects.filter(pk=gone.pk).delete()
        return real_assign(**kwargs)

    monkeypatch.setattr(services, "installation_assign", assign)
    result = _assign(cast, _page(gone, kept))
    [refused] = result.refused
    assert (refused.pk, refused.reason) == (gone.pk, NOT_FOUND)
    assert [row.pk for row in result.changed] == [kept.pk]


def test_a_row_refused_for_its_status_says_what_its_own_dialog_says(cast):
    assigned = cast.installation(Status.INSTALLER_ASSIGNED)
    rejected = cast.installation(Status.REJECTED)
    assign = _assign(cast, _page(assigned, rejected))
    reject = installations_bulk_reject(
        partner=cast.partner, rows=_page(assigned), reason="Too far", actor=cast.partner_user
    )
    said = {(r.pk, "assign"): r.reason for r in assign.refused}
    said |= {(r.pk, "reject"): r.reason for r in reject.refused}
    assert said == {
        (assigned.pk, "assign"): "it has a handyman, so reassign it to send someone else",
        (rejected.pk, "assign"): "it was rejected, so rebook it if it should still go ahead",
        (assigned.pk, "reject"): "it has a handyman, so it can no longer be rejected",
    }
    # The same words as the row's own dialog, about "it" after the row's name.
    for (pk, action), reason in said.items():
        job = Installation.objects.get(pk=pk)
        sentence = refusal_sentence(job, action)
        assert sentence == f"#{pk} {reason.removeprefix('it ')}. Nothing was changed."


def test_it_assigns_every_row_with_its_own_history_entry(cast):
    rows = [cast.installation() for _ in range(3)]
    result = _assign(cast, _page(*rows))

    assert [r.pk for r in result.changed] == [inst.pk for inst in rows]
    assert result.refused == []
    for inst in rows:
        before = inst.version
        inst.refresh_from_db()
        assert inst.status == Status.INSTALLER_ASSIGNED and inst.handyman == cast.handyman
        assert inst.version == before + 1
        assert _assign_entries(inst) == 1
    assert _counts(cast.partner)[Status.INSTALLER_ASSIGNED] == 3
    assert result.summary() == f"3 assigned to {cast.handyman.display_name}"


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_row_3_leaves_rows_1_2_and_4_on_changed_and_row_3_untouched(cast):
    rows = [cast.installation() for _ in range(5)]
    third = rows[2]
    savepoints: list[list[str]] = []

    def receiver(sender, change, installation, **kwargs):
        # Each row's transaction is the outermost one: a savepoint here would mean the bulk
        # action had wrapped the rows in one transaction of its own.
        savepoints.append(list(connection.savepoint_ids))
        if installation.pk == third.pk and change.transition == "assign":
            raise RuntimeError("the disk is full")

    history_recorded.connect(receiver, dispatch_uid="test-bulk-failure")
    try:
        result = _assign(cast, _page(*rows))
    finally:
        history_recorded.disconnect(dispatch_uid="test-bulk-failure")

    assert [r.pk for r in result.changed] == [rows[i].pk for i in (0, 1, 3, 4)]
    [refused] = result.refused
    assert refused.pk == third.pk
    assert refused.reason == "it could not be changed because of an error"
    assert savepoints == [[]] * 5
    # Row 3 is not half-changed: its transaction rolled back whole.
    third.refresh_from_db()
    assert third.status == Status.SCHEDULED and third.handyman is None and third.version == 1
    assert _assign_entries(third) == 0
    assert _counts(cast.partner) == {Status.SCHEDULED: 1, Status.INSTALLER_ASSIGNED: 4}


def test_each_refused_row_says_why_in_words_and_the_others_change(cast):
    fine = cast.installation()
    stale = cast.installation()
    page_of_stale = _page(stale)
    # Someone else edits it after the page was drawn: the page's version is out of date.
    services.installation_update(installation=stale, actor=cast.staff, notes="Gate code 1234")
    assigned = cast.installation(Status.INSTALLER_ASSIGNED)
    rejected_meanwhile = cast.installation()
    page_of_rejected = _page(rejected_meanwhile)
    services.installation_reject(
        installation=rejected_meanwhile, reason="Duplicate", actor=cast.staff
    )
    no_version = cast.installation()

    rows = {
        **_page(fine),
        **page_of_stale,
        **_page(assigned),
        **page_of_rejected,
        no_version.pk: None,
    }
    before = list(
        Installation.objects.filter(pk__in=list(rows)[1:])
        .order_by("pk")
        .values_list("status", "version")
    )
    result = _assign(cast, rows)

    reasons = {r.pk: r.reason for r in result.refused}
    assert [r.pk for r in result.changed] == [fine.pk]
    assert reasons == {
        stale.pk: "changed by someone else (it is now “Scheduled”)",
        assigned.pk: "it has a handyman, so reassign it to send someone else",
        rejected_meanwhile.pk: "changed by someone else (it is now “Rejected”)",
        no_version.pk: NO_VERSION,
    }
    assert result.summary() == f"1 assigned to {cast.handyman.display_name}; 4 not changed"
    # The refused rows are as they were before the bulk action.
    unchanged = Installation.objects.filter(pk__in=reasons).order_by("pk")
    assert list(unchanged.values_list("status", "version")) == before
    assert StatusChange.objects.filter(transition="assign", installation__in=unchanged).count() == 1


def test_a_handyman_who_does_not_serve_the_partner_is_refused_for_every_row(cast):
    rows = [cast.installation() for _ in range(2)]
    stranger = HandymanFactory(user=UserFactory(first_name="Sam", last_name="Stone"))
    stranger.partners.add(cast.other_partner)

    result = _assign(cast, _page(*rows), handyman=stranger)

    assert result.changed == []
    assert {r.reason for r in result.refused} == {"Sam Stone does not work for Acme Appliances."}
    assert all(inst.history.count() == 1 for inst in rows)  # just the creation
    assert result.summary() == "None assigned; 2 not changed"


def test_another_partners_ids_are_not_found_and_never_named(cast):
    mine = cast.installation()
    theirs = cast.installation(partner=cast.other_partner)
    missing = theirs.pk + 1000

    result = _assign(cast, {**_page(mine), **_page(theirs), missing: 1})

    assert [r.pk for r in result.changed] == [mine.pk]
    refused = {r.pk: r for r in result.refused}
    assert refused[theirs.pk].reason == refused[missing].reason == NOT_FOUND
    # The label of an id we do not show is the number alone, like an id that never existed.
    assert refused[theirs.pk].label == f"#{theirs.pk}"
    assert theirs.customer.name not in repr(result)
    theirs.refresh_from_db()
    assert theirs.status == Status.SCHEDULED and theirs.version == 1


def test_more_than_100_rows_are_refused_with_a_sentence_and_nothing_changes(cast):
    real = [cast.installation() for _ in range(3)]
    rows = {**_page(*real), **{10_000 + i: 1 for i in range(MAX_ROWS + 1 - len(real))}}
    assert len(rows) == MAX_ROWS + 1

    with pytest.raises(ValidationError) as refused:
        _assign(cast, rows)

    assert refused.value.messages == [
        "You selected 101 installations; at most 100 can be changed at a time. Nothing was "
        "changed: select fewer and try again."
    ]
    assert all(Installation.objects.get(pk=i.pk).status == Status.SCHEDULED for i in real)
    assert StatusChange.objects.filter(transition="assign").count() == 0


def test_exactly_100_rows_are_taken(cast):
    # Ids that are not found cost one query in all: the limit itself is what is checked here.
    result = _assign(cast, {10_000 + i: 1 for i in range(MAX_ROWS)})
    assert len(result.rows) == MAX_ROWS


def test_an_empty_selection_is_refused(cast):
    with pytest.raises(ValidationError, match="Select at least one installation"):
        _assign(cast, {})


def test_a_repeat_of_the_same_request_changes_nothing_twice_and_reports_the_rows_as_done(cast):
    rows = [cast.installation() for _ in range(3)]
    wrong = cast.installation(Status.EN_ROUTE)
    page = {**_page(*rows), **_page(wrong)}

    first = _assign(cast, page)
    versions = {inst.pk: Installation.objects.get(pk=inst.pk).version for inst in rows}
    history = StatusChange.objects.count()
    again = _assign(cast, page)

    # The core recognises each row's own earlier change (same person, transition, arguments,
    # page version): done, not refused; nothing is written.
    assert [r.pk for r in again.changed] == [inst.pk for inst in rows]
    assert all(r.repeated for r in again.changed) and not any(r.repeated for r in first.changed)
    assert [(r.pk, r.reason) for r in again.refused] == [(r.pk, r.reason) for r in first.refused]
    assert StatusChange.objects.count() == history
    assert {i.pk: Installation.objects.get(pk=i.pk).version for i in rows} == versions
    assert again.summary() == first.summary()


def test_the_same_request_by_someone_else_is_refused_as_stale_not_reported_done(cast):
    rows = [cast.installation() for _ in range(2)]
    page = _page(*rows)
    _assign(cast, page)
    colleague = PartnerUserFactory(partner=cast.partner, user__username="acme2").user

    result = _assign(cast, page, actor=colleague)

    assert result.changed == []
    assert {r.reason for r in result.refused} == {
        "changed by someone else (it is now “Installer assigned”)"
    }


def test_a_repeat_with_another_handyman_is_not_taken_for_the_same_request(cast):
    inst = cast.installation()
    page = _page(inst)
    _assign(cast, page)
    result = _assign(cast, page, handyman=cast.other_handyman)
    assert result.changed == [] and result.refused[0].reason.startswith("changed by someone else")
    inst.refresh_from_db()
    assert inst.handyman == cast.handyman


def test_reject_gives_every_row_the_same_reason(cast):
    rows = [cast.installation() for _ in range(2)]
    result = installations_bulk_reject(
        partner=cast.partner,
        rows=_page(*rows),
        reason="  Outside our area  ",
        actor=cast.partner_user,
    )
    assert result.summary() == "2 rejected"
    for inst in rows:
        inst.refresh_from_db()
        assert inst.status == Status.REJECTED and inst.rejection_reason == "Outside our area"
        assert inst.history.get(transition="reject").reason == "Outside our area"


def test_reject_without_a_reason_refuses_them_all_and_changes_nothing(cast):
    rows = [cast.installation() for _ in range(2)]
    with pytest.raises(ValidationError, match="Please give a reason for the rejection."):
        installations_bulk_reject(
            partner=cast.partner, rows=_page(*rows), reason="   ", actor=cast.partner_user
        )
    assert all(Installation.objects.get(pk=i.pk).status == Status.SCHEDULED for i in rows)


def test_a_repeated_reject_is_done_once(cast):
    inst = cast.installation()
    page = _page(inst)
    args = {
        "partner": cast.partner,
        "rows": page,
        "reason": "Duplicate",
        "actor": cast.partner_user,
    }
    installations_bulk_reject(**args)
    again = installations_bulk_reject(**args)
    assert again.changed[0].repeated
    assert inst.history.filter(transition="reject").count() == 1


def test_a_row_that_overlaps_the_handymans_other_job_is_refused_unless_confirmed(cast):
    day = timezone.localdate() + timedelta(days=3)
    first, second = (cast.installation(scheduled_date=day) for _ in range(2))
    result = _assign(cast, _page(first, second))
    assert [row.changed for row in result.rows] == [True, False]
    assert f"already has #{first.pk}" in result.refused[0].reason
    assert _assign_entries(second) == 0
    second.refresh_from_db()
    confirmed = installations_bulk_assign(
        partner=cast.partner,
        rows=_page(second),
        handyman=cast.handyman,
        actor=cast.partner_user,
        confirm_conflict=True,
    )
    assert confirmed.refused == [] and _assign_entries(second) == 1
