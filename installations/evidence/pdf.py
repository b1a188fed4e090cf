"""The evidence pack's PDF: WeasyPrint renders the HTML and fetches nothing but the images we
prepared (images.py) and our own static files.

WeasyPrint is imported here only, and this module only when a pack is made: its import costs
about a second, which no other page, worker start or management command should pay."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from PIL import ImageFile
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .images import ASSET_PATH, Asset

# WeasyPrint's import turns Pillow's LOAD_TRUNCATED_IMAGES on for the whole process: from then
# on the worker would take a photo cut off on the way as whole (checklist.py refuses it by the
# error Pillow raises). The pack prints only pictures we encoded whole; turned off again.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Relative URLs in the template resolve against this base; the fetcher answers for it alone.
# `.invalid` is reserved: nothing could ever be fetched from it, even by mistake.
BASE_URL = "https://evidence.invalid/"
STATIC_TYPES = {".css": "text/css", ".woff2": "font/woff2", ".woff": "font/woff"}


class Refused(ValueError):
    """A URL the pack may not fetch: anything but its own images and static files."""


class OwnFilesOnly(URLFetcher):
    """WeasyPrint's fetcher for the pack: the prepared images and the project's own static
    files, found on disk; everything else (the network, file: URLs, data: URLs) is refused,
    and a refusal stops the rendering rather than leaving a hole in the evidence."""

    def __init__(self, assets: dict[str, Asset]) -> None:
        super().__init__(fail_on_errors=True)
        self.assets = assets

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}/" != BASE_URL or parts.query or "\\" in url:
            raise Refused(f"The evidence pack fetches nothing from outside: {url}")
        path = parts.path
        if path.startswith(ASSET_PATH):
            asset = self.assets.get(path[len(ASSET_PATH) :])
            if asset is None or asset.data is None:
                raise Refused(f"No such image in this pack: {url}")
            return URLFetcherResponse(url, asset.data, {"Content-Type": asset.mime})
        static_url = settings.STATIC_URL
        if path.startswith(static_url) and ".." not in path:
            relative = path[len(static_url) :]
            mime = STATIC_TYPES.get(Path(relative).suffix)
            found = finders.find(relative) if mime else None
            if isinstance(found, str):
                return URLFetcherResponse(url, Path(found).read_bytes(), {"Content-Type": mime})
        raise Refused(f"The evidence pack fetches only its own files: {url}")


def html_to_pdf(html: str, assets: dict[str, Asset]) -> bytes:
    return HTML(string=html, base_url=BASE_URL, url_fetcher=OwnFilesOnly(assets)).write_pdf()
