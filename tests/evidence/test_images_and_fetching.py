"""Photos go in at print resolution and within a byte budget; the renderer fetches nothing but
the pack's own images and static files."""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from PIL import Image
from weasyprint.urls import FatalURLFetchingError

from installations.evidence import images
from installations.evidence.images import Asset, scale_photo
from installations.evidence.pdf import BASE_URL, OwnFilesOnly, Refused, html_to_pdf


def jpeg(size: tuple[int, int], *, noise: float = 0, exif_orientation: int | None = None) -> bytes:
    image = (
        Image.effect_noise(size, noise).convert("RGB") if noise else Image.new("RGB", size, "teal")
    )
    buffer = io.BytesIO()
    exif = Image.Exif()
    if exif_orientation:
        exif[0x0112] = exif_orientation
    image.save(buffer, format="JPEG", quality=95, exif=exif)
    return buffer.getvalue()


def test_a_large_photo_is_scaled_to_the_print_long_side():
    data, width, height = scale_photo(jpeg((3000, 4000)))
    assert (width, height) == (1200, 1600)
    with Image.open(io.BytesIO(data)) as out:
        assert out.format == "JPEG" and out.size == (1200, 1600)


def test_a_small_photo_is_never_enlarged():
    data, width, height = scale_photo(jpeg((640, 480)))
    assert (width, height) == (640, 480)


def test_the_camera_orientation_is_applied():
    # Stored 4000×3000 with "rotate 90°": the picture is upright portrait.
    _, width, height = scale_photo(jpeg((4000, 3000), exif_orientation=6))
    assert (width, height) == (1200, 1600)


def test_even_pure_noise_stays_within_the_byte_budget():
    raw = jpeg((3000, 4000), noise=120)
    assert len(raw) > 5 * images.PHOTO_BUDGET_BYTES
    data, width, height = scale_photo(raw)
    assert len(data) <= images.PHOTO_BUDGET_BYTES
    assert max(width, height) >= 640  # still a picture one can read


def test_a_png_photo_becomes_a_jpeg_of_print_size():
    buffer = io.BytesIO()
    Image.new("RGB", (2400, 1800), "orange").save(buffer, format="PNG")
    data, width, height = scale_photo(buffer.getvalue())
    assert (width, height) == (1600, 1200)
    assert data[:3] == b"\xff\xd8\xff"


ASSET = Asset("photo-1", jpeg((20, 10)), "image/jpeg", "0" * 64, 20, 10)


def test_the_fetcher_serves_the_packs_own_images_and_static_css():
    fetcher = OwnFilesOnly({"photo-1": ASSET})
    image = fetcher.fetch(f"{BASE_URL}evidence-assets/photo-1")
    assert image.read() == ASSET.data and image.content_type == "image/jpeg"
    css = fetcher.fetch(f"{BASE_URL}static/css/evidence.css")
    assert b"@page" in css.read() and css.content_type == "text/css"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/static/css/evidence.css",
        "https://example.com/logo.png",
        "https://evidence.invalid.example.com/static/css/evidence.css",
        "file:///etc/passwd",
        "data:image/png;base64,iVBORw0KGgo=",
        f"{BASE_URL}evidence-assets/photo-2",  # not one of this pack's images
        f"{BASE_URL}static/js/portal.js",  # our file, but not a stylesheet or font
        f"{BASE_URL}static/../portal/settings.py",
        f"{BASE_URL}static/css/evidence.css?x=1",
        f"{BASE_URL}media/photos/2026/01/abc.jpg",  # originals are never read by URL
    ],
)
def test_the_fetcher_refuses_everything_else(url):
    with pytest.raises(Refused):
        OwnFilesOnly({"photo-1": ASSET}).fetch(url)


def test_a_template_that_points_outside_stops_the_rendering_and_nothing_is_fetched():
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/tracker.png"
        with pytest.raises(FatalURLFetchingError) as caught:
            html_to_pdf(f'<p>Hello</p><img src="{url}">', {})
        assert isinstance(caught.value.__cause__, Refused)
    finally:
        server.shutdown()
        thread.join()
    assert hits == []


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_a_transparent_png_prints_on_white_paper_not_black(mode):
    # A screenshot or a drawing with a see-through background: its clear pixels are black
    # underneath, and a JPEG has no transparency, so taken as they are they print black (and a
    # dark drawing disappears into them).
    drawing = Image.new("RGBA", (200, 100), (0, 0, 0, 0))
    drawing.paste((20, 20, 20, 255), (80, 30, 120, 70))  # a dark stroke in the middle
    if mode == "P":
        source = drawing.convert("P")  # a palette image with one colour see-through
        source.info["transparency"] = source.getpixel((0, 0))
    else:
        source = drawing.convert(mode)

    data, _, _ = scale_photo(_png(source))

    with Image.open(io.BytesIO(data)) as out:
        out = out.convert("RGB")
        assert min(out.getpixel((5, 5))) > 240  # the background is paper
        assert max(out.getpixel((100, 50))) < 60  # the stroke is still there


def test_a_photo_turned_by_the_camera_prints_the_right_way_up_not_upside_down():
    # Orientation 6: the sensor's picture must be turned 90° clockwise. Its left half (blue)
    # becomes the top; turned the wrong way (8) it would be the bottom.
    sensor = Image.new("RGB", (4000, 3000), (200, 0, 0))
    sensor.paste((0, 0, 200), (0, 0, 2000, 3000))
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6
    sensor.save(buffer, format="JPEG", quality=90, exif=exif)

    data, width, height = scale_photo(buffer.getvalue())

    assert (width, height) == (1200, 1600)
    with Image.open(io.BytesIO(data)) as out:
        top, bottom = out.getpixel((600, 100)), out.getpixel((600, 1500))
    assert top[2] > 150 and top[0] < 60  # blue at the top
    assert bottom[0] > 150 and bottom[2] < 60
