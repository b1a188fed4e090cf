"""Admin pages whose cost must not grow with the rows behind them (found in a QA pass as platform
staff, timed on the bench's million installations): the delete pages of a partner and a
handyman who have installations, and the changelists of the big append-only tables."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from installations.models import Installation, Partner
from installations.statuses import Status

from .factories import MessageFactory


@pytest.fixture
def root(client, cast):
    client.force_login(cast.superuser)
    return client


def _installation_rows_read(queries) -> list[str]:
    """Queries that read installations other than one row to say whether any exists."""
    return [
        q["sql"]
        for q in queries
        if 'FROM "installations_installation"' in q["sql"] and "LIMIT 1" not in q["sql"]
    ]


@pytest.mark.parametrize("who", ["partner", "handyman"])
def test_the_delete_page_of_one_with_installations_says_why_without_reading_them(root, cast, who):
    # Django's delete page collects every related row before it says "cannot": for the
    # bench's big partner (300,000 installations) a plain GET of it took 73 s.
    for _ in range(3):
        cast.installation("INSTALLER_ASSIGNED")
    obj = cast.partner if who == "partner" else cast.handyman
    with CaptureQueriesContext(connection) as queries:
        response = root.get(f"/admin/installations/{who}/{obj.pk}/delete/")
    assert response.status_code == 200
    assert _installation_rows_read(queries) == []
    assert "kept for their history" in response.content.decode()
    # Posting the confirmation deletes nothing.
    root.post(f"/admin/installations/{who}/{obj.pk}/delete/", {"post": "yes"})
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_deleting_selected_partners_with_installations_says_why_without_reading_them(root, cast):
    cast.installation("SCHEDULED")
    empty = Partner.objects.create(name="Nobody's Kitchens")
    ids = [cast.partner.pk, empty.pk]
    with CaptureQueriesContext(connection) as queries:
        response = root.post(
            "/admin/installations/partner/",
            {"action": "delete_selected", "_selected_action": ids},
        )
    assert _installation_rows_read(queries) == []
    html = response.content.decode()
    assert "kept for their history" in html and "Acme Appliances" in html
    assert Partner.objects.filter(pk__in=ids).count() == 2


@pytest.mark.parametrize(
    ("url", "table"),
    [
        ("/admin/installations/message/", "installations_message"),
        ("/admin/installations/webhookdelivery/", "installations_webhookdelivery"),
        ("/admin/installations/evidencepack/", "installations_evidencepack"),
    ],
)
def test_the_big_tables_changelists_are_newest_first_by_their_id(root, cast, url, table):
    # Their models order by created_at (made_at), which no index leads with: every page sorted
    # the whole table (3 million messages: 2.5 s a page on SQLite).
    MessageFactory.create_batch(3, installation=cast.installation("SCHEDULED"))
    with CaptureQueriesContext(connection) as queries:
        assert root.get(url).status_code == 200
    page = [
        q["sql"]
        for q in queries
        if q["sql"].startswith(f'SELECT "{table}"."id"') and "ORDER BY" in q["sql"]
    ]
    assert page, [q["sql"] for q in queries]
    assert re.search(rf'ORDER BY "{table}"\."id" DESC', page[0]), page[0]


def test_the_messages_template_filter_reads_no_message(root, cast):
    # Django's filter on a field without choices lists SELECT DISTINCT template over every
    # message, on every page of the list (0.6 s at 3 million messages).
    MessageFactory(installation=cast.installation("SCHEDULED"), template="contract_link")
    with CaptureQueriesContext(connection) as queries:
        html = root.get("/admin/installations/message/").content.decode()
    assert not [q["sql"] for q in queries if "DISTINCT" in q["sql"]]
    assert "?template=contract_link" in html and "?template=record_link" in html
    html = root.get("/admin/installations/message/", {"template": "contract_link"}).content
    assert b"1 message" in html


@pytest.mark.parametrize("confirmed", [False, True])
def test_cancel_selected_refuses_more_rows_than_a_bulk_action_takes(
    root, cast, monkeypatch, confirmed
):
    # "Select all" under a filter chose every matching row: at a million installations the
    # confirmation page listed each of them, and its Yes cancelled them all in one request,
    # texting every customer. The partner's bulk bar stops at bulk.services.MAX_ROWS.
    monkeypatch.setattr("installations.admin.installation.MAX_CANCEL_ROWS", 2)
    rows = [cast.installation("SCHEDULED") for _ in range(3)]
    data = {
        "action": "cancel_selected",
        "select_across": "1",
        "index": "0",
        "_selected_action": [rows[0].pk],
    }
    if confirmed:
        data |= {"post": "yes", "reason": "Storm."}
    response = root.post("/admin/installations/installation/", data, follow=True)
    html = response.content.decode()
    assert "at most 2" in html, html
    assert 'id="selected-installations"' not in html
    assert not Installation.objects.filter(status=Status.CANCELLED).exists()


def test_the_delete_page_of_a_handymans_login_says_why_without_reading_his_jobs(root, cast):
    # Deleting the login deletes the handyman: 6.4 s for one with 4,254 jobs at a million.
    cast.installation("INSTALLER_ASSIGNED")
    user = cast.handyman.user
    with CaptureQueriesContext(connection) as queries:
        response = root.get(f"/admin/auth/user/{user.pk}/delete/")
    assert _installation_rows_read(queries) == []
    assert "kept for their history" in response.content.decode()
    root.post(f"/admin/auth/user/{user.pk}/delete/", {"post": "yes"})
    assert type(user).objects.filter(pk=user.pk).exists()
