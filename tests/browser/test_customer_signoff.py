"""The customer's path on a phone: open the link, sign with a finger (here the mouse), approve."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from installations import services
from installations.customer_links import make_token
from installations.models import Installation
from installations.statuses import Status

from .conftest import draw_signature
from .steps import small_targets


def _wait_until_loaded(img) -> None:
    """Wait for the photo's own load (lazy images start when near the viewport), never read
    `complete` once and hope: that raced the download."""
    img.scroll_into_view_if_needed()
    img.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=img.element_handle()
    )


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
    _wait_until_loaded(photo)
    # Readable at phone width: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # Signing without drawing is refused with a sentence.
    page.get_by_label("Your full name").fill(installation.customer.name)
    page.get_by_role("button", name="Sign the contract").click()
    page.get_by_text("Please sign in the box, or tick the statement").first.wait_for()
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


@pytest.mark.allow_page_errors("422 (Unprocessable Entity)")  # signing with nothing given
def test_a_refused_signature_opens_on_what_is_missing_not_at_the_top(phone_page, cast):
    """The sign form sits below the job, the photos and the contract: a refusal that reloaded
    the page at its top showed the job again and none of the reasons, as if nothing happened."""
    page = phone_page
    installation = cast.installation(Status.CONTRACT_SENT)
    page.goto(f"/c/{make_token(installation)}/")

    page.get_by_role("button", name="Sign the contract").click()

    summary = page.get_by_role("alert").filter(has_text="Please correct the following")
    expect(summary).to_contain_text("Type your full name.")
    expect(summary).to_be_in_viewport()
    expect(page.get_by_label("Your full name")).to_be_in_viewport()
    assert Installation.objects.get(pk=installation.pk).status == Status.CONTRACT_SENT


def test_every_control_on_the_customer_pages_is_big_enough_for_a_thumb(phone, cast):
    for status in (Status.CONTRACT_SENT, Status.CONTRACT_SIGNED, Status.CUSTOMER_APPROVED):
        phone.goto(f"/c/{make_token(cast.installation(status))}/")
        assert small_targets(phone) == [], status
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360, status


@pytest.mark.allow_page_errors("422 (Unprocessable Entity)")  # signing without a name
def test_a_drawn_signature_is_kept_when_the_name_was_missing(phone_page, cast):
    """The name sits above the box: a customer who signs first and forgets the name is asked
    for the name, and finds the signature still in the box, not gone without a word."""
    page = phone_page
    installation = cast.installation(Status.CONTRACT_SENT)
    page.goto(f"/c/{make_token(installation)}/")
    draw_signature(page)
    expect(page.locator("#id_signature")).to_have_value(re.compile(r"^data:image/png"))
    page.get_by_role("button", name="Sign the contract").click()

    expect(page.get_by_role("alert")).to_contain_text("Type your full name.")
    expect(page.locator("#id_signature")).to_have_value(re.compile(r"^data:image/png"))
    # The drawing, shown again in the box (drawn once its image has loaded).
    pad = page.locator("canvas#signature-pad").element_handle()
    wide_ink = f"c => {{ const [l, t, r, b] = ({INK_BOX})(c); return r - l > 50 && b - t > 20; }}"
    page.wait_for_function(wide_ink, arg=pad)

    page.get_by_label("Your full name").fill(installation.customer.name)
    page.get_by_role("button", name="Sign the contract").click()
    page.get_by_role("button", name="Approve installation").wait_for()
    installation.refresh_from_db()
    assert installation.status == Status.CONTRACT_SIGNED
    assert installation.contract_signature_kind == Installation.SignatureKind.DRAWN


def test_after_signing_the_phone_shows_the_thanks_and_the_next_step(phone, cast):
    """The sign form is at the bottom of a long page: the answer opened at its top, the same
    heading as before, and "Thank you for signing" and Approve far below, out of sight."""
    installation = cast.installation(Status.CONTRACT_SENT)
    phone.goto(f"/c/{make_token(installation)}/")
    phone.get_by_label("Your full name").fill(installation.customer.name)
    phone.get_by_label(re.compile("Instead of drawing")).check()
    phone.get_by_role("button", name="Sign the contract").click()

    approve = phone.get_by_role("button", name="Approve installation")
    approve.wait_for()
    expect(phone.get_by_text("Thank you for signing.")).to_be_in_viewport()
    expect(approve).to_be_in_viewport()


@pytest.mark.allow_page_errors("404 (Not Found)")
def test_a_tampered_link_shows_a_clear_page(phone_page, cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    token = make_token(installation)
    response = phone_page.goto(f"/c/{token[:-2]}zz/")
    assert response is not None and response.status == 404
    phone_page.get_by_role("heading", name="This link does not work").wait_for()


@pytest.mark.allow_page_errors("410 (Gone)")
def test_a_cancelled_and_rebooked_jobs_old_link_says_when_on_a_phone(phone, cast):
    from axe_playwright_python.sync_playwright import Axe

    installation = cast.installation(Status.CONTRACT_SENT)
    token = make_token(installation)
    services.installation_cancel(installation=installation, reason="Moved.", actor=cast.staff)
    services.installation_rebook(
        installation=installation,
        actor=cast.partner_user,
        scheduled_date=timezone.localdate() + timedelta(days=8),
    )
    response = phone.goto(f"/c/{token}/")
    assert response is not None and response.status == 410
    phone.get_by_role("heading", name="Your visit was moved to a new booking").wait_for()
    expect(phone.get_by_text("You will get a new link")).to_be_in_viewport()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert _serious(Axe().run(phone)) == []


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


FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
INK_UNDER = """([canvas, points]) => {
  // Is there ink in the bitmap right under each point (CSS pixels from the canvas' corner)?
  // A point off the canvas has none (getImageData answers transparent black there).
  const rect = canvas.getBoundingClientRect();
  const ctx = canvas.getContext("2d");
  const sx = canvas.width / rect.width, sy = canvas.height / rect.height;
  return points.map(([x, y]) => {
    if (x < 0 || y < 0 || x > rect.width || y > rect.height) return false;
    const px = ctx.getImageData(Math.round(x * sx) - 2, Math.round(y * sy) - 2, 5, 5).data;
    let darkest = 255;
    for (let i = 0; i < px.length; i += 4) {
      if (px[i + 3] === 255) darkest = Math.min(darkest, px[i]);
    }
    return darkest < 100;
  });
}"""


INK_BOX = """canvas => {
  // The ink's bounding box, in CSS pixels: [left, top, right, bottom].
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  const data = ctx.getImageData(0, 0, width, height).data;
  let box = [width, height, 0, 0];
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    if (data[(y * width + x) * 4] < 100) {
      box = [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x), Math.max(box[3], y)];
    }
  }
  const r = width / canvas.getBoundingClientRect().width;
  return box.map(v => v / r);
}"""


def _stroke(page, pad, fractions):
    box = pad.bounding_box()
    assert box is not None
    points = [(box["width"] * fx, box["height"] * fy) for fx, fy in fractions]
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=6)
    page.mouse.up()
    return points


def test_ink_lands_under_the_finger_after_the_phone_is_turned(phone_page, cast):
    page = phone_page
    installation = cast.installation(Status.CONTRACT_SENT)
    page.goto(f"/c/{make_token(installation)}/")
    pad = page.locator("canvas#signature-pad")
    pad.scroll_into_view_if_needed()
    box_before = pad.bounding_box()
    # Down to the bottom of the pad: the ink a width-only scaling pushed off the canvas.
    before = _stroke(page, pad, [(0.1, 0.5), (0.3, 0.5), (0.35, 0.9)])
    expect(page.locator("#id_signature")).to_have_value(re.compile(r"^data:image/png"))

    # Turned on its side: the pad is wider now.
    page.set_viewport_size({"width": 844, "height": 390})
    # A few frames for the resize to be seen (a person needs far longer to sign again).
    page.evaluate(FRAMES)
    pad.scroll_into_view_if_needed()
    after = _stroke(page, pad, [(0.5, 0.3), (0.5, 0.7), (0.9, 0.7)])

    handle = pad.element_handle()
    assert all(page.evaluate(INK_UNDER, [handle, after])), "ink is not under the pointer"
    # The first stroke was kept, redrawn at the pad's new size: one scale across and down (the
    # pad is wider, not taller, so its shape and size stay), all of it on the canvas.
    box = page.evaluate(
        "c => { const r = c.getBoundingClientRect(); return [r.width, r.height]; }", handle
    )
    assert box[0] > box_before["width"] * 1.5
    scale = min(box[0] / box_before["width"], box[1] / box_before["height"])
    kept = [(x * scale, y * scale) for x, y in before]
    assert all(page.evaluate(INK_UNDER, [handle, kept])), "the first stroke was not kept whole"
    expect(page.locator("#id_signature")).to_have_value(re.compile(r"^data:image/png"))

    # Turned back: the wider signature is scaled down to fit, its shape kept (nothing cut off).
    wide = page.evaluate(INK_BOX, handle)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function(
        """c => { const w = c.getBoundingClientRect().width;
                  return w < 390 && c.width === Math.round(w * devicePixelRatio); }""",
        arg=handle,
    )
    narrow = page.evaluate(INK_BOX, handle)
    assert narrow[2] - narrow[0] < wide[2] - wide[0]  # smaller...
    aspect = (wide[2] - wide[0]) / (wide[3] - wide[1])
    assert (narrow[2] - narrow[0]) / (narrow[3] - narrow[1]) == pytest.approx(aspect, rel=0.08)


def test_the_customer_signs_with_a_typed_name_using_only_the_keyboard(phone_page, cast):
    page = phone_page
    installation = cast.installation(Status.CONTRACT_SENT)
    page.goto(f"/c/{make_token(installation)}/")

    page.get_by_label("Your full name").fill(installation.customer.name)
    page.get_by_label("I agree that typing my full name above is my signature.").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Sign the contract").focus()
    page.keyboard.press("Enter")

    page.get_by_role("button", name="Approve installation").wait_for()
    installation.refresh_from_db()
    assert installation.status == Status.CONTRACT_SIGNED
    assert installation.contract_signature_kind == Installation.SignatureKind.TYPED
    expect(page.get_by_text(f"by {installation.customer.name} (typed name)")).to_be_visible()


@pytest.mark.allow_page_errors("409 (Conflict)")  # signing a page drawn before an edit
def test_a_signature_refused_because_the_office_edited_the_job_is_said_where_the_page_opens(
    phone, cast
):
    """The refused signature opens the page at its sign form (#sign), far below the top: the
    sentence saying why stood at the top, out of sight, and the customer saw only their own
    form again, as if nothing had happened."""
    installation = cast.installation(Status.CONTRACT_SENT)
    phone.goto(f"/c/{make_token(installation)}/")
    phone.get_by_label("Your full name").fill(installation.customer.name)
    phone.get_by_label("I agree that typing my full name above is my signature.").check()
    services.installation_update(
        installation=installation, actor=cast.partner_user, site_address="2 New Street"
    )

    phone.get_by_role("button", name="Sign the contract").click()

    said = phone.get_by_role("alert").filter(has_text="changed the details of your installation")
    expect(said).to_be_in_viewport()
    expect(phone.get_by_label("Your full name")).to_have_value(installation.customer.name)
    expect(phone.get_by_text("2 New Street").first).to_be_attached()
    assert Installation.objects.get(pk=installation.pk).status == Status.CONTRACT_SENT
