"""The record page's messages panel in a browser: "Re-send link to customer" answers in place,
keeps the keyboard's focus on its button and says its sentence in the page's live region."""

from __future__ import annotations

from playwright.sync_api import expect

from installations.statuses import Status

from .conftest import log_in
from .steps import COUNT_SWAPS, swaps


def test_resending_the_link_keeps_the_focus_on_the_button_and_says_so(page, cast):
    job = cast.installation(Status.CONTRACT_SENT)
    page.add_init_script(COUNT_SWAPS)
    log_in(page, "acme")
    page.goto(f"/installations/{job.pk}/")
    resend = page.get_by_role("button", name="Re-send link to customer")
    resend.focus()
    page.keyboard.press("Enter")
    swaps(page, 1)
    sentence = f"A new link was sent to {job.customer.name}."
    expect(page.locator("#messages-panel")).to_contain_text(sentence)
    # The panel was drawn anew: the focus is on its new button, not at the top of the page.
    expect(page.get_by_role("button", name="Re-send link to customer")).to_be_focused()
    expect(page.locator("#flash")).to_contain_text(sentence)
