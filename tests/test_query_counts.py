"""Query counts that cannot drift.

Every list-like page declares, in PAGES, how to make its subject and how to grow the rows it
lists. Each page is measured with 2 and with 20 of those rows: the count must be the SAME (the
primary check: an N+1 shows as growth, whatever the pinned number), and it must equal the pin in
QUERIES (the secondary check: a new query anywhere shows up in review).

When a page legitimately changes, re-pin it in QUERIES (`pytest -v` prints the queries).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from installations.customer_links import make_token
from installations.evidence.models import EvidencePack
from installations.models import Installation, InstallationPhoto, Message, StatusChange
from installations.statuses import GROUPS, GROUPS_BY_SLUG, Status
from installations.views.handyman import NEXT_DAYS

from .conftest import Cast
from .factories import HandymanFactory, MessageFactory, UserFactory, make_installation

SMALL, LARGE = 2, 20

# The one table of exact pins: page -> queries per request (session and user included).
QUERIES: dict[str, int] = {
    # + the live feed's stamp (full page); the filter's handymen and the bulk bar's: one read.
    "partner list": 6,
    "partner list, group scheduled": 6,
    "partner list, group en_route": 6,
    "partner list, group in_progress": 6,
    "partner list, group approved": 6,
    "partner list, group rejected": 6,
    "partner list, search": 6,
    # + where the newest 10,000 jobs start: one or two characters search only those.
    "partner list, short search": 7,
    "partner list rows (htmx)": 5,
    # The record, its follow-ups, rebookings and the customer's other installations: one query.
    "detail with history": 8,
    "detail with photos": 8,
    "detail with messages": 8,
    "detail with follow-ups": 8,
    "detail with rebookings": 8,
    "detail with the customer's other installations": 8,
    "detail with evidence packs": 8,  # the packs made (their fingerprints): one query
    # The PDF: one pass over the record's rows whatever their number, then the pack's row.
    "evidence pack with history": 10,
    "evidence pack with photos": 10,
    "evidence pack with messages": 10,
    # + his days off (issue 12), + the live feed's stamp (issue 13); issue 20: today, the next
    # days and the bounded "Later" count, each through a LIMIT (the follow-ups are a subquery).
    "handyman jobs": 8,
    # The per-handyman table is kept 5 minutes after the warm-up request (2 queries more when it
    # is read: tests/dashboard/test_views.py pins that, with 2 and with 20 handymen).
    "dashboard": 8,
    "dashboard, 52 weeks (htmx)": 8,
    "admin dashboard, all partners": 8,
    "handyman jobs (htmx)": 6,
    # "Later" without JavaScript: the page, and the list's rows after the next days' cards it
    # has just read (not counted again); with htmx the list alone: the cards counted, the rows.
    "handyman later jobs": 9,
    "handyman later jobs (htmx)": 4,
    # The live feed with changes: the changed rows the page shows (issue 13).
    "live feed, the list's changed rows": 6,
    "live feed, the handyman's lists": 8,
    "assign page": 5,
    "assign dialog (htmx)": 5,
    "reassign page": 5,
    "reassign dialog (htmx)": 5,
    "customer link page": 3,  # the session: which links this browser opened (media access)
    "admin changelist": 6,  # the count from the counters, no date hierarchy (issue 20)
    # The record read once (not again for django-fsm-2's buttons), its parent, follow-ups and
    # rebookings in one query, the customer's other installations, the messages, the history.
    "admin change page with history": 7,
    "admin change page with follow-ups": 7,
    # One-record pages: nothing grows, the count is pinned.
    "reject page": 3,
    "reject dialog (htmx)": 3,
    # Session and user; no customer is listed until searched for (customer_picker).
    "new installation form": 2,
    # ... and the first customers matching the search (one query however many match).
    "new installation form, a customer searched": 3,
    "handyman job card (htmx)": 3,
    "handyman completion checklist": 3,
    # Handymen page, their jobs, booked hours, the Unassigned lane, the overdue count, days off.
    "dispatch board week": 7,  # the stamp shares the overdue count's query (issue 13)
    "dispatch board day (htmx)": 7,  # hours booked come from the cards read (no filter)
    "reschedule page": 3,
    "reschedule dialog (htmx)": 3,
    "handyman days off": 3,
    "webhook settings with endpoints": 4,  # no deliveries: nothing to prefetch
    "webhook settings with deliveries": 5,
    # Session, user (with the partner, as every partner page), the recent imports; the preview
    # adds the import and one query per lookup of the check: the references already used, the
    # handymen, the customers, their jobs on the file's dates; and for rows naming a handyman,
    # the handymen's days off and their open jobs on those dates (one query each for all rows).
    "import page with recent imports": 3,
    "import preview": 10,
}


@dataclass(frozen=True)
class Page:
    user: str | None  # who looks: a Cast attribute, "handyman_user", or None (the customer's link)
    make: Callable[[Cast], Any]  # the subject (an installation, or nothing for a list)
    grow: Callable[[Cast, Any, int], None] | None  # add k more related rows to the subject
    url: Callable[[Any], str]
    htmx: bool = False


# --- How each page's rows grow ----------------------------------------------------------------


def _nothing(cast: Cast) -> None:
    return None


def _new_handyman(cast: Cast) -> Any:
    handyman = HandymanFactory()
    handyman.partners.add(cast.partner)
    return handyman


def _installations_in(statuses: tuple[str, ...]) -> Callable[[Cast, Any, int], None]:
    """k installations for the partner, each with its own customer and handyman, cycling
    through the statuses."""

    def grow(cast: Cast, _subject: Any, k: int) -> None:
        for i in range(k):
            cast.installation(statuses[i % len(statuses)], handyman=_new_handyman(cast))

    return grow


EVERY_GROUP = (
    Status.SCHEDULED,
    Status.INSTALLER_ASSIGNED,
    Status.EN_ROUTE,
    Status.INSTALLATION_IN_PROGRESS,
    Status.REJECTED,
)


def _subject(status: str = Status.SCHEDULED) -> Callable[[Cast], Installation]:
    return lambda cast: cast.installation(status)


def _grow_history(cast: Cast, inst: Installation, k: int) -> None:
    # Each entry by its own user: an actor read per row would show.
    StatusChange.objects.bulk_create(
        StatusChange(
            installation=inst,
            kind=StatusChange.Kind.TRANSITION,
            transition="assign",
            from_status=Status.SCHEDULED,
            to_status=Status.SCHEDULED,
            actor=UserFactory(),
            actor_name="Someone",
            reason="Grown for the query count",
        )
        for _ in range(k)
    )


def _grow_photos(cast: Cast, inst: Installation, k: int) -> None:
    InstallationPhoto.objects.bulk_create(
        InstallationPhoto(installation=inst, image=f"photos/p{i}.png", uploaded_by=UserFactory())
        for i in range(k)
    )


def _grow_messages(cast: Cast, inst: Installation, k: int) -> None:
    Message.objects.bulk_create(
        MessageFactory.build(
            installation=inst,
            recipient=f"r{i}@example.com",
            template="assigned",
            subject="Grown",
            body="Grown for the query count",
            status=Message.State.FAILED,
            last_error="No route",
        )
        for i in range(k)
    )


def _grow_packs(cast: Cast, inst: Installation, k: int) -> None:
    EvidencePack.objects.bulk_create(
        EvidencePack(
            installation=inst,
            sha256=f"{i:064x}",
            pdf_sha256=f"{i + 1000:064x}",
            made_by_name=f"Someone {i}",
            size=1000 + i,
        )
        for i in range(k)
    )


def _children(**link: str) -> Callable[[Cast, Installation, int], None]:
    """k installations pointing at the subject through a field (parent or rebooked_from)."""
    ((field, kind),) = link.items()

    def grow(cast: Cast, inst: Installation, k: int) -> None:
        for _ in range(k):
            child = make_installation(partner=cast.partner, actor=cast.partner_user)
            Installation.objects.filter(pk=child.pk).update(**{field: inst, "kind": kind})

    return grow


def _grow_same_customer(cast: Cast, inst: Installation, k: int) -> None:
    for _ in range(k):
        cast.installation(
            Status.INSTALLER_ASSIGNED, handyman=_new_handyman(cast), customer=inst.customer
        )


def _grow_jobs(cast: Cast, _subject: Any, k: int) -> None:
    """k jobs for hank on the next three days, each for its own customer, some finished."""
    steps = (
        Status.INSTALLER_ASSIGNED,
        Status.EN_ROUTE,
        Status.INSTALLATION_IN_PROGRESS,
        Status.CONTRACT_SENT,
    )
    today = timezone.localdate()
    for i in range(k):
        job = cast.installation(steps[i % len(steps)], scheduled_date=today + timedelta(i % 3))
        if i % len(steps) == len(steps) - 1:
            # Finished in the last days: listed apart, with its customer.
            Installation.objects.filter(pk=job.pk).update(
                status=Status.CUSTOMER_APPROVED, completed_at=timezone.now()
            )


def _grow_later_jobs(cast: Cast, _subject: Any, k: int) -> None:
    """k jobs for hank after the next days' cards, each for its own customer, behind "Later";
    and a card on each of the next days (the list starts after them)."""
    today = timezone.localdate()
    if not Installation.objects.filter(handyman=cast.handyman).exists():
        for day in range(1, NEXT_DAYS + 1):
            cast.installation(Status.INSTALLER_ASSIGNED, scheduled_date=today + timedelta(day))
    after = Installation.objects.filter(handyman=cast.handyman).count()
    for i in range(after, after + k):
        later = today + timedelta(days=NEXT_DAYS + 1 + i)
        cast.installation(Status.INSTALLER_ASSIGNED, scheduled_date=later)


def _grow_handymen(cast: Cast, _inst: Installation, k: int) -> None:
    # Each with a job on the installation's day, so that the per-day count has rows to count.
    for _ in range(k):
        handyman = _new_handyman(cast)
        cast.installation(Status.INSTALLER_ASSIGNED, handyman=handyman)


def _grow_dashboard(cast: Cast, _subject: Any, k: int) -> None:
    """k jobs through every status, each with its own handyman; the open ones stuck."""
    from installations.dashboard.models import DashboardJob

    statuses = (*EVERY_GROUP, Status.CUSTOMER_APPROVED, Status.CANCELLED)
    for i in range(k):
        cast.installation(statuses[i % len(statuses)], handyman=_new_handyman(cast))
    DashboardJob.objects.update(since=timezone.now() - timedelta(days=30))


def _grow_webhook_endpoints(cast: Cast, _subject: Any, k: int) -> None:
    from installations.webhooks.models import WebhookEndpoint

    WebhookEndpoint.objects.bulk_create(
        WebhookEndpoint(
            partner=cast.partner,
            url=f"https://hooks.example.com/{i}",
            event_types=["installation.status_changed"],
            secret="whsec_x",
        )
        for i in range(k)
    )


def _grow_webhook_deliveries(cast: Cast, _subject: Any, k: int) -> None:
    """k deliveries over two endpoints, each with two attempts."""
    from installations.webhooks.models import (
        WebhookAttempt,
        WebhookDelivery,
        WebhookEndpoint,
        WebhookEvent,
    )

    endpoints = list(cast.partner.webhook_endpoints.all()) or [
        WebhookEndpoint.objects.create(
            partner=cast.partner, url=f"https://hooks.example.com/{i}", secret="whsec_x"
        )
        for i in range(2)
    ]
    inst = make_installation(partner=cast.partner, actor=cast.partner_user)
    for i in range(k):
        event = WebhookEvent.objects.create(
            partner=cast.partner, installation=inst, type="installation.status_changed", body="{}"
        )
        delivery = WebhookDelivery.objects.create(
            event=event, endpoint=endpoints[i % 2], installation=inst, status="failed"
        )
        WebhookAttempt.objects.bulk_create(
            WebhookAttempt(delivery=delivery, started_at=timezone.now(), status_code=500)
            for _ in range(2)
        )


def _partner_url(name: str) -> Callable[[Installation], str]:
    return lambda inst: reverse(f"partner:{name}", args=[inst.pk])


def _grow_imports(cast: Cast, _subject: Any, k: int) -> None:
    """k committed imports of the partner, each by its own user."""
    from installations.spreadsheets.models import Import

    for _ in range(k):
        Import.objects.create(
            partner=cast.partner,
            content=b"",
            fingerprint=f"{Import.objects.count():064d}",
            status=Import.State.COMMITTED,
            committed_at=timezone.now(),
            committed_by=UserFactory(),
            jobs_created=3,
            filename="grown.csv",
        )


def _an_import(cast: Cast) -> Any:
    from installations.spreadsheets.models import Import

    return Import.objects.create(
        partner=cast.partner, content=b"", fingerprint="0" * 64, created_by=cast.partner_user
    )


def _grow_import_rows(cast: Cast, upload: Any, k: int) -> None:
    """k more rows in the stored file, each for its own existing customer, with its own handyman
    and reference: every lookup of the check has rows to find."""
    from installations.spreadsheets.models import Import
    from installations.spreadsheets.reading import COLUMNS

    from .factories import CustomerFactory

    day = (timezone.localdate() + timedelta(days=5)).isoformat()
    lines = [",".join(column.name for column in COLUMNS.values())]
    for n in range(upload.rows + k):
        customer = CustomerFactory(partner=cast.partner, name=f"Grown {n}", phone="")
        if n >= upload.rows:
            HandymanFactory(user=UserFactory(username=f"grown{n}")).partners.add(cast.partner)
        address = f"{n} Grown Road"
        lines.append(f"Grown {n},,{customer.email},{address},,{day},08:00-10:00,,grown{n},REF-{n}")
    upload.rows += k
    upload.content = ("\r\n".join(lines) + "\r\n").encode()
    Import.objects.filter(pk=upload.pk).update(content=upload.content, rows=upload.rows)


IMPORT_URL = reverse("spreadsheets:import")


def _admin_change(inst: Installation) -> str:
    return reverse("admin:installations_installation_change", args=[inst.pk])


LIST = reverse("partner:list")
BOARD = reverse("board:week")


def _board_week(_subject: Any) -> str:
    # The week of tomorrow, where the grown rows are (make_installation's default day).
    return f"{BOARD}?week={(timezone.localdate() + timedelta(days=1)).strftime('%G-W%V')}"


def _board_day(_subject: Any) -> str:
    return f"{BOARD}?day={(timezone.localdate() + timedelta(days=1)).isoformat()}"


def _feed(scope: str, page: str) -> str:
    """Everything since the start, asked by a page that shows every row it could. Ids count from
    the first row there is now: the PostgreSQL leg's sequences are not reset between tests."""
    first = Installation.objects.order_by("pk").values_list("pk", flat=True).first() or 1
    rows = ",".join(str(pk) for pk in range(first, first + 400))
    return f"{reverse('live:' + scope)}?since=0&from={page}&rows={rows}"


PAGES: dict[str, Page] = {
    "partner list": Page("partner_user", _nothing, _installations_in(EVERY_GROUP), lambda _: LIST),
    **{
        f"partner list, group {group.slug}": Page(
            "partner_user",
            _nothing,
            _installations_in(group.statuses),
            lambda _, slug=group.slug: f"{LIST}?group={slug}",
        )
        for group in GROUPS
    },
    "partner list, search": Page(
        "partner_user", _nothing, _installations_in(EVERY_GROUP), lambda _: f"{LIST}?q=example"
    ),
    "partner list, short search": Page(
        "partner_user", _nothing, _installations_in(EVERY_GROUP), lambda _: f"{LIST}?q=e"
    ),
    "partner list rows (htmx)": Page(
        "partner_user",
        _nothing,
        _installations_in(EVERY_GROUP),
        lambda _: f"{LIST}?group=scheduled&sort=-date",
        htmx=True,
    ),
    "detail with history": Page("partner_user", _subject(), _grow_history, _partner_url("detail")),
    "detail with photos": Page("partner_user", _subject(), _grow_photos, _partner_url("detail")),
    "detail with messages": Page(
        "partner_user", _subject(), _grow_messages, _partner_url("detail")
    ),
    "detail with follow-ups": Page(
        "partner_user", _subject(), _children(parent="follow_up"), _partner_url("detail")
    ),
    "detail with rebookings": Page(
        "partner_user",
        _subject(Status.CANCELLED),
        _children(rebooked_from="installation"),
        _partner_url("detail"),
    ),
    "detail with the customer's other installations": Page(
        "partner_user", _subject(), _grow_same_customer, _partner_url("detail")
    ),
    "detail with evidence packs": Page(
        "partner_user", _subject(), _grow_packs, _partner_url("detail")
    ),
    **{
        f"evidence pack with {rows}": Page(
            "partner_user",
            _subject(Status.CUSTOMER_APPROVED),
            grow,
            lambda inst: reverse("evidence:pack", args=[inst.pk]),
        )
        for rows, grow in (
            ("history", _grow_history),
            ("photos", _grow_photos),
            ("messages", _grow_messages),
        )
    },
    # Rows of every status with a handyman each: the per-handyman table and the stuck list grow.
    "dashboard": Page(
        "partner_user", _nothing, _grow_dashboard, lambda _: reverse("dashboard:page")
    ),
    "dashboard, 52 weeks (htmx)": Page(
        "partner_user",
        _nothing,
        _grow_dashboard,
        lambda _: reverse("dashboard:page") + "?weeks=52",
        htmx=True,
    ),
    "admin dashboard, all partners": Page(
        "superuser",
        _nothing,
        _grow_dashboard,
        lambda _: reverse("admin:installations_partnerdashboard_dashboard"),
    ),
    "handyman jobs": Page(
        "handyman_user", _nothing, _grow_jobs, lambda _: reverse("handyman:jobs")
    ),
    "handyman jobs (htmx)": Page(
        "handyman_user", _nothing, _grow_jobs, lambda _: reverse("handyman:jobs"), htmx=True
    ),
    "handyman later jobs": Page(
        "handyman_user", _nothing, _grow_later_jobs, lambda _: reverse("handyman:jobs") + "?later=1"
    ),
    "handyman later jobs (htmx)": Page(
        "handyman_user",
        _nothing,
        _grow_later_jobs,
        lambda _: reverse("handyman:jobs") + "?later=1",
        htmx=True,
    ),
    "live feed, the list's changed rows": Page(
        "partner_user", _nothing, _installations_in(EVERY_GROUP), lambda _: _feed("partner", LIST)
    ),
    "live feed, the handyman's lists": Page(
        "handyman_user", _nothing, _grow_jobs, lambda _: _feed("handyman", "/handyman/")
    ),
    "assign page": Page("partner_user", _subject(), _grow_handymen, _partner_url("assign")),
    "assign dialog (htmx)": Page(
        "partner_user", _subject(), _grow_handymen, _partner_url("assign"), htmx=True
    ),
    "reassign page": Page(
        "partner_user",
        _subject(Status.INSTALLER_ASSIGNED),
        _grow_handymen,
        _partner_url("reassign"),
    ),
    "reassign dialog (htmx)": Page(
        "partner_user",
        _subject(Status.INSTALLER_ASSIGNED),
        _grow_handymen,
        _partner_url("reassign"),
        htmx=True,
    ),
    "customer link page": Page(
        None,
        _subject(Status.CONTRACT_SENT),
        _grow_photos,
        lambda inst: reverse("customer:page", args=[make_token(inst)]),
    ),
    "admin changelist": Page(
        "superuser",
        _nothing,
        _installations_in(EVERY_GROUP),
        lambda _: reverse("admin:installations_installation_changelist"),
    ),
    "admin change page with history": Page("superuser", _subject(), _grow_history, _admin_change),
    "admin change page with follow-ups": Page(
        "superuser", _subject(), _children(parent="follow_up"), _admin_change
    ),
    "dispatch board week": Page(
        "partner_user", _nothing, _installations_in(EVERY_GROUP), _board_week
    ),
    "dispatch board day (htmx)": Page(
        "partner_user", _nothing, _installations_in(EVERY_GROUP), _board_day, htmx=True
    ),
    "webhook settings with endpoints": Page(
        "partner_user", _nothing, _grow_webhook_endpoints, lambda _: reverse("webhooks:settings")
    ),
    "webhook settings with deliveries": Page(
        "partner_user", _nothing, _grow_webhook_deliveries, lambda _: reverse("webhooks:settings")
    ),
    "reject page": Page("partner_user", _subject(), None, _partner_url("reject")),
    "reject dialog (htmx)": Page(
        "partner_user", _subject(), None, _partner_url("reject"), htmx=True
    ),
    "new installation form": Page("partner_user", _nothing, None, lambda _: reverse("partner:new")),
    "new installation form, a customer searched": Page(
        "partner_user", _nothing, None, lambda _: reverse("partner:new") + "?customer_q=Smith"
    ),
    "handyman job card (htmx)": Page(
        "handyman_user",
        _subject(Status.INSTALLER_ASSIGNED),
        None,
        lambda inst: reverse("handyman:job", args=[inst.pk]),
        htmx=True,
    ),
    "handyman completion checklist": Page(
        "handyman_user",
        _subject(Status.INSTALLATION_IN_PROGRESS),
        None,
        lambda inst: reverse("handyman:complete", args=[inst.pk]),
    ),
}


def _grow_days_off(cast: Cast, _subject: Any, k: int) -> None:
    from installations.models import TimeOff

    start = TimeOff.objects.filter(handyman=cast.handyman).count() + 2
    today = timezone.localdate()
    for i in range(start, start + k):
        TimeOff.objects.create(handyman=cast.handyman, day=today + timedelta(days=i))


PAGES.update(
    {
        "reschedule page": Page(
            "partner_user",
            _subject(Status.INSTALLER_ASSIGNED),
            None,
            lambda inst: reverse("scheduling:reschedule", args=[inst.pk]),
        ),
        "reschedule dialog (htmx)": Page(
            "partner_user",
            _subject(Status.INSTALLER_ASSIGNED),
            None,
            lambda inst: reverse("scheduling:reschedule", args=[inst.pk]),
            htmx=True,
        ),
        "handyman days off": Page(
            "handyman_user", _nothing, _grow_days_off, lambda _: reverse("scheduling:days_off")
        ),
    }
)
PAGES["import page with recent imports"] = Page(
    "partner_user", _nothing, _grow_imports, lambda _: IMPORT_URL
)
PAGES["import preview"] = Page(
    "partner_user",
    _an_import,
    _grow_import_rows,
    lambda upload: f"{IMPORT_URL}?upload={upload.public_id}",
)
GROWING = [name for name, page in PAGES.items() if page.grow is not None]
FIXED = [name for name, page in PAGES.items() if page.grow is None]


def _who(cast: Cast, name: str) -> Any:
    if name == "handyman_user":
        return cast.handyman.user
    return getattr(cast, name)


def _get(client, url: str, htmx: bool) -> tuple[list[str], bytes]:
    """The SQL of one request, and the page it drew."""
    headers = {"HX-Request": "true"} if htmx else {}
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return [q["sql"] for q in ctx.captured_queries], response.content


def test_every_page_has_one_pin():
    assert set(PAGES) == set(QUERIES)
    assert {f"partner list, group {slug}" for slug in GROUPS_BY_SLUG} <= set(PAGES)


@pytest.mark.parametrize("name", GROWING)
def test_the_page_makes_the_same_queries_with_2_and_with_20_rows(
    client, cast, django_assert_num_queries, name
):
    page = PAGES[name]
    assert page.grow is not None
    subject = page.make(cast)
    if page.user:
        client.force_login(_who(cast, page.user))
    page.grow(cast, subject, SMALL)
    url = page.url(subject)
    client.get(url)  # warm the session and the caches every request shares

    small_sql, small_page = _get(client, url, page.htmx)
    page.grow(cast, subject, LARGE - SMALL)
    large_sql, large_page = _get(client, url, page.htmx)

    # The grown rows are on the page: otherwise equal counts would prove nothing.
    assert len(large_page) > len(small_page)
    assert len(large_sql) == len(small_sql), (
        f"{name}: {len(small_sql)} queries with {SMALL} rows but {len(large_sql)} with {LARGE}: "
        "an N+1. The queries with 20 rows:\n" + "\n".join(sql[:200] for sql in large_sql)
    )
    with django_assert_num_queries(QUERIES[name]):
        client.get(url, headers={"HX-Request": "true"} if page.htmx else {})


@pytest.mark.parametrize("name", FIXED)
def test_the_one_record_page_makes_exactly_its_pinned_queries(
    client, cast, django_assert_num_queries, name
):
    page = PAGES[name]
    subject = page.make(cast)
    client.force_login(_who(cast, page.user))
    url = page.url(subject)
    _get(client, url, page.htmx)  # warm the session and the caches every request shares
    with django_assert_num_queries(QUERIES[name]):
        client.get(url, headers={"HX-Request": "true"} if page.htmx else {})
