"""A handyman on a phone walks a job from "Installer assigned" to "Contract sent"."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from installations import services
from installations.demo import png_bytes
from installations.models import Installation
from installations.scheduling.models import TimeOff
from installations.statuses import Status

from .conftest import draw_signature, log_in
from .steps import centre, small_targets


def _watch_console(page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return errors


def _set_off_minutes_ago(job: Installation, minutes: int) -> None:
    Installation.objects.filter(pk=job.pk).update(
        departed_at=timezone.now() - timedelta(minutes=minutes)
    )


def _sign(page) -> None:
    draw_signature(page)
    expect(page.locator("#id_signature")).to_have_value(re.compile(r"^data:image/png;base64,"))


def test_a_handyman_walks_a_job_to_contract_sent_on_his_phone(phone_page, cast):
    page = phone_page
    errors = _watch_console(page)
    job = cast.installation("INSTALLER_ASSIGNED", scheduled_date=timezone.localdate())

    log_in(page, "hank")
    page.wait_for_url(re.compile(r"/handyman/$"))
    card = page.locator(f"#job-{job.pk}")
    expect(card.get_by_role("heading", name=job.customer.name)).to_be_visible()

    # On my way, with an arrival estimate.
    card.get_by_label("45 min").check()
    card.get_by_role("button", name="On my way").tap()
    expect(card.get_by_role("button", name="Arrived")).to_be_visible()
    expect(card).to_contain_text("about 45 minutes")
    expect(card.locator(".job-note")).to_be_focused()

    # Arrived a moment after setting off is asked about; the answer moves the job.
    card.get_by_role("button", name="Arrived").tap()
    expect(card).to_contain_text("Are you at the site already?")
    card.get_by_role("button", name="Yes, I am at the site").tap()
    expect(card.get_by_role("link", name="Mark done")).to_be_visible()
    expect(card).to_contain_text("Time on site")

    # A follow-up visit for the partner to schedule; the job itself stays where it is.
    card.get_by_role("button", name="Book follow-up visit").tap()
    expect(card).to_contain_text("Follow-up visit booked")
    expect(card.get_by_role("link", name="Mark done")).to_be_visible()

    # Mark done: the checklist, with a photo and a signature drawn with the pointer.
    card.get_by_role("link", name="Mark done").tap()
    page.wait_for_url(re.compile(rf"/handyman/{job.pk}/complete/$"))
    page.get_by_label("Photos of the finished work").set_input_files(
        files=[{"name": "finished.png", "mimeType": "image/png", "buffer": png_bytes((320, 240))}]
    )
    _sign(page)
    page.get_by_label("Notes (optional)").fill("Fitted and tested.")
    page.get_by_role("button", name="Mark done").click()
    page.wait_for_url(re.compile(r"/handyman/(#job-\d+)?$"))
    expect(page.get_by_text("Job marked done.")).to_be_visible()

    # Send contract.
    card = page.locator(f"#job-{job.pk}")
    card.get_by_role("button", name="Send contract").tap()
    expect(card).to_contain_text("Contract sent to the customer.")
    expect(card.get_by_role("button")).to_have_count(0)  # nothing left for him to do

    job = Installation.objects.get(pk=job.pk)
    assert job.status == Status.CONTRACT_SENT
    assert job.photos.count() == 1
    assert job.completion_signature
    assert job.completion_notes == "Fitted and tested."
    assert not [e for e in errors if "Content Security Policy" in e]


@pytest.mark.allow_page_errors("422 (Unprocessable Entity)")
def test_an_incomplete_checklist_keeps_what_was_given_and_says_what_is_missing(phone_page, cast):
    page = phone_page
    job = cast.installation("INSTALLATION_IN_PROGRESS", scheduled_date=timezone.localdate())

    log_in(page, "hank")
    page.goto(f"/handyman/{job.pk}/complete/")
    _sign(page)
    page.get_by_role("button", name="Mark done").click()

    summary = page.locator("#checklist-summary")
    expect(summary).to_contain_text("Add at least one photo of the finished work.")
    expect(summary).to_be_focused()
    # The signature drawn a moment ago is still there: only the messages were swapped in.
    expect(page.locator("#id_signature")).to_have_value(re.compile(r"^data:image/png"))
    page.get_by_label("Photos of the finished work").set_input_files(
        files=[{"name": "finished.png", "mimeType": "image/png", "buffer": png_bytes((320, 240))}]
    )
    page.get_by_role("button", name="Mark done").click()
    page.wait_for_url(re.compile(r"/handyman/(#job-\d+)?$"))
    assert Installation.objects.get(pk=job.pk).status == Status.INSTALLATION_COMPLETED


def _tab_to(page, selector: str, *, limit: int = 25) -> None:
    """Press Tab until `selector` has the focus, as a keyboard user would reach it."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with Tab")


def test_the_checklist_can_be_signed_with_a_typed_name_using_only_the_keyboard(page, cast):
    job = cast.installation("INSTALLATION_IN_PROGRESS", scheduled_date=timezone.localdate())
    # Listening from the start turns Chromium's file dialog interception on before the key is
    # pressed: waiting for the chooser only at the key press raced with it (a flaky timeout).
    page.on("filechooser", lambda chooser: None)
    log_in(page, "hank")
    page.goto(f"/handyman/{job.pk}/complete/")
    page.evaluate(
        """() => { window.padTouched = 0; document.querySelector("#signature-pad")
            .addEventListener("pointerdown", () => window.padTouched++); }"""
    )

    _tab_to(page, "#id_photos")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(
        files=[{"name": "finished.png", "mimeType": "image/png", "buffer": png_bytes((320, 240))}]
    )
    _tab_to(page, "#id_signer_name")
    page.keyboard.type("Jo Customer")
    _tab_to(page, "#id_typed_signature")
    page.keyboard.press("Space")
    expect(page.get_by_label("I, the customer, confirm the work is finished")).to_be_checked()
    _tab_to(page, "button[type=submit]")
    assert page.evaluate("window.padTouched") == 0
    expect(page.locator("#id_signature")).to_have_value("")
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/handyman/(#job-\d+)?$"))
    expect(page.get_by_text("Job marked done.")).to_be_visible()
    job = Installation.objects.get(pk=job.pk)
    assert job.status == Status.INSTALLATION_COMPLETED
    assert job.completion_signature_kind == Installation.SignatureKind.TYPED
    assert job.completion_signer_name == "Jo Customer"
    assert not job.completion_signature
    assert job.photos.count() == 1


def test_the_checklist_is_signed_with_a_typed_name_without_javascript(browser, live_server, cast):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 360, "height": 740}, java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        job = cast.installation("INSTALLATION_IN_PROGRESS", scheduled_date=timezone.localdate())
        log_in(page, "hank")
        page.goto(f"/handyman/{job.pk}/complete/")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.get_by_label("Photos of the finished work").set_input_files(
            files=[{"name": "a.png", "mimeType": "image/png", "buffer": png_bytes((320, 240))}]
        )
        page.get_by_label("Customer’s full name").fill("Jo Customer")
        page.get_by_label("I, the customer, confirm the work is finished").check()
        page.get_by_role("button", name="Mark done").click()

        expect(page.get_by_text("Job marked done.")).to_be_visible()
        job = Installation.objects.get(pk=job.pk)
        assert job.status == Status.INSTALLATION_COMPLETED
        assert job.completion_signature_kind == Installation.SignatureKind.TYPED
        assert job.completion_signer_name == "Jo Customer"
    finally:
        context.close()


# The lost tap is reported by Chromium and by htmx (its sendError) on the console.
@pytest.mark.allow_page_errors("ERR_INTERNET_DISCONNECTED", "htmx:sendError", "htmx:afterRequest")
def test_a_tap_lost_to_the_network_can_be_retried(phone_page, cast):
    page = phone_page
    job = cast.installation("EN_ROUTE", scheduled_date=timezone.localdate())
    _set_off_minutes_ago(job, 10)

    log_in(page, "hank")
    page.wait_for_url(re.compile(r"/handyman/$"))
    page.route("**/arrive/", lambda route: route.abort("internetdisconnected"))
    card = page.locator(f"#job-{job.pk}")
    card.get_by_role("button", name="Arrived").tap()

    alert = card.get_by_role("alert")
    expect(alert).to_contain_text("No connection — your tap was not sent.")
    expect(card.get_by_role("button", name="Arrived")).to_be_enabled()
    assert Installation.objects.get(pk=job.pk).status == Status.EN_ROUTE

    page.unroute("**/arrive/")
    card.get_by_role("button", name="Retry").tap()
    expect(card.get_by_role("link", name="Mark done")).to_be_visible()
    assert Installation.objects.get(pk=job.pk).status == Status.INSTALLATION_IN_PROGRESS


def _noisy_jpeg(size: tuple[int, int]) -> bytes:
    """A photo that does not compress: its bytes take as long to send as a phone's would."""
    buffer = io.BytesIO()
    Image.effect_noise(size, 80).convert("RGB").save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


# The tap that got no answer is reported by htmx (its timeout) on the console.
@pytest.mark.allow_page_errors("htmx:timeout", "htmx:afterRequest")
def test_a_tap_that_gets_no_answer_is_not_said_to_be_unsent(phone_page, cast):
    """A tap that timed out may well have arrived (the job moved, the customer was texted): it
    was called "not sent". It is said as it is, with a Retry that does nothing twice."""
    page = phone_page
    job = cast.installation("EN_ROUTE", scheduled_date=timezone.localdate())
    _set_off_minutes_ago(job, 10)
    log_in(page, "hank")
    page.wait_for_url(re.compile(r"/handyman/$"))
    page.evaluate("htmx.config.timeout = 1000")  # the page's 30 s, shortened
    held = []
    page.route("**/arrive/", lambda route: held.append(route))  # arrived, never answered
    card = page.locator(f"#job-{job.pk}")
    card.get_by_role("button", name="Arrived").tap()

    alert = card.get_by_role("alert")
    expect(alert).to_contain_text("No answer in time")
    assert "not sent" not in alert.inner_text()
    page.unroute("**/arrive/")
    card.get_by_role("button", name="Retry").tap()
    expect(card.get_by_role("link", name="Mark done")).to_be_visible()


def test_a_slow_photo_upload_that_keeps_moving_is_not_cut_off(phone_page, cast):
    """On a weak signal the photos take minutes to send. A fixed time limit aborted the upload
    part-way and said "No connection — your tap was not sent", and Retry started it over, to be
    cut off again: a dead end. Here the form's limit is shortened below the upload's time (the
    shipped one was 120 s against an upload of minutes); the upload still arrives, and the
    button says how far it has got."""
    page = phone_page
    job = cast.installation("INSTALLATION_IN_PROGRESS", scheduled_date=timezone.localdate())
    log_in(page, "hank")
    page.goto(f"/handyman/{job.pk}/complete/")
    _sign(page)
    photo = _noisy_jpeg((700, 500))  # about 500 KB: some 5 s at 100 KB/s
    page.get_by_label("Photos of the finished work").set_input_files(
        files=[{"name": "finished.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
    page.locator("form[data-checklist]").evaluate(
        "form => form.setAttribute('hx-request', JSON.stringify({timeout: 1500}))"
    )
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 100,
            "downloadThroughput": 1_000_000,
            "uploadThroughput": 100_000,
        },
    )

    button = page.get_by_role("button", name=re.compile("Mark done|Sending"))
    button.tap()
    expect(button).to_contain_text(re.compile(r"Sending… \d+%"))
    page.wait_for_url(re.compile(r"/handyman/(#job-\d+)?$"), timeout=30_000)
    assert Installation.objects.get(pk=job.pk).status == Status.INSTALLATION_COMPLETED


# The upload given up is reported by htmx (its sendAbort) on the console.
@pytest.mark.allow_page_errors("htmx:sendAbort", "htmx:afterRequest")
def test_a_checklist_upload_that_stops_moving_is_given_up_with_a_sentence_and_retried(
    phone_page, cast
):
    """No progress for 30 s is a lost connection (the browser may never say so itself): the
    handyman is told, with a Retry that sends the same photos and signature again."""
    page = phone_page
    job = cast.installation("INSTALLATION_IN_PROGRESS", scheduled_date=timezone.localdate())
    page.clock.install()
    log_in(page, "hank")
    page.goto(f"/handyman/{job.pk}/complete/")
    _sign(page)
    page.get_by_label("Photos of the finished work").set_input_files(
        files=[{"name": "finished.png", "mimeType": "image/png", "buffer": png_bytes((320, 240))}]
    )
    held = []
    page.route("**/complete/", lambda route: held.append(route))  # the upload goes nowhere

    page.get_by_role("button", name="Mark done").tap()
    page.wait_for_timeout(500)
    assert held
    page.clock.fast_forward("00:31")

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The connection stopped while sending")
    assert Installation.objects.get(pk=job.pk).status == Status.INSTALLATION_IN_PROGRESS
    page.unroute("**/complete/")
    alert.get_by_role("button", name="Retry").tap()
    page.wait_for_url(re.compile(r"/handyman/(#job-\d+)?$"))
    assert Installation.objects.get(pk=job.pk).status == Status.INSTALLATION_COMPLETED


# The lost upload is reported on the console: by the browser, and by htmx (its sendError).
@pytest.mark.allow_page_errors(
    "422", "ERR_INTERNET_DISCONNECTED", "htmx:sendError", "htmx:afterRequest"
)
def test_a_checklist_lost_to_the_network_does_not_still_ask_for_what_was_given_since(
    phone_page, cast
):
    """Refused once for a missing photo and signature, then sent with both while the network
    dropped: the page said "No connection" under the button and, above it, still "Still needed:
    Add at least one photo… Ask the customer to sign", under a drawn signature and two chosen
    photos. A new attempt withdraws the last one's refusal; the server's next answer redraws it
    if it still holds."""
    page = phone_page
    job = cast.installation("INSTALLATION_IN_PROGRESS", scheduled_date=timezone.localdate())
    log_in(page, "hank")
    page.goto(f"/handyman/{job.pk}/complete/")
    page.get_by_role("button", name="Mark done").tap()
    summary = page.locator("#checklist-summary")
    expect(summary).to_contain_text("Add at least one photo of the finished work.")

    page.get_by_label("Photos of the finished work").set_input_files(
        files=[{"name": "finished.png", "mimeType": "image/png", "buffer": png_bytes((320, 240))}]
    )
    _sign(page)
    page.route("**/complete/", lambda route: route.abort("internetdisconnected"))
    page.get_by_role("button", name="Mark done").tap()

    expect(page.get_by_role("alert")).to_contain_text("No connection — your tap was not sent.")
    expect(summary).to_have_text("")
    expect(summary).not_to_have_attribute("role", "alert")
    expect(page.locator("#signature-error")).to_have_text("")
    expect(page.locator("#id_signature")).to_have_value(re.compile(r"^data:image/png"))
    assert Installation.objects.get(pk=job.pk).status == Status.INSTALLATION_IN_PROGRESS


@pytest.mark.allow_page_errors("404")  # the checklist of a job given away, on purpose
def test_a_checklist_of_a_job_given_away_meanwhile_leads_back_to_his_jobs_not_to_a_404(
    phone_page, cast
):
    """The office gave the job to someone else while he filled in its checklist: "Reload the
    page" reloaded the checklist, which is now "Page not found". The way on is his list."""
    page = phone_page
    job = cast.installation("INSTALLATION_IN_PROGRESS", scheduled_date=timezone.localdate())
    log_in(page, "hank")
    page.goto(f"/handyman/{job.pk}/complete/")
    page.get_by_label("Photos of the finished work").set_input_files(
        files=[{"name": "finished.png", "mimeType": "image/png", "buffer": png_bytes((320, 240))}]
    )
    _sign(page)
    Installation.objects.filter(pk=job.pk).update(handyman=cast.other_handyman)

    page.get_by_role("button", name="Mark done").tap()

    alert = page.get_by_role("alert")
    said = f"#{job.pk} {job.customer.name} is no longer yours: it was given to another handyman."
    expect(alert).to_contain_text(f"{said} Nothing was changed.")
    back = alert.get_by_role("button", name="Back to my jobs")
    expect(back).to_be_focused()
    back.tap()
    page.wait_for_url(re.compile(r"/handyman/(#job-\d+)?$"))
    expect(page.get_by_role("heading", name="My jobs")).to_be_visible()


def test_a_photo_over_the_size_limit_is_said_on_choosing_it_not_after_uploading_it(
    phone_page, cast
):
    """A phone's full-size photo can be over the limit: the handyman is told when he chooses
    it, and "Mark done" does not spend minutes of a weak signal sending what will be refused."""
    page = phone_page
    job = cast.installation("INSTALLATION_IN_PROGRESS", scheduled_date=timezone.localdate())
    log_in(page, "hank")
    page.goto(f"/handyman/{job.pk}/complete/")
    _sign(page)
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    too_big = b"\xff\xd8\xff" + bytes(11 * 1024 * 1024)
    photos = page.get_by_label("Photos of the finished work")

    photos.set_input_files(files=[{"name": "big.jpg", "mimeType": "image/jpeg", "buffer": too_big}])
    said = (
        "“big.jpg” is 11 MB; each photo can be at most 10 MB. Take it again at a lower "
        "resolution or choose another one."
    )
    expect(page.locator("#photos-error")).to_contain_text(said)
    page.get_by_role("button", name="Mark done").tap()
    expect(photos).to_be_focused()
    assert posts == []

    photos.set_input_files(
        files=[{"name": "small.png", "mimeType": "image/png", "buffer": png_bytes((320, 240))}]
    )
    expect(page.locator("#photos-error")).to_be_empty()
    page.get_by_role("button", name="Mark done").tap()
    page.wait_for_url(re.compile(r"/handyman/(#job-\d+)?$"))
    assert Installation.objects.get(pk=job.pk).status == Status.INSTALLATION_COMPLETED


def test_more_photos_than_a_job_takes_are_said_on_choosing_them_not_after_uploading_them(
    phone_page, cast, settings, tmp_path
):
    """21 photos were all sent over a weak signal before the server said a job takes 20: the
    count (and the total size) is said when they are chosen, in the server's words."""
    page = phone_page
    job = cast.installation("INSTALLATION_IN_PROGRESS", scheduled_date=timezone.localdate())
    log_in(page, "hank")
    page.goto(f"/handyman/{job.pk}/complete/")
    _sign(page)
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    photos = page.get_by_label("Photos of the finished work")
    many = settings.MAX_PHOTOS_PER_JOB + 1
    one = png_bytes((32, 24))

    photos.set_input_files(
        files=[{"name": f"p{n}.png", "mimeType": "image/png", "buffer": one} for n in range(many)]
    )
    said = (
        "Too many photos at once. A job can have at most 20 photos and 60 MB of photos in all. "
        "Choose fewer or smaller photos."
    )
    expect(page.locator("#photos-error")).to_have_text(said)
    page.get_by_role("button", name="Mark done").tap()
    expect(photos).to_be_focused()
    assert posts == []

    # Seven photos of 9 MB: each within its limit, 63 MB in all (files: Playwright takes at
    # most 50 MB of buffers).
    big = []
    for n in range(7):
        path = tmp_path / f"b{n}.jpg"
        with path.open("wb") as handle:
            handle.write(b"\xff\xd8\xff")
            handle.truncate(9 * 1024 * 1024)
        big.append(path)
    photos.set_input_files(files=big)
    expect(page.locator("#photos-error")).to_have_text(said)
    page.get_by_role("button", name="Mark done").tap()
    assert posts == []

    photos.set_input_files(
        files=[{"name": f"p{n}.png", "mimeType": "image/png", "buffer": one} for n in range(3)]
    )
    expect(page.locator("#photos-error")).to_be_empty()
    page.get_by_role("button", name="Mark done").tap()
    page.wait_for_url(re.compile(r"/handyman/(#job-\d+)?$"))
    assert Installation.objects.get(pk=job.pk).status == Status.INSTALLATION_COMPLETED


def test_a_heic_photo_is_said_on_choosing_it_not_after_uploading_it(phone_page, cast):
    """An iPhone's HEIC photo (chosen from Files, where the phone does not make it a JPEG) was
    sent in full to be refused: the page says so on choosing it, in the server's words."""
    page = phone_page
    job = cast.installation("INSTALLATION_IN_PROGRESS", scheduled_date=timezone.localdate())
    log_in(page, "hank")
    page.goto(f"/handyman/{job.pk}/complete/")
    _sign(page)
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    photos = page.get_by_label("Photos of the finished work")
    heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + bytes(4000)

    photos.set_input_files(
        files=[
            {"name": "IMG_0001.HEIC", "mimeType": "image/heic", "buffer": heic},
            {"name": "ok.png", "mimeType": "image/png", "buffer": png_bytes((32, 24))},
        ]
    )
    expect(page.locator("#photos-error")).to_have_text(
        "“IMG_0001.HEIC” is a HEIC photo, which the portal cannot read. Choose it from the "
        "phone’s photo gallery (an iPhone then sends it as a JPEG), or set the camera to take "
        "JPEG photos (on an iPhone: Settings › Camera › Formats › Most Compatible)."
    )
    page.get_by_role("button", name="Mark done").tap()
    expect(photos).to_be_focused()
    assert posts == []


def test_a_tap_after_the_session_ended_asks_to_log_in_and_comes_back(phone_page, cast):
    page = phone_page
    job = cast.installation("INSTALLER_ASSIGNED", scheduled_date=timezone.localdate())

    log_in(page, "hank")
    page.wait_for_url(re.compile(r"/handyman/$"))
    page.context.clear_cookies(name="sessionid")  # the session ends while the page is open
    page.locator(f"#job-{job.pk}").get_by_role("button", name="On my way").tap()

    # The whole window goes to the login page (not the login page inside the card)...
    page.wait_for_url(re.compile(r"/accounts/login/\?next=%2Fhandyman%2F$"))
    assert page.locator("header").count() == 1
    assert Installation.objects.get(pk=job.pk).status == Status.INSTALLER_ASSIGNED
    # ...and back to the jobs page after logging in, where the tap can be made again.
    page.get_by_label("Username").fill("hank")
    page.get_by_label("Password").fill("test-pass-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/handyman/$"))
    page.locator(f"#job-{job.pk}").get_by_role("button", name="On my way").tap()
    expect(page.locator(f"#job-{job.pk}").get_by_role("button", name="Arrived")).to_be_visible()


def test_the_page_fits_a_360px_screen_without_sideways_scrolling(phone_page, cast):
    page = phone_page
    cast.installation("INSTALLER_ASSIGNED", scheduled_date=timezone.localdate())
    cast.installation("INSTALLATION_IN_PROGRESS", site_address="1 A Very Long Street Name " * 3)
    page.set_viewport_size({"width": 360, "height": 740})

    log_in(page, "hank")
    page.wait_for_url(re.compile(r"/handyman/$"))

    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for button in page.locator(".button-big, .eta-choice").all():
        box = button.bounding_box()
        assert box is not None
        assert box["height"] >= 48


def test_every_control_on_his_phone_is_big_enough_for_a_thumb(phone, cast):
    """The header's links (home, change your password) and the day-off date are tapped on the
    same 360-pixel screen as the step buttons."""
    today = timezone.localdate()
    cast.installation("INSTALLER_ASSIGNED", scheduled_date=today)
    on_site = cast.installation("INSTALLATION_IN_PROGRESS", scheduled_date=today)
    cast.installation("INSTALLER_ASSIGNED", scheduled_date=today + timedelta(days=9))
    TimeOff.objects.create(handyman=cast.handyman, day=today + timedelta(days=3))

    log_in(phone, "hank")
    phone.wait_for_url(re.compile(r"/handyman/$"))
    assert small_targets(phone) == []

    phone.goto(f"/handyman/{on_site.pk}/complete/")
    assert small_targets(phone) == []


@pytest.mark.allow_page_errors("422 (Unprocessable Entity)")
def test_axe_finds_no_violations_on_the_jobs_page_and_the_checklist(phone_page, cast):
    from axe_playwright_python.sync_playwright import Axe

    page = phone_page
    axe = Axe()
    today = timezone.localdate()
    cast.installation("INSTALLER_ASSIGNED", scheduled_date=today, notes="Dog in the garden.")
    on_site = cast.installation("INSTALLATION_IN_PROGRESS", scheduled_date=today)
    cast.installation("CONTRACT_SENT")

    log_in(page, "hank")
    page.wait_for_url(re.compile(r"/handyman/$"))
    assert axe.run(page).response["violations"] == []

    page.goto(f"/handyman/{on_site.pk}/complete/")
    page.get_by_role("button", name="Mark done").click()
    page.locator("#checklist-summary.error-summary").wait_for()
    assert axe.run(page).response["violations"] == []


def test_the_steps_work_without_javascript(browser, live_server, cast):
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        java_script_enabled=False,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        job = cast.installation("INSTALLER_ASSIGNED", scheduled_date=timezone.localdate())
        log_in(page, "hank")
        page.wait_for_url(re.compile(r"/handyman/$"))

        page.locator(f"#job-{job.pk}").get_by_label("30 min").check()
        page.locator(f"#job-{job.pk}").get_by_role("button", name="On my way").click()
        expect(page.get_by_text("On your way: the customer is told")).to_be_visible()
        # A minute has not passed: the page asks, and the answer is a plain form too.
        page.locator(f"#job-{job.pk}").get_by_role("button", name="Arrived").click()
        expect(page.get_by_text("Are you at the site already?")).to_be_visible()
        assert Installation.objects.get(pk=job.pk).status == Status.EN_ROUTE
        page.locator(f"#job-{job.pk}").get_by_role("button", name="Yes, I am at the site").click()
        expect(page.get_by_text("Arrived: the on-site clock is running.")).to_be_visible()
        expect(page.locator(f"#job-{job.pk}").get_by_role("link", name="Mark done")).to_be_visible()

        job = Installation.objects.get(pk=job.pk)
        assert job.status == Status.INSTALLATION_IN_PROGRESS
        assert job.eta_minutes == 30
    finally:
        context.close()


TOUCH_LOG = """() => {
  window.touchLog = [];
  document.addEventListener("touchstart", (event) => {
    const button = event.target.closest("button");
    window.touchLog.push({
      text: button ? button.querySelector(".when-idle").textContent.trim() : "",
      disabled: button ? button.disabled : null,
    });
  }, true);
}"""


def test_a_double_tap_on_on_my_way_never_marks_arrived(phone_page, cast):
    """A real double tap at 390×844 with touch: the second tap lands on the "Arrived" button just
    drawn under the finger, which is inert for a moment, so nothing is sent."""
    page = phone_page
    job = cast.installation("INSTALLER_ASSIGNED", scheduled_date=timezone.localdate())
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    log_in(page, "hank")
    page.wait_for_url(re.compile(r"/handyman/$"))
    card = page.locator(f"#job-{job.pk}")
    on_my_way = card.get_by_role("button", name="On my way")
    x, y = centre(on_my_way)

    # What each touch lands on, and whether it was ready, as the page saw it.
    page.evaluate(TOUCH_LOG)
    page.touchscreen.tap(x, y)
    arrived = card.get_by_role("button", name="Arrived")
    # The redrawn card focuses its note (which may scroll); then the finger comes down again
    # on "Arrived".
    expect(card.locator(".job-note")).to_be_focused()
    box = arrived.bounding_box()
    assert box is not None
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    touches = page.evaluate("window.touchLog")
    assert [t["text"] for t in touches] == ["On my way", "Arrived"]
    assert touches[1]["disabled"]  # inert: visibly and to assistive technology
    expect(arrived).to_be_enabled()
    page.wait_for_timeout(300)
    assert [u for u in posts if u.endswith("/arrive/")] == []
    assert Installation.objects.get(pk=job.pk).status == Status.EN_ROUTE

    # A deliberate tap a moment later is asked about (the server's rule), not taken.
    arrived.tap()
    expect(card).to_contain_text("Are you at the site already?")
    assert Installation.objects.get(pk=job.pk).status == Status.EN_ROUTE


def test_a_double_tap_on_yes_i_am_at_the_site_does_not_open_the_checklist(phone_page, cast):
    """After "Yes, I am at the site" the card is redrawn with the "Mark done" link exactly under
    the finger (a link, not a form's button): the second tap of a double tap must land on
    nothing, not open the close checklist of a job he has only just reached."""
    page = phone_page
    job = cast.installation("EN_ROUTE", scheduled_date=timezone.localdate())
    Installation.objects.filter(pk=job.pk).update(departed_at=timezone.now())
    opened: list[str] = []
    page.on("request", lambda r: opened.append(r.url) if "/complete/" in r.url else None)

    log_in(page, "hank")
    card = page.locator(f"#job-{job.pk}")
    card.get_by_role("button", name="Arrived").tap()
    yes = card.get_by_role("button", name="Yes, I am at the site")
    # The question is drawn (its note focused), and its button has settled in: a first tap.
    expect(card.locator(".job-note-question")).to_be_focused()
    expect(yes).to_be_enabled()
    x, y = centre(yes)

    page.touchscreen.tap(x, y)
    mark_done = card.get_by_role("link", name="Mark done")
    expect(card.locator(".job-note")).to_be_focused()
    box = mark_done.bounding_box()
    assert box is not None
    page.touchscreen.tap(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    page.wait_for_timeout(300)
    assert opened == []
    expect(page).to_have_url(re.compile(r"/handyman/$"))
    assert Installation.objects.get(pk=job.pk).status == Status.INSTALLATION_IN_PROGRESS
    expect(mark_done).not_to_have_attribute("aria-disabled", "true")  # ready a moment later

    # A deliberate tap a moment later opens the checklist.
    mark_done.tap()
    page.wait_for_url(re.compile(rf"/handyman/{job.pk}/complete/$"))


def test_an_expected_arrival_that_passes_while_the_page_is_open_says_so(phone_page, cast):
    """The page stays open in his pocket: at 10:41 it must not still say "About 10:40"."""
    page = phone_page
    job = cast.installation("EN_ROUTE", scheduled_date=timezone.localdate())
    now = timezone.now()
    Installation.objects.filter(pk=job.pk).update(expected_arrival_at=now + timedelta(minutes=1))
    page.clock.install(time=now)
    log_in(page, "hank")
    card = page.locator(f"#job-{job.pk}")
    expect(card.get_by_text("About")).to_be_visible()
    expect(card.get_by_text("Was expected by")).to_be_hidden()

    page.clock.fast_forward("02:00")

    expect(card.get_by_text("Was expected by")).to_be_visible()
    expect(card.get_by_text("that time has passed")).to_be_visible()
    expect(card.get_by_text("About")).to_have_count(0)


THREE_HOURS = timedelta(hours=3)


@pytest.mark.parametrize("lead", [THREE_HOURS, -THREE_HOURS], ids=["phone-ahead", "phone-behind"])
def test_an_expected_arrival_passes_by_the_servers_clock_not_the_phones(phone_page, cast, lead):
    """A phone three hours off (set by hand, a wrong time zone): "About 10:40" turns at 10:40 by
    the server, as a reload would say it, not three hours early or late."""
    page = phone_page
    job = cast.installation("EN_ROUTE", scheduled_date=timezone.localdate())
    now = timezone.now()
    Installation.objects.filter(pk=job.pk).update(expected_arrival_at=now + timedelta(minutes=3))
    page.clock.install(time=now + lead)
    log_in(page, "hank")
    card = page.locator(f"#job-{job.pk}")
    about = card.locator("[data-expected-by]")
    expect(about).to_be_visible()

    page.clock.fast_forward("00:31")  # looked at once: by the server's clock, still to come
    expect(about).to_be_visible()
    expect(card.get_by_text("Was expected by")).to_be_hidden()

    page.clock.fast_forward("03:00")
    expect(card.get_by_text("Was expected by")).to_be_visible()
    expect(about).to_have_count(0)


def test_a_card_drawn_again_by_htmx_passes_by_the_servers_clock(phone_page, cast):
    """ "On my way" answers with the card, drawn at its own moment: the phone, three hours ahead,
    does not call the arrival missed at once."""
    page = phone_page
    job = cast.installation("INSTALLER_ASSIGNED", scheduled_date=timezone.localdate())
    page.clock.install(time=timezone.now() + THREE_HOURS)
    log_in(page, "hank")
    card = page.locator(f"#job-{job.pk}")
    card.get_by_label("15 min").check()
    card.get_by_role("button", name="On my way").tap()
    about = card.locator("[data-expected-by]")
    expect(about).to_be_visible()

    page.clock.fast_forward("00:31")
    expect(about).to_be_visible()

    page.clock.fast_forward("16:00")
    expect(card.get_by_text("Was expected by")).to_be_visible()
    expect(about).to_have_count(0)


@pytest.mark.parametrize("just_set_off", [False, True], ids=["arrives", "is-asked"])
def test_a_double_tap_on_arrived_leaves_the_focus_on_the_cards_sentence(
    phone_page, cast, just_set_off
):
    """After a single tap the card's sentence has the focus. The second tap of a double tap
    lands on what was just drawn under the finger, inert for a moment: the "Mark done" link
    (swallowed, but a link takes the focus on the tap: the next Enter opened the checklist),
    or "Yes, I am at the site" (a disabled button takes no focus, so while it was in flight
    the browser gave it to <main>, tabindex=-1 for the skip link). Either way he was thrown
    out of the card's sentence."""
    page = phone_page
    job = cast.installation("EN_ROUTE", scheduled_date=timezone.localdate())
    # "Arrived" a moment after "On my way" is asked about; ten minutes later it is taken.
    departed = timezone.now() - timedelta(minutes=0 if just_set_off else 10)
    Installation.objects.filter(pk=job.pk).update(departed_at=departed)
    log_in(page, "hank")
    card = page.locator(f"#job-{job.pk}")
    arrived = card.get_by_role("button", name="Arrived")
    x, y = centre(arrived)

    page.touchscreen.tap(x, y)
    note = card.locator(".job-note").first
    expect(note).to_be_focused()
    page.touchscreen.tap(x, y)  # the second tap, where the finger still is

    page.wait_for_timeout(300)
    expect(note).to_be_focused()
    assert page.evaluate("document.activeElement.id") != "main"
    expected = Status.EN_ROUTE if just_set_off else Status.INSTALLATION_IN_PROGRESS
    assert Installation.objects.get(pk=job.pk).status == expected


def _asked_if_arrived(phone, cast):
    """A job he set off for a moment ago, its "Arrived" pressed: the card asks whether he is
    really at the site (with "Not yet")."""
    job = cast.installation("EN_ROUTE", scheduled_date=timezone.localdate())
    Installation.objects.filter(pk=job.pk).update(departed_at=timezone.now())
    log_in(phone, "hank")
    card = phone.locator(f"#job-{job.pk}")
    card.get_by_role("button", name="Arrived").press("Enter")
    expect(card.locator(".job-note-question")).to_be_focused()
    return job, card


@pytest.mark.allow_page_errors("404")  # the card of a job given away, on purpose
def test_not_yet_on_a_job_given_away_meanwhile_says_so_instead_of_doing_nothing(phone, cast):
    """“Not yet” is a link that loads the card in place: when the job had meanwhile gone to
    someone else its 404 was shown nowhere (the notices only followed forms), and the tap did
    nothing at all."""
    job, card = _asked_if_arrived(phone, cast)
    services.installation_reassign(
        installation=job, handyman=cast.other_handyman, actor=cast.partner_user
    )

    card.get_by_role("link", name="Not yet").tap()

    said = f"#{job.pk} {job.customer.name} is no longer yours: it was given to another handyman."
    alert = card.get_by_role("alert")
    expect(alert).to_contain_text(f"{said} Nothing was changed. Reload the page")
    expect(alert.get_by_role("button", name="Reload the page")).to_be_focused()


def test_not_yet_puts_the_card_back_and_keeps_the_focus_on_it(phone, cast):
    """“Not yet” redraws the card as it was; the link pressed went with it, and the focus fell
    to the page (the next Tab started again at the top of his jobs). He goes on at the card's
    name: never at its step button, where a second Enter would take the step."""
    job, card = _asked_if_arrived(phone, cast)

    card.get_by_role("link", name="Not yet").press("Enter")
    expect(card.get_by_role("button", name="Arrived")).to_be_visible()
    expect(card.get_by_role("heading", name=job.customer.name)).to_be_focused()
    assert Installation.objects.get(pk=job.pk).status == Status.EN_ROUTE


def _later_jobs(cast, n: int) -> None:
    """One job today and `n` after the next days (bulk copies of one job of his)."""
    today = timezone.localdate()
    job = cast.installation("INSTALLER_ASSIGNED", scheduled_date=today)
    row = Installation.objects.filter(pk=job.pk).values().get()
    row.pop("id")
    Installation.objects.bulk_create(
        Installation(**{**row, "scheduled_date": today + timedelta(days=5 + i % 20)})
        for i in range(n)
    )


def test_later_loads_in_place_from_the_keyboard_on_a_360px_phone(phone_page, cast):
    page = phone_page
    _later_jobs(cast, 25)
    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, "hank")
    page.wait_for_url(re.compile(r"/handyman/$"))
    expect(page.get_by_role("heading", name="Later (25 jobs)")).to_be_visible()

    link = page.get_by_role("link", name="Show the later jobs")
    link.focus()
    page.keyboard.press("Enter")

    rows = page.locator("#later-list .later-row")
    expect(rows).to_have_count(20)
    assert page.url.endswith("/handyman/")  # in place: the page was not left
    expect(page.get_by_role("heading", name="Later jobs")).to_be_focused()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    page.get_by_role("link", name="Next page").click()
    expect(rows).to_have_count(5)
    expect(page.get_by_role("heading", name="Later jobs, page 2")).to_be_focused()


def test_later_works_as_a_plain_link_without_javascript(browser, live_server, cast):
    context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
        java_script_enabled=False,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        _later_jobs(cast, 25)
        log_in(page, "hank")
        page.wait_for_url(re.compile(r"/handyman/$"))

        page.get_by_role("link", name="Show the later jobs").click()

        page.wait_for_url(re.compile(r"/handyman/\?later=1#later-list$"))
        expect(page.locator("#later-list .later-row")).to_have_count(20)
        expect(page.get_by_role("heading", name="My jobs")).to_be_visible()  # the whole page
        page.get_by_role("link", name="Next page").click()
        page.wait_for_url(re.compile(r"\?later=2#later-list$"))
        expect(page.locator("#later-list .later-row")).to_have_count(5)
    finally:
        context.close()


@pytest.mark.allow_page_errors("ERR_INTERNET_DISCONNECTED", "404")  # the stale tab, on purpose
def test_a_job_given_to_another_handyman_while_his_page_is_open_is_said_not_just_removed(
    phone_page, cast
):
    page = phone_page
    job = cast.installation("INSTALLER_ASSIGNED", scheduled_date=timezone.localdate())
    log_in(page, "hank")
    page.wait_for_url(re.compile(r"/handyman/$"))
    # A second tab whose copy of the card goes stale (its updates do not get through).
    stale = page.context.new_page()
    stale.route("**/handyman/live/**", lambda route: route.abort("internetdisconnected"))
    stale.goto("/handyman/")
    card = page.locator(f"#job-{job.pk}")
    card.get_by_role("button", name="On my way").focus()  # about to tap: his card waits, news not

    services.installation_reassign(
        installation=job, handyman=cast.other_handyman, actor=cast.partner_user
    )

    said = f"#{job.pk} {job.customer.name} is no longer yours: it was given to another handyman."
    expect(page.locator("#flash .flash-warning")).to_have_text(said, timeout=5_000)
    expect(page.locator("#flash")).to_have_attribute("role", "status")
    assert cast.other_handyman.display_name not in page.locator("#flash").inner_text()
    expect(card).to_be_visible()  # still under his finger until he leaves it
    page.get_by_role("heading", name="My jobs").click()
    expect(card).to_have_count(0)

    # A tap on the stale copy is answered with a sentence, and changes nothing.
    stale_card = stale.locator(f"#job-{job.pk}")
    stale_card.get_by_role("button", name="On my way").tap()
    # The server's sentence, the one a tap without JavaScript reads on its page.
    expect(stale_card.get_by_role("alert")).to_contain_text(
        f"{said} Nothing was changed. Reload the page to see your jobs."
    )
    assert Installation.objects.get(pk=job.pk).status == Status.INSTALLER_ASSIGNED
