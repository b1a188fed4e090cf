"""Every input of the admin's tabular rows has a name a screen reader reads (axe's "label" rule);
the browser check is tests/browser/test_admin.py::test_the_people_pages_pass_axe_on_a_laptop."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

from django.utils import timezone

from installations.scheduling.models import TimeOff


class _Inputs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
            self.inputs.append(attrs)


def row_inputs(html: str, prefix: str) -> list[dict]:
    parser = _Inputs()
    parser.feed(html)
    return [i for i in parser.inputs if (i.get("name") or "").startswith(prefix)]


def test_each_input_of_a_handymans_days_off_is_named(client, cast):
    TimeOff.objects.create(handyman=cast.handyman, day=timezone.localdate() + timedelta(7))
    client.force_login(cast.superuser)
    html = client.get(f"/admin/installations/handyman/{cast.handyman.pk}/change/").content.decode()
    inputs = row_inputs(html, "time_off-")
    names = {i["name"]: i.get("aria-label") for i in inputs}
    assert names["time_off-0-day"] == "Day (row 1)"
    assert names["time_off-0-DELETE"] == "Delete (row 1)"
    assert names["time_off-1-day"] == "Day (new row)"
    assert all(names.values()), names


def test_each_input_of_a_partners_users_is_named(client, cast):
    client.force_login(cast.superuser)
    html = client.get(f"/admin/installations/partner/{cast.partner.pk}/change/").content.decode()
    inputs = row_inputs(html, "members-")
    assert inputs
    assert all(i.get("aria-label") for i in inputs), inputs


def test_a_users_login_dates_are_shown_not_typed(client, cast):
    client.force_login(cast.superuser)
    page = client.get(f"/admin/auth/user/{cast.staff.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="last_login_0"' not in html
    assert 'name="date_joined_0"' not in html
    assert "Date joined" in html
