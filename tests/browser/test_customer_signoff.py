"""The customer's path on a phone: open the link, sign with a finger (here the mouse), approve."""

from __future__ import annotations

import pytest

from installations.customer_links import make_token
from installations.models import Installation
from installations.statuses import Status

from .conftest import draw_signature


@pytest.mark.allow_page_errors("422 (Unprocessable Entity)")  # signing without drawing
def test_the_customer_signs_and_approves_on_a_phone(phone_page, cast):
    page = phone_page
    console: list[str] = []
    page.on("console", lambda msg: console.append(msg.text))
    installation = cast.installation(Status.CONTRACT_SENT)
    token = make_token(installation)

    page.goto(f"/c/{token}/")
    page.get_by_role("heading", name="Your installation").wait_for()
    assert page.get_by_text("Acme Appliances").first.is_visible()
    assert page.get_by_text(installation.site_address).first.is_visible()
    photo = page.get_by_role("img", name="Photo 1 of 1 of the finished installation")
    # Wait for the (lazy) photo to decode: checking `complete` at once raced its loading.
    photo.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
    )
    # Readable at phone width: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # Signing without drawing is refused with a sentence.
    page.get_by_label("Your full name").fill(installation.customer.name)
    page.get_by_role("button", name="Sign the contract").click()
    page.get_by_text("Please sign in the box.").first.wait_for()
    assert Installation.objects.get(pk=installation.pk).status == Status.CONTRACT_SENT

    page.get_by_label("Your full name").fill(installation.customer.name)
    draw_signature(page)
    page.wait_for_function("document.getElementById('id_signature').value.length > 100")
    page.get_by_role("button", name="Sign the contract").click()

    page.get_by_role("button", name="Approve installation").wait_for()
    installation.refresh_from_db()
    assert installation.status == Status.CONTRACT_SIGNED
    assert installation.contract_signer_name == installation.customer.name
    assert installation.contract_signature.read().startswith(b"\x89PNG")

    page.get_by_role("button", name="Approve installation").click()
    page.get_by_role("heading", name=f"Thank you, {installation.customer.name}").wait_for()
    assert Installation.objects.get(pk=installation.pk).status == Status.CUSTOMER_APPROVED

    # The same link keeps showing the read-only summary.
    page.goto(f"/c/{token}/")
    page.get_by_role("heading", name=f"Thank you, {installation.customer.name}").wait_for()
    assert page.locator("form").count() == 0
    assert not [m for m in console if "Content Security Policy" in m]


@pytest.mark.allow_page_errors("404 (Not Found)")
def test_a_tampered_link_shows_a_clear_page(phone_page, cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    token = make_token(installation)
    response = phone_page.goto(f"/c/{token[:-2]}zz/")
    assert response is not None and response.status == 404
    phone_page.get_by_role("heading", name="This link does not work").wait_for()


def _serious(results) -> list[str]:
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])})"
        for v in results.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


@pytest.mark.allow_page_errors("404 (Not Found)")
def test_axe_finds_no_serious_violations_on_the_customer_pages(phone_page, cast):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    sent = cast.installation(Status.CONTRACT_SENT)
    signed = cast.installation(Status.CONTRACT_SIGNED)
    approved = cast.installation(Status.CUSTOMER_APPROVED)
    for installation in (sent, signed, approved):
        phone_page.goto(f"/c/{make_token(installation)}/")
        phone_page.wait_for_load_state("networkidle")
        assert _serious(axe.run(phone_page)) == [], installation.status
    phone_page.goto("/c/not-a-token/")
    assert _serious(axe.run(phone_page)) == []
