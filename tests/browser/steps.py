"""Steps several browser tests take the same way."""

from __future__ import annotations

import re
from datetime import timedelta

from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from installations.models import Installation

from .conftest import log_in

# Counts the page's settled swaps on <html data-swaps>, so that a test can wait for a request it
# expects to finish (the CSP forbids wait_for_function's eval). Add it with
# `page.add_init_script(COUNT_SWAPS)` before the page loads; wait with `swaps(page, n)`.
COUNT_SWAPS = """
let swaps = 0;
document.addEventListener("htmx:afterSettle", () => {
  swaps += 1;
  document.documentElement.dataset.swaps = String(swaps);
});
"""


def swaps(page, n: int) -> None:
    """Wait until the page has settled its n-th swap since it loaded."""
    expect(page.locator("html")).to_have_attribute("data-swaps", str(n))


def start_choosing_a_handyman(opener) -> tuple:
    """Click an Assign button, then pick Hana in the dialog without confirming: the dialog and
    the chosen radio, which has the focus."""
    opener.click()
    dialog = opener.page.locator("#action-dialog")
    expect(dialog).to_be_visible()
    choice = dialog.get_by_label(re.compile(r"Hana .*that day"))
    choice.check()
    expect(choice).to_be_focused()
    return dialog, choice


def set_off_in_the_field(browser, job) -> None:
    """The handyman, in a phone-sized browser of his own, taps "On my way" on the job."""
    field = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    log_in(field, "hank")
    field.goto("/handyman/")
    field.locator(f"#job-{job.pk}").get_by_role("button", name="On my way").click()
    expect(field.locator(f"#job-{job.pk}")).to_contain_text("En route")


def serious_axe_violations(page, *, read_stylesheets: bool = True) -> list[str]:
    """axe-core's serious and critical findings on the page as it is, one line each.

    `read_stylesheets=False` skips axe's preload of the page's CSS (used by one rule, orientation
    lock): it copies a stylesheet with an `@import` (Django admin's forms.css) into a `<style>`
    of the page, which the CSP refuses and whose import resolves against the page's own URL."""
    options = {"resultTypes": ["violations"]}
    if not read_stylesheets:
        options["preload"] = False
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in Axe().run(page, options=options).response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


def later_rows(cast, n: int) -> list[Installation]:
    """`n` scheduled installations from the day after tomorrow on, one a day."""
    day = timezone.localdate()
    return [cast.installation(scheduled_date=day + timedelta(days=2 + i)) for i in range(n)]


def row_box(page, inst: Installation):
    """The list row's "select" box, by its label."""
    return page.get_by_label(f"Select #{inst.pk} {inst.customer.name}", exact=True)


def centre(locator) -> tuple[float, float]:
    """Where a finger taps `locator`: the middle of its box, scrolled into view first."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def height(locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return box["height"]


# Every control a thumb taps, by the box it can be tapped in (a radio or a checkbox by its label),
# smaller than 44×44 CSS pixels: one line each. Not counted: the skip link (off screen until the
# keyboard reaches it) and links inside a sentence (an error summary's, or any link with words of
# the sentence around it, not only other links and separators), which WCAG 2.5.8 exempts.
SMALL_TARGETS = """(within) => {
  const inSentence = (el) => {
    if (el.tagName !== 'A' || !el.parentElement) return false;
    let around = '';
    for (const node of el.parentElement.childNodes) {
      if (node === el) continue;
      if (node.nodeType === Node.TEXT_NODE) around += node.textContent;
      else if (node.nodeType === Node.ELEMENT_NODE && !node.matches('a, button'))
        around += node.textContent;
    }
    return /[A-Za-z]{2}/.test(around);
  };
  const small = [];
  for (const el of document.querySelector(within || 'html').querySelectorAll(
    'a[href], button, summary, input:not([type=hidden]), select, textarea'
  )) {
    if (el.closest('.skip-link, .error-summary') || inSentence(el)) continue;
    const box = el.matches('input[type=radio], input[type=checkbox]')
      ? (el.closest('label') || el.labels[0] || el) : el;
    const r = box.getBoundingClientRect();
    if (!r.width && !r.height) continue;  // not shown
    if (r.width < 44 || r.height < 44) {
      const text = (box.innerText || el.name || el.id).trim().slice(0, 40);
      const size = `${Math.round(r.width)}×${Math.round(r.height)}`;
      small.push(`${el.tagName.toLowerCase()} "${text}": ${size}`);
    }
  }
  return small;
}"""


def small_targets(page, within: str = "html") -> list[str]:
    """The page's controls smaller than 44×44 CSS pixels (SMALL_TARGETS), those inside the
    element `within` selects (the whole page by default)."""
    return page.evaluate(SMALL_TARGETS, within)
