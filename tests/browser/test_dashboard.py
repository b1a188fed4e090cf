"""The partner dashboard in a browser: a quarter of real changes, the period switch without a
reload (and with the URL), no JavaScript needed, axe clean, a phone's width, a screenshot."""

from __future__ import annotations

import itertools
import random
import re
from datetime import timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from installations.dashboard import services
from installations.dashboard.models import DashboardThresholds
from installations.dashboard.selectors import DEFAULT_THRESHOLDS
from installations.statuses import Status
from tests.dashboard.helpers import Clock, populate
from tests.factories import PartnerUserFactory

from .conftest import PHONE, log_in
from .steps import COUNT_SWAPS, small_targets, swaps

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"


def _serious(results) -> list[str]:
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


@pytest.fixture
def quarter(cast):
    # Only while the data is made: the rest of the test runs on the real clock.
    with pytest.MonkeyPatch.context() as patch:
        clock = Clock(patch, timezone.now().replace(microsecond=0))
        made = populate(cast, clock, random.Random(15))
    assert made > 40
    return cast


def test_the_dashboard_switches_period_in_place_and_is_axe_clean(page, quarter):
    log_in(page, "acme")
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_url(re.compile(r"/installations/dashboard/$"))
    expect(page.get_by_role("heading", name="Pipeline over time")).to_be_visible()
    expect(page.get_by_role("link", name="Last 12 weeks")).to_have_attribute("aria-current", "page")
    pipeline = page.get_by_role("table", name=re.compile("Pipeline per week"))
    expect(pipeline.locator("tbody tr")).to_have_count(12)
    expect(page.get_by_role("img", name=re.compile("Time on site"))).to_be_visible()
    # Jobs still waiting for their handyman to set off a day after their window opened, each a
    # link to its page.
    stuck = page.locator("#stuck .stuck-list a")
    expect(stuck.first).to_have_attribute("href", re.compile(r"^/installations/\d+/$"))

    page.evaluate("window.__noReload = 1")
    page.get_by_role("link", name="Last 4 weeks").click()
    page.wait_for_url(re.compile(r"\?weeks=4$"))
    expect(pipeline.locator("tbody tr")).to_have_count(4)
    expect(page.get_by_role("link", name="Last 4 weeks")).to_have_attribute("aria-current", "page")
    assert page.evaluate("window.__noReload") == 1

    axe = Axe()
    assert _serious(axe.run(page)) == []
    page.get_by_role("link", name="Last 12 weeks").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    expect(pipeline.locator("tbody tr")).to_have_count(12)
    assert _serious(axe.run(page)) == []
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "dashboard.png"), full_page=True)


def test_the_period_links_work_without_javascript(browser, quarter):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, "acme")
    page.goto("/installations/dashboard/")
    page.get_by_role("link", name="Last 52 weeks").click()
    page.wait_for_url(re.compile(r"\?weeks=52$"))
    table = page.get_by_role("table", name=re.compile("Pipeline per week"))
    expect(table.locator("tbody tr")).to_have_count(52)


def test_thresholds_save_without_javascript_and_the_stuck_list_follows(page, quarter):
    # Without a handyman six days before its day: its clock started a day ago (a week before
    # its window), under the default 72 hours; the quarter's own unassigned jobs are booked at
    # most four days ahead, so they are listed already.
    ahead = quarter.installation(
        Status.SCHEDULED, scheduled_date=timezone.localdate() + timedelta(days=6)
    )
    scheduled = page.locator(f'#stuck .stuck-list a[href="/installations/{ahead.pk}/"]')
    log_in(page, "acme")
    page.goto("/installations/dashboard/?weeks=4")
    expect(page.get_by_role("heading", name="Stuck jobs")).to_be_visible()
    expect(scheduled).to_have_count(0)
    page.get_by_label("Scheduled").fill("1")
    page.get_by_role("button", name="Save thresholds").click()
    page.wait_for_url(re.compile(r"\?weeks=4#stuck$"))
    expect(page.get_by_text("Stuck-job thresholds saved.")).to_be_visible()
    expect(page.get_by_label("Scheduled")).to_have_value("1")
    expect(scheduled).to_have_count(1)
    row = page.locator(f'#stuck li:has(a[href="/installations/{ahead.pk}/"])')
    expect(row).to_contain_text("no handyman yet")


def test_at_phone_width_the_page_does_not_scroll_sideways(phone_page, quarter):
    page = phone_page
    page.set_viewport_size({"width": 360, "height": 800})
    log_in(page, "acme")
    page.goto("/installations/dashboard/")
    expect(page.get_by_role("heading", name="Flow times")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert _serious(Axe().run(page)) == []


def test_every_control_of_the_dashboard_is_a_thumbs_44_pixels_on_a_phone(phone, quarter):
    # The stuck jobs' links were 19 px high, one under the other; the thresholds' boxes 41.
    log_in(phone, "acme")
    phone.goto("/installations/dashboard/")
    expect(phone.locator("#stuck .stuck-list a").first).to_be_visible()
    assert small_targets(phone, within="main") == []


# Each chart's words as drawn: their size in CSS pixels, and their boxes.
CHART_WORDS = """() => [...document.querySelectorAll("svg.chart-svg")].map((svg) => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return [...svg.querySelectorAll("text")].map((t) => {
    const r = t.getBoundingClientRect();
    return {text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * scale,
            left: r.left, right: r.right, top: r.top, bottom: r.bottom};
  });
})"""


@pytest.mark.parametrize("weeks", [4, 12, 52])
def test_the_charts_words_are_readable_on_a_phone_and_never_overlap(phone, quarter, weeks):
    # Drawn for 640 units and shrunk to a phone's column, the axes' words were 6 px high.
    log_in(phone, "acme")
    phone.goto(f"/installations/dashboard/?weeks={weeks}")
    charts = phone.evaluate(CHART_WORDS)
    assert len(charts) == 8
    for words in charts:
        for word in words:
            assert word["px"] >= 11, word
            assert word["left"] >= 0 and word["right"] <= PHONE["width"], word
        for a, b in itertools.combinations(words, 2):
            apart = (
                a["right"] <= b["left"]
                or b["right"] <= a["left"]
                or a["bottom"] <= b["top"]
                or b["bottom"] <= a["top"]
            )
            assert apart, (a, b)


def test_a_period_chosen_with_the_keyboard_keeps_the_focus_on_its_link(page, cast):
    # The links are drawn again with the period: the focus fell to the page's top, and the next
    # Tab went to "Skip to main content".
    page.add_init_script(COUNT_SWAPS)
    log_in(page, "acme")
    page.goto("/installations/dashboard/")
    page.get_by_role("link", name="Last 4 weeks").focus()
    page.keyboard.press("Enter")
    swaps(page, 1)
    chosen = page.get_by_role("link", name="Last 4 weeks")
    expect(chosen).to_have_attribute("aria-current", "page")
    expect(chosen).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Last 12 weeks")).to_be_focused()


def test_a_period_link_adds_one_history_entry_and_back_returns_to_the_previous_period(page, cast):
    page.add_init_script(COUNT_SWAPS)
    log_in(page, "acme")
    page.goto("/installations/dashboard/?weeks=4")
    pipeline = page.get_by_role("table", name=re.compile("Pipeline per week"))
    expect(pipeline.locator("tbody tr")).to_have_count(4)
    entries = page.evaluate("history.length")

    page.get_by_role("link", name="Last 12 weeks").click()
    page.wait_for_url(re.compile(r"/dashboard/$"))
    swaps(page, 1)
    expect(pipeline.locator("tbody tr")).to_have_count(12)
    assert page.evaluate("history.length") == entries + 1

    # The period already shown, clicked again: the same page, no second entry to go Back through.
    page.get_by_role("link", name="Last 12 weeks").click()
    swaps(page, 2)
    assert page.evaluate("history.length") == entries + 1

    page.go_back()
    expect(page).to_have_url(re.compile(r"\?weeks=4$"))
    expect(pipeline.locator("tbody tr")).to_have_count(4)

    # From the bare address, the default period is that address: no copy of the page either.
    page.goto("/installations/dashboard/")
    entries = page.evaluate("history.length")
    page.get_by_role("link", name="Last 12 weeks").click()
    swaps(page, 1)
    assert page.evaluate("history.length") == entries
    page.get_by_role("link", name="Last 4 weeks").click()
    page.wait_for_url(re.compile(r"\?weeks=4$"))
    expect(pipeline.locator("tbody tr")).to_have_count(4)
    expect(page.get_by_role("link", name="Last 4 weeks")).to_have_attribute("aria-current", "page")


@pytest.mark.allow_page_errors("422 (Unprocessable Entity)")
def test_a_refused_threshold_opens_the_page_at_its_sentence_with_the_field_focused(page, quarter):
    # The form sits halfway down a long page: the answer to a refused one opened at the top of
    # the charts, its sentence thousands of pixels below, as if nothing had been sent.
    log_in(page, "acme")
    page.goto("/installations/dashboard/?weeks=4")
    page.get_by_label("En route").fill("0")
    page.get_by_role("button", name="Save thresholds").click()
    page.wait_for_load_state("networkidle")
    sentence = page.get_by_text("Please correct the hours marked below; nothing was saved.")
    expect(sentence).to_be_in_viewport()
    expect(page.get_by_label("En route")).to_be_focused()
    expect(page.get_by_label("En route")).to_have_value("0")


@pytest.mark.allow_page_errors("409 (Conflict)")
def test_thresholds_a_colleague_saved_meanwhile_are_said_and_kept_until_saved_again(page, quarter):
    log_in(page, "acme")
    page.goto("/installations/dashboard/?weeks=4")
    # Meanwhile, a colleague at another desk.
    colleague = PartnerUserFactory(partner=quarter.partner).user
    services.dashboard_thresholds_update(
        partner=quarter.partner,
        actor=colleague,
        hours={**{str(s): h for s, h in DEFAULT_THRESHOLDS.items()}, "SCHEDULED": 10},
    )
    page.get_by_label("En route").fill("5")
    page.get_by_role("button", name="Save thresholds").click()
    page.wait_for_load_state("networkidle")
    said = page.locator("#thresholds-changed")
    expect(said).to_contain_text("Scheduled: 10 hours")
    expect(said).to_be_in_viewport()
    expect(said).to_be_focused()
    expect(page.get_by_label("En route")).to_have_value("5")
    assert DashboardThresholds.objects.get(partner=quarter.partner).hours["SCHEDULED"] == 10
    page.get_by_role("button", name="Save thresholds").click()
    expect(page.get_by_text("Stuck-job thresholds saved.")).to_be_visible()
    assert DashboardThresholds.objects.get(partner=quarter.partner).hours["EN_ROUTE"] == 5
