"""What only production shows: uploads and the icon, served by gunicorn with DEBUG off."""

from __future__ import annotations

from playwright.sync_api import expect

from installations.statuses import Status

from .conftest import log_in


def test_the_partner_sees_the_photo_and_both_signatures_on_the_detail_page(page, cast):
    job = cast.installation(Status.CONTRACT_SIGNED)
    log_in(page, "acme")
    page.goto(f"/installations/{job.pk}/")
    images = page.locator("img[src^='/media/']")
    expect(images).to_have_count(3)
    # Every image decoded (the page guard also fails on any 404 under /media/).
    page.wait_for_function(
        "[...document.querySelectorAll(\"img[src^='/media/']\")]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )


def test_the_icon_is_there_on_every_page(page, cast):
    response = page.request.get("/favicon.ico")
    assert response.status == 200
    page.goto("/accounts/login/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert href and page.request.get(href).status == 200
