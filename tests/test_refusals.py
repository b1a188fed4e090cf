"""The one wording of an action the job's status does not allow (installations/refusals.py)."""

from __future__ import annotations

import pytest

from installations.models import Installation
from installations.refusals import FOLLOW_UP, REBOOK, VERBS, refusal, refusal_sentence
from installations.statuses import HAPPY_PATH, TERMINAL_STATUSES, Status

S = Status

# Every action a refusal can be about, with the statuses that allow it.
ALLOWED = {
    "assign": {S.SCHEDULED},
    "reassign": {S.INSTALLER_ASSIGNED, S.EN_ROUTE},
    "reject": {S.SCHEDULED},
    "reschedule": {S.SCHEDULED, S.INSTALLER_ASSIGNED},
    "set_off": {S.INSTALLER_ASSIGNED},
    "arrive": {S.EN_ROUTE},
    "complete": {S.INSTALLATION_IN_PROGRESS},
    "send_contract": {S.INSTALLATION_COMPLETED},
    "sign": {S.CONTRACT_SENT},
    "approve": {S.CONTRACT_SIGNED},
    "cancel": set(S) - TERMINAL_STATUSES,
}
REFUSED = [(a, s) for a, allowed in ALLOWED.items() for s in S if s not in allowed]


def test_every_action_has_its_words():
    assert set(ALLOWED) == set(VERBS)


def test_reassigning_a_job_never_assigned_says_it_has_no_handyman_yet():
    job = Installation(pk=31, status=S.SCHEDULED)
    assert refusal_sentence(job, "reassign") == (
        "#31 has no handyman yet, so assign one instead. Nothing was changed."
    )


@pytest.mark.parametrize("status", [S.INSTALLER_ASSIGNED, S.EN_ROUTE])
def test_assigning_a_job_that_has_a_handyman_says_to_reassign_it(status):
    assert refusal(status, "assign").endswith(", so reassign it to send someone else")
    assert "no longer" not in refusal(status, "assign")


@pytest.mark.parametrize(("action", "status"), REFUSED)
def test_no_longer_is_said_only_of_a_job_past_the_action(action, status):
    """ "No longer" for a job that has gone past the action (or ended); "yet" only for one that
    has not reached it."""
    said = refusal(status, action)
    first = min(HAPPY_PATH.index(s) for s in ALLOWED[action] if s in HAPPY_PATH)
    past = status in TERMINAL_STATUSES or HAPPY_PATH.index(status) > first
    if "no longer" in said:
        assert past, said
    if said.endswith(" yet") or "cannot be" in said:
        assert not past, said


@pytest.mark.parametrize(("action", "status"), REFUSED)
def test_every_refusal_is_a_clause_about_its_subject(action, status):
    said = refusal(status, action, subject="#31")
    assert said.startswith("#31 ") and not said.endswith(".")
    assert "“" not in said  # the situation in words, not the status's label


def test_an_action_the_job_has_not_reached_says_not_yet():
    assert refusal(S.SCHEDULED, "send_contract") == (
        "it has no handyman yet, so it cannot be sent a contract"
    )
    assert refusal(S.INSTALLER_ASSIGNED, "arrive") == (
        "it has a handyman, so it cannot be marked as arrived yet"
    )


@pytest.mark.parametrize("action", ["assign", "reassign", "reschedule"])
@pytest.mark.parametrize("status", [S.CANCELLED, S.REJECTED])
def test_sending_someone_to_a_dead_job_suggests_rebooking_it(action, status):
    assert refusal(status, action).endswith(", so rebook it if it should still go ahead")


@pytest.mark.parametrize(
    "status", [S.INSTALLATION_IN_PROGRESS, S.INSTALLATION_COMPLETED, S.CUSTOMER_APPROVED]
)
def test_moving_a_job_already_visited_suggests_a_follow_up_visit(status):
    said = refusal(status, "reschedule")
    assert said.endswith(", so book a follow-up visit if someone must go back")


def test_the_same_action_done_already_says_so():
    assert refusal(S.REJECTED, "reject") == "it is already rejected"
    assert refusal(S.CONTRACT_SENT, "send_contract") == "it has already been sent its contract"


SENDING = ("assign", "reassign", "reschedule")
HINTS = ("assign one instead", "reassign it to send someone else", REBOOK, FOLLOW_UP)


@pytest.mark.parametrize(("action", "status"), REFUSED)
def test_something_else_to_do_is_offered_only_for_sending_someone(action, status):
    said = refusal(status, action)
    if action not in SENDING:
        assert not said.endswith(HINTS), said


@pytest.mark.parametrize("action", ["assign", "reassign"])
def test_with_the_handyman_on_site_no_follow_up_is_offered_yet(action):
    assert not refusal(S.INSTALLATION_IN_PROGRESS, action).endswith(FOLLOW_UP)
    assert refusal(S.INSTALLATION_COMPLETED, action).endswith(f", so {FOLLOW_UP}")
