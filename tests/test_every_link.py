"""Every link works: each audience (a partner's user, a handyman, a customer's link, staff) opens
its pages and follows every link they draw, and every address an htmx attribute asks for (an
`hx-get`), a few levels deep. Each must answer as a page (200), a download or a redirect that
stays signed in, never a 404, 403, 405 or 500: a link a page draws is a promise to the person
reading it. And opening pages changes nothing (what it may record is listed, with why).
Findings over all links end in one readable list, as test_every_form_twice does.
"""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest

from .test_every_form_twice import build, differences, state

# Addresses that are not pages to open: static files (whitenoise, tested with DEBUG off by
# the browser leg), uploaded files (tests/test_media.py) and logging out (a POST).
SKIP_PREFIXES = ("/static/", "/media/", "/accounts/logout/")
# Each kind of page at most this many times (its numbers and query aside): the list's sorts,
# filters and pages, and the history's thousand entries, would otherwise use up the crawl.
PER_KIND = 5
MAX_PAGES = 300  # per audience
DEPTH = 3


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.links.append(found["href"])
        if found.get("hx-get"):
            self.links.append(found["hx-get"])
        if tag == "form" and (found.get("method") or "get").lower() == "get":
            self.links.append(found.get("action") or "")


def links_of(page: str, html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    parser.close()
    found = []
    for link in parser.links:
        address = urljoin(page, link)
        parts = urlsplit(address)
        if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
            continue  # another site (a map, a phone number, an email address)
        if parts.path.startswith(SKIP_PREFIXES):
            continue
        # The same page whatever the fragment; the query in a stable order.
        query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
        found.append(parts.path + (f"?{query}" if query else ""))
    return found


def crawl(client, start: list[str], htmx_answers: bool = True) -> tuple[list[str], int, list[str]]:
    """Open `start` and what it links to, DEPTH levels deep: the findings, the number of
    addresses opened, and the pages among them (HTML answered 200)."""
    findings: list[str] = []
    pages: list[str] = []
    seen: set[str] = set()
    per_kind: dict[str, int] = defaultdict(int)
    queue = [(page, "the start", 0) for page in start]
    opened = 0
    while queue and opened < MAX_PAGES:
        address, linked_from, depth = queue.pop(0)
        if address in seen:
            continue
        seen.add(address)
        kind = re.sub(r"\d+", "N", address.split("?")[0]) + ("?" if "?" in address else "")
        per_kind[kind] += 1
        if per_kind[kind] > PER_KIND and depth > 0:  # each start page is opened
            continue
        response = client.get(address)
        opened += 1
        code = response.status_code
        where = f"{address} (linked from {linked_from})"
        if code in (301, 302, 303):
            target = response["Location"]
            if "/accounts/login/" in target:
                findings.append(f"{where}: sends a signed-in person to log in")
            elif depth < DEPTH:
                queue += [
                    (link, address, depth + 1) for link in links_of(address, f'<a href="{target}">')
                ]
            continue
        if code != 200:
            findings.append(f"{where}: answered {code}")
            continue
        if "html" not in response.get("Content-Type", ""):
            continue
        pages.append(address)
        if depth >= DEPTH:
            continue
        html = response.content.decode()
        queue += [(link, address, depth + 1) for link in links_of(address, html)]
        if htmx_answers:
            # The fragment an htmx request gets at the same address draws links too.
            fragment = client.get(address, headers={"HX-Request": "true"})
            if fragment.status_code == 200 and "html" in fragment.get("Content-Type", ""):
                more = links_of(address, fragment.content.decode())
                queue += [(link, f"{address} (htmx)", depth + 1) for link in more]
    return findings, opened, pages


# What opening a page may write, with the reason. Nothing else: a GET changes nothing.
WRITTEN_BY_OPENING = {
    # Each evidence pack made is recorded (who, when, its fingerprint): a register of the
    # documents issued (docs/decisions.md, "Issue 15: the evidence pack").
    "installations.EvidencePack": "each pack downloaded is recorded",
    "sessions.Session": "a customer's link starts a session",
}


def _kept(snapshot: tuple) -> tuple:
    tables = tuple(row for row in snapshot[0] if row[0] not in WRITTEN_BY_OPENING)
    return (tables, *snapshot[1:])


# At least this many pages each audience must have opened, so the crawl cannot test nothing.
MINIMUM_OPENED = {"partner": 45, "handyman": 8, "customer": 2, "staff": 150}


@pytest.mark.django_db
def test_every_link_a_page_draws_opens_for_the_person_reading_it_and_changes_nothing(cast):
    audiences, _ = build(cast)
    findings: list[str] = []
    for audience in audiences.values():
        before = state()
        problems, opened, _ = crawl(audience.client, audience.pages)
        if changed := differences(_kept(before), _kept(state())):
            problems.append(f"opening pages changed {changed}")
        print(f"\n{audience.name}: {opened} pages opened")
        findings += [f"{audience.name:9} {problem}" for problem in problems]
        if opened < MINIMUM_OPENED[audience.name]:
            findings.append(
                f"{audience.name}: only {opened} pages opened, "
                f"at least {MINIMUM_OPENED[audience.name]} expected"
            )
    assert not findings, f"{len(findings)} links do not open:\n" + "\n".join(findings)
