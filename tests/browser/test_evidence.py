"""The evidence pack in a real browser against the production server: the partner downloads it
from the detail page, the approved customer their copy from their page; page 1 is kept as a PNG
for the lead to check by eye (docs/screens/evidence-page1.png)."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from installations.customer_links import make_token
from installations.evidence.models import EvidencePack

from ..evidence.conftest import build_approved, pdf_text
from .conftest import log_in

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"


def _download(page, link_name: str, tmp_path: Path) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    download = info.value
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    return target.read_bytes()


def test_the_partner_downloads_the_pack_from_the_detail_page(page, cast, tmp_path):
    installation = build_approved(cast)
    log_in(page, "acme")
    page.goto(f"/installations/{installation.pk}/")
    page.get_by_role("heading", name="Evidence pack").wait_for()
    assert page.get_by_text("No pack has been made yet.").is_visible()

    pdf = _download(page, "Download the evidence pack (PDF)", tmp_path)
    assert pdf.startswith(b"%PDF-")
    pack = EvidencePack.objects.get(installation=installation)
    assert pack.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    text = pdf_text(pdf)
    assert "Jane Customer" in text and pack.sha256 in text

    # The pack made is listed with its fingerprints once the page is drawn again.
    page.reload()
    assert page.get_by_text(pack.sha256).is_visible()
    assert page.get_by_text(pack.pdf_sha256).is_visible()

    pdfium = pytest.importorskip("pypdfium2", reason="no PDF rasteriser: PNG artefact skipped")
    document = pdfium.PdfDocument(pdf)
    try:
        SCREENS.mkdir(parents=True, exist_ok=True)
        document[0].render(scale=1.5).to_pil().save(SCREENS / "evidence-page1.png")
    finally:
        document.close()
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 3


def test_the_approved_customer_downloads_it_on_a_phone(phone_page, cast, tmp_path):
    installation = build_approved(cast)
    phone_page.goto(f"/c/{make_token(installation)}/")
    phone_page.get_by_role("heading", name="Thank you").wait_for()
    pdf = _download(phone_page, "Download your installation record (PDF)", tmp_path)
    text = pdf_text(pdf)
    assert "Your installation record" in text and "Jane Q. Customer" in text
    pack = EvidencePack.objects.get()
    assert pack.made_by_name == "Jane Customer (customer)"
    assert pack.copy == EvidencePack.Copy.CUSTOMER


def test_the_packs_panel_fits_a_small_phone_and_axe_finds_nothing(browser, cast):
    from axe_playwright_python.sync_playwright import Axe

    installation = build_approved(cast)
    for n in range(2):
        EvidencePack.objects.create(
            installation=installation,
            sha256=f"{n:064x}",
            pdf_sha256=f"{n + 7:064x}",
            made_by_name="Ann Partner",
            size=123456,
        )
    page = browser.new_page(viewport={"width": 360, "height": 740}, is_mobile=True)
    log_in(page, "acme")
    page.goto(f"/installations/{installation.pk}/#evidence")
    page.get_by_role("list", name="Packs made").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.locator("#evidence").screenshot(path=str(SCREENS / "evidence-panel-360.png"))
    violations = Axe().run(page, context="#evidence").response["violations"]
    assert violations == []
