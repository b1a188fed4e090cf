"""The change feed: one indexed query and a 304 at rest; with changes, only the page's changed
rows, cards or parts; never another partner's changes; a sleeping tab catches up once."""

from __future__ import annotations

import json
import re
from datetime import time, timedelta
from urllib.parse import unquote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import dateformat

from installations import services
from installations.live.models import LiveChange
from installations.live.selectors import handyman_stamp, partner_stamp
from installations.models import Installation
from installations.scheduling.services import installation_reschedule
from installations.statuses import Status

pytestmark = pytest.mark.django_db

LIST = "/installations/"
FEED = "/installations/live/"
HANDYMAN_FEED = "/handyman/live/"


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ask(client: Client, since: int, page: str = LIST, rows=(), url: str = FEED):
    rows_param = ",".join(str(r) for r in rows)
    return client.get(url, {"since": since, "from": page, "rows": rows_param})


def own_queries(ctx) -> list[str]:
    """The queries the feed itself made (not the session and user every login reads)."""
    return [
        q["sql"]
        for q in ctx.captured_queries
        if 'FROM "django_session"' not in q["sql"]
        and not q["sql"].startswith('SELECT "auth_user"."id", "auth_user"."password"')
    ]


def assign(cast, inst, handyman=None):
    return services.installation_assign(
        installation=inst,
        handyman=handyman or cast.handyman,
        actor=cast.partner_user,
        confirm_conflict=True,  # the feed's tests pile jobs on one slot on purpose
    )


# --- At rest ------------------------------------------------------------------------------------


def page_key(client: Client, url: str = LIST) -> str:
    """The feed key the page was drawn with (from its opt-in element)."""
    html = client.get(url).content.decode()
    return unquote(re.search(r'data-live-url="[^"?]*\?key=([^"]+)"', html).group(1))


def test_at_rest_it_answers_304_with_exactly_one_query_and_no_session(cast):
    cast.installation()
    client = login(cast.partner_user)
    key = page_key(client)
    stamp = partner_stamp(cast.partner.pk)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(FEED, {"key": key, "since": stamp, "from": LIST, "rows": "1,2,3"})
    assert response.status_code == 304
    assert response.content == b""
    assert len(ctx.captured_queries) == 1  # not even the session or the user
    assert "installations_livecounter" in ctx.captured_queries[0]["sql"]


def test_without_the_page_key_at_rest_is_the_login_plus_one_query(cast):
    cast.installation()
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    ask(client, stamp)  # the session is read once before we count
    with CaptureQueriesContext(connection) as ctx:
        response = ask(client, stamp, rows=[1, 2, 3])
    assert response.status_code == 304
    assert len(ctx.captured_queries) == 3  # session, user, and the feed's own
    assert len(own_queries(ctx)) == 1


def test_a_key_never_unlocks_a_change(cast):
    """With changes the feed always asks the session: a page key alone (a signed-out browser,
    another partner's user holding it) gets the login, or the session user's own changes."""
    inst = cast.installation()
    client = login(cast.partner_user)
    key = page_key(client)
    stamp = partner_stamp(cast.partner.pk)
    assign(cast, inst)
    query = {"key": key, "since": stamp, "from": LIST, "rows": str(inst.pk)}
    anonymous = Client().get(FEED, query)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    other = login(cast.other_partner_user).get(FEED, query)
    assert inst.customer.name not in other.content.decode()


def test_a_forged_expired_or_foreign_key_is_not_at_rest(cast, settings, monkeypatch):
    from installations.live import selectors

    cast.installation()
    client = login(cast.partner_user)
    key = page_key(client)
    handyman_key = page_key(login(cast.handyman.user), "/handyman/")
    stamp = partner_stamp(cast.partner.pk)
    for bad in (key[:-2] + "xx", handyman_key, "", "p:1"):
        assert Client().get(FEED, {"key": bad, "since": stamp}).status_code == 302, bad
    assert Client().get(FEED, {"key": key, "since": stamp}).status_code == 304
    monkeypatch.setattr(selectors, "FEED_KEY_MAX_AGE", -1)
    assert Client().get(FEED, {"key": key, "since": stamp}).status_code == 302


def test_without_since_it_says_the_current_stamp(cast):
    cast.installation()
    cast.installation()
    response = login(cast.partner_user).get(FEED)
    assert response.status_code == 200
    assert response.json()["stamp"] == 2 == partner_stamp(cast.partner.pk)


def test_a_garbled_since_is_refused(cast):
    for bad in ("-1", "abc", "1e9", "9" * 40):
        assert login(cast.partner_user).get(FEED, {"since": bad}).status_code == 400


def test_users_of_another_role_have_no_partner_feed(cast):
    for user in (cast.handyman.user, cast.staff):
        assert login(user).get(FEED, {"since": 0}).status_code == 404
    assert login(cast.partner_user).get(HANDYMAN_FEED, {"since": 0}).status_code == 404


# --- With changes: the list ---------------------------------------------------------------------


def test_it_renders_only_the_changed_rows_the_page_shows_with_a_pinned_query_count(cast):
    shown = [cast.installation() for _ in range(3)]
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    assign(cast, shown[1])
    assign(cast, shown[2])
    ask(client, stamp, rows=[i.pk for i in shown])  # warm the session
    with CaptureQueriesContext(connection) as ctx:
        response = ask(client, stamp, rows=[shown[0].pk, shown[1].pk])
    data = response.json()
    assert response.status_code == 200
    # Changed and on the page: row 1 only (row 2 changed but this page does not show it).
    assert [p["target"] for p in data["parts"]] == [f"row-{shown[1].pk}", "cards"]
    assert "Installer assigned" in data["parts"][0]["html"]
    assert data["changed"] == [
        {
            "pk": shown[1].pk,
            "version": 2,
            "say": f"#{shown[1].pk} {shown[1].customer.name}: Installer assigned",
        }
    ]
    assert data["stamp"] == stamp + 2
    # the feed, which changed rows match the filter, the rows shown, the cards' counters
    assert len(own_queries(ctx)) == 4, "\n".join(own_queries(ctx))


def test_the_rows_query_count_does_not_grow_with_the_number_of_changed_rows(cast):
    shown = [cast.installation() for _ in range(6)]
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    assign(cast, shown[0])
    ask(client, stamp, rows=[i.pk for i in shown])
    with CaptureQueriesContext(connection) as one:
        ask(client, stamp, rows=[i.pk for i in shown])
    stamp2 = partner_stamp(cast.partner.pk)
    for inst in shown[1:]:
        assign(cast, inst)
    with CaptureQueriesContext(connection) as five:
        response = ask(client, stamp2, rows=[i.pk for i in shown])
    assert len(response.json()["parts"]) == 6
    assert len(own_queries(five)) == len(own_queries(one))


def test_a_row_that_left_the_filter_is_updated_in_place_and_marked(cast):
    inst = cast.installation()
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    assign(cast, inst)
    data = ask(client, stamp, page=f"{LIST}?group=new", rows=[inst.pk]).json()
    row = data["parts"][0]
    assert row["target"] == f"row-{inst.pk}"
    assert "no longer matches these filters" in row["html"]


def test_a_new_row_that_matches_is_counted_not_inserted(cast):
    on_page = cast.installation()
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    new = cast.installation()  # a colleague schedules one
    data = ask(client, stamp, rows=[on_page.pk]).json()
    assert data["entered"] == [new.pk]
    assert [p["target"] for p in data["parts"]] == ["cards"]


def test_the_cards_counts_follow(cast):
    inst = cast.installation()
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    assign(cast, inst)
    cards = next(
        p for p in ask(client, stamp, rows=[inst.pk]).json()["parts"] if p["target"] == "cards"
    )
    assert 'id="cards"' in cards["html"]
    assert '<span class="card-count">1</span>' in cards["html"]


# --- Never another partner's changes ------------------------------------------------------------


def test_another_partners_change_is_never_in_my_feed(cast):
    mine = cast.installation()
    theirs = cast.installation(partner=cast.other_partner)
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    services.installation_assign(
        installation=theirs, handyman=cast.handyman, actor=cast.other_partner_user
    )
    # Even when my page claims to show their row, and asks from their record's page.
    assert ask(client, stamp, rows=[mine.pk, theirs.pk]).status_code == 304
    assert [c["pk"] for c in ask(client, 0, rows=[mine.pk, theirs.pk]).json()["changed"]] == [
        mine.pk
    ]
    data = ask(client, 0, page=f"/installations/{theirs.pk}/", rows=[theirs.pk]).json()
    assert data["parts"] == [] and data["changed"] == []
    body = json.dumps(ask(client, 0, rows=[mine.pk, theirs.pk]).json())
    assert theirs.customer.name not in body
    assert f"row-{theirs.pk}" not in body


@pytest.mark.usefixtures("jobs_booked_today")
def test_my_handymans_work_for_another_partner_is_not_in_my_feed(cast):
    # Hank works for both partners: his steps on their job reach his feed, never mine.
    theirs = cast.installation(Status.INSTALLER_ASSIGNED, partner=cast.other_partner)
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    services.installation_set_off(installation=theirs, eta_minutes=15, actor=cast.handyman.user)
    assert ask(client, stamp).status_code == 304
    assert LiveChange.objects.filter(handyman=cast.handyman, installation=theirs).exists()


def test_an_edit_that_keeps_the_status_is_said_as_an_edit_not_as_its_status(cast):
    """An address, a note or a new day is not a status change: "#41 Alice Moreau: Scheduled"
    made the office look for what had moved on. A status change since the page's stamp is still
    said with the status, even when an edit followed it."""
    edited, moved, assigned = cast.installation(), cast.installation(), cast.installation()
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    services.installation_update(
        installation=edited, actor=cast.partner_user, notes="Gate code 4411"
    )
    installation_reschedule(
        installation=moved,
        actor=cast.partner_user,
        scheduled_date=moved.scheduled_date + timedelta(days=2),
        window_start=time(13),
        window_end=time(15),
    )
    assign(cast, assigned)
    services.installation_update(
        installation=assigned, actor=cast.partner_user, site_address="2 Quay Street"
    )
    data = ask(client, stamp, rows=[edited.pk, moved.pk, assigned.pk]).json()
    said = {c["pk"]: c["say"] for c in data["changed"]}
    assert said == {
        edited.pk: f"#{edited.pk} {edited.customer.name}: details changed",
        moved.pk: f"#{moved.pk} {moved.customer.name}: details changed",
        assigned.pk: f"#{assigned.pk} {assigned.customer.name}: Installer assigned",
    }
    # The next edit alone, asked from the stamp that already said "Installer assigned".
    services.installation_update(installation=assigned, actor=cast.partner_user, notes="Dog")
    [again] = ask(client, data["stamp"], rows=[assigned.pk]).json()["changed"]
    assert again["say"] == f"#{assigned.pk} {assigned.customer.name}: details changed"


# --- Catching up --------------------------------------------------------------------------------


@pytest.mark.usefixtures("jobs_booked_today")
def test_a_change_while_the_tab_slept_is_delivered_once(cast):
    inst = cast.installation()
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    assign(cast, inst)
    services.installation_set_off(installation=inst, eta_minutes=30, actor=cast.handyman.user)
    data = ask(client, stamp, rows=[inst.pk]).json()
    # Two changes to one row while asleep: one swap, as the row is now.
    rows = [p for p in data["parts"] if p["target"] == f"row-{inst.pk}"]
    assert len(rows) == 1 and "En route" in rows[0]["html"]
    assert [c["pk"] for c in data["changed"]] == [inst.pk]
    assert ask(client, data["stamp"], rows=[inst.pk]).status_code == 304


@pytest.mark.usefixtures("jobs_booked_today")
def test_a_pruned_gap_asks_the_page_to_reload(cast):
    inst = cast.installation()
    client = login(cast.partner_user)
    assign(cast, inst)
    services.installation_set_off(installation=inst, eta_minutes=30, actor=cast.handyman.user)
    LiveChange.objects.filter(partner=cast.partner, seq=2).delete()
    assert ask(client, 1, rows=[inst.pk]).json()["reload"] is True


# --- The detail page ----------------------------------------------------------------------------


def test_the_detail_page_gets_its_status_actions_facts_and_timeline(cast):
    inst = cast.installation()
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    assign(cast, inst)
    data = ask(client, stamp, page=f"/installations/{inst.pk}/").json()
    parts = {p["target"]: p["html"] for p in data["parts"]}
    assert list(parts) == ["detail-status", "detail-actions", "detail-facts", "detail-timeline"]
    assert "Installer assigned" in parts["detail-status"]
    assert "Reassign" in parts["detail-actions"]
    assert "Hank" in parts["detail-timeline"]


def test_the_detail_page_of_another_record_gets_nothing(cast):
    inst, other = cast.installation(), cast.installation()
    client = login(cast.partner_user)
    stamp = partner_stamp(cast.partner.pk)
    assign(cast, other)
    data = ask(client, stamp, page=f"/installations/{inst.pk}/").json()
    assert data["parts"] == [] and data["stamp"] == stamp + 1


# --- The handyman's page -----------------------------------------------------------------------


def test_the_handymans_changed_card_is_swapped_alone(cast):
    inst = cast.installation(Status.INSTALLER_ASSIGNED, scheduled_date=_today())
    client = login(cast.handyman.user)
    stamp = handyman_stamp(cast.handyman.pk)
    services.installation_update(installation=inst, actor=cast.partner_user, notes="Gate 1234")
    response = client.get(
        HANDYMAN_FEED, {"since": stamp, "from": "/handyman/", "rows": f"{inst.pk}:today"}
    )
    parts = response.json()["parts"]
    assert [p["target"] for p in parts] == [f"job-{inst.pk}"]
    assert "Gate 1234" in parts[0]["html"]


def test_a_new_job_re_renders_the_handymans_lists(cast):
    client = login(cast.handyman.user)
    stamp = handyman_stamp(cast.handyman.pk)
    inst = cast.installation(Status.INSTALLER_ASSIGNED, scheduled_date=_today())
    data = client.get(HANDYMAN_FEED, {"since": stamp, "from": "/handyman/", "rows": ""}).json()
    assert [p["target"] for p in data["parts"]] == ["job-lists"]
    assert f'id="job-{inst.pk}"' in data["parts"][0]["html"]
    assert [c["pk"] for c in data["changed"]] == [inst.pk]


def test_a_job_reassigned_away_leaves_the_handymans_page(cast):
    inst = cast.installation(Status.INSTALLER_ASSIGNED, scheduled_date=_today())
    client = login(cast.handyman.user)
    stamp = handyman_stamp(cast.handyman.pk)
    services.installation_reassign(
        installation=inst, handyman=cast.other_handyman, actor=cast.partner_user
    )
    data = client.get(
        HANDYMAN_FEED, {"since": stamp, "from": "/handyman/", "rows": f"{inst.pk}:today"}
    ).json()
    assert [p["target"] for p in data["parts"]] == ["job-lists"]
    assert f'id="job-{inst.pk}"' not in data["parts"][0]["html"]
    # Only the sentence that tells him names the job (he had its card a moment ago).
    assert json.dumps(data).count(inst.customer.name) == 1


def _on_his_page(cast) -> tuple[Installation, int]:
    """A job of today's, and the stamp of his page drawn with its card."""
    inst = cast.installation(Status.INSTALLER_ASSIGNED, scheduled_date=_today())
    return inst, handyman_stamp(cast.handyman.pk)


def _told(cast, inst, stamp, rows: str) -> list[dict]:
    data = login(cast.handyman.user).get(
        HANDYMAN_FEED, {"since": stamp, "from": "/handyman/", "rows": rows}
    )
    return [c for c in data.json()["changed"] if c["pk"] == inst.pk]


def test_a_job_given_to_another_handyman_is_announced_without_naming_him(cast):
    inst, stamp = _on_his_page(cast)
    services.installation_reassign(
        installation=inst, handyman=cast.other_handyman, actor=cast.partner_user
    )
    [said] = _told(cast, inst, stamp, rows=f"{inst.pk}:today")
    assert said["say"] == (
        f"#{inst.pk} {inst.customer.name} is no longer yours: it was given to another handyman."
    )
    assert said["kind"] == "warning"
    assert cast.other_handyman.display_name not in said["say"]


def test_a_cancelled_job_on_his_page_is_announced_as_cancelled(cast):
    inst, stamp = _on_his_page(cast)
    services.installation_cancel(installation=inst, reason="Called off.", actor=cast.staff)
    [said] = _told(cast, inst, stamp, rows=f"{inst.pk}:today")
    assert said["say"] == f"#{inst.pk} {inst.customer.name} was cancelled: it is off your list."
    assert said["kind"] == "warning"


def test_a_job_moved_beyond_his_next_days_is_announced_with_its_new_day(cast):
    inst, stamp = _on_his_page(cast)
    far = _today() + timedelta(days=10)
    installation_reschedule(
        installation=inst,
        actor=cast.partner_user,
        scheduled_date=far,
        window_start=time(9),
        window_end=time(11),
    )
    [said] = _told(cast, inst, stamp, rows=f"{inst.pk}:today")
    day = dateformat.format(far, "D j M")
    assert (
        said["say"]
        == f"#{inst.pk} {inst.customer.name} was moved to {day}: it is under “Later” now."
    )


def test_a_job_behind_later_is_not_announced_as_leaving_with_a_card_that_did(cast):
    card, _ = _on_his_page(cast)
    behind_later = cast.installation(
        Status.INSTALLER_ASSIGNED, scheduled_date=_today() + timedelta(days=10)
    )
    stamp = handyman_stamp(cast.handyman.pk)
    for inst in (card, behind_later):
        services.installation_reassign(
            installation=inst, handyman=cast.other_handyman, actor=cast.partner_user
        )
    # The page showed only the card: only the card is news.
    assert len(_told(cast, card, stamp, rows=f"{card.pk}:today")) == 1
    assert _told(cast, behind_later, stamp, rows=f"{card.pk}:today") == []


# --- The pages opt in ---------------------------------------------------------------------------


def test_the_pages_carry_the_feed_and_the_stamp_they_were_drawn_at(cast):
    inst = cast.installation(Status.INSTALLER_ASSIGNED, scheduled_date=_today())
    stamp = partner_stamp(cast.partner.pk)
    for url in (LIST, reverse("partner:detail", args=[inst.pk])):
        html = login(cast.partner_user).get(url).content.decode()
        assert re.search(rf'data-live-url="{FEED}\?key=[^"]+" data-live-stamp="{stamp}"', html)
        assert "js/live.js" in html
    html = login(cast.handyman.user).get("/handyman/").content.decode()
    stamp = handyman_stamp(cast.handyman.pk)
    assert re.search(rf'data-live-url="{HANDYMAN_FEED}\?key=[^"]+" data-live-stamp="{stamp}"', html)


def _today():
    from django.utils import timezone

    return timezone.localdate()


def test_the_handymans_feed_at_rest_is_one_query_too(cast):
    cast.installation(Status.INSTALLER_ASSIGNED, scheduled_date=_today())
    key = page_key(login(cast.handyman.user), "/handyman/")
    since = handyman_stamp(cast.handyman.pk)
    with CaptureQueriesContext(connection) as ctx:
        response = Client().get(HANDYMAN_FEED, {"key": key, "since": since, "from": "/handyman/"})
    assert response.status_code == 304 and len(ctx.captured_queries) == 1
    services.installation_update(
        installation=Installation.objects.get(handyman=cast.handyman),
        actor=cast.partner_user,
        notes="x",
    )
    # Something changed: now the login decides (this browser has none).
    assert Client().get(HANDYMAN_FEED, {"key": key, "since": since}).status_code == 302


# --- The one-second memo of a scope's newest number (selectors.NEWEST_MAX_AGE) -------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    from installations.live import selectors

    fake = FakeClock()
    monkeypatch.setattr(selectors, "clock", fake)
    return fake


def test_a_second_refresh_at_rest_within_a_second_asks_the_database_nothing(cast, fake_clock):
    cast.installation()
    client = login(cast.partner_user)
    key, stamp = page_key(client), partner_stamp(cast.partner.pk)
    params = {"key": key, "since": stamp, "from": LIST}
    assert client.get(FEED, params).status_code == 304
    fake_clock.now += 0.5
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(FEED, params).status_code == 304
    assert ctx.captured_queries == []
    fake_clock.now += 0.6  # past the memo's age: one query again
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(FEED, params).status_code == 304
    assert len(ctx.captured_queries) == 1


def test_a_change_made_by_this_server_is_news_at_once_despite_the_memo(cast, fake_clock):
    inst = cast.installation()
    client = login(cast.partner_user)
    key, stamp = page_key(client), partner_stamp(cast.partner.pk)
    params = {"key": key, "since": stamp, "from": LIST, "rows": str(inst.pk)}
    assert client.get(FEED, params).status_code == 304  # remembered: nothing new
    assign(cast, inst)
    response = client.get(FEED, params)  # same instant: the change is not hidden by the memo
    assert response.status_code == 200
    assert inst.pk in [c["pk"] for c in response.json()["changed"]]


def test_a_change_made_by_another_server_is_seen_once_the_memo_is_a_second_old(cast, fake_clock):
    from installations.live.models import LiveCounter
    from installations.live.services import partner_scope

    inst = cast.installation()
    client = login(cast.partner_user)
    key, stamp = page_key(client), partner_stamp(cast.partner.pk)
    params = {"key": key, "since": stamp, "from": LIST, "rows": str(inst.pk)}
    assert client.get(FEED, params).status_code == 304
    # Another app server commits a change: the rows appear, this process is not told.
    LiveCounter.objects.filter(scope=partner_scope(cast.partner.pk)).update(seq=stamp + 1)
    LiveChange.objects.create(partner=cast.partner, seq=stamp + 1, installation=inst)
    fake_clock.now += 0.5
    assert client.get(FEED, params).status_code == 304  # within the memo's second
    fake_clock.now += 0.6
    response = client.get(FEED, params)  # never lost: through the login, with the change
    assert response.status_code == 200
    assert inst.pk in [c["pk"] for c in response.json()["changed"]]


def test_the_memo_of_one_partner_never_answers_for_another(cast, fake_clock):
    mine = cast.installation()
    cast.installation(partner=cast.other_partner)
    theirs = cast.installation(partner=cast.other_partner)  # they are further on than we are
    me, them = login(cast.partner_user), login(cast.other_partner_user)
    mine_params = {"key": page_key(me), "since": partner_stamp(cast.partner.pk), "from": LIST}
    assert me.get(FEED, mine_params).status_code == 304
    stamp = partner_stamp(cast.other_partner.pk)
    params = {"key": page_key(them), "since": stamp - 1, "from": LIST, "rows": str(theirs.pk)}
    response = them.get(FEED, params)
    assert response.status_code == 200
    assert [c["pk"] for c in response.json()["changed"]] == [theirs.pk]
    assert mine.pk != theirs.pk
