"""The portal's own deploy checks (`manage.py check --deploy`)."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def site_url_is_set(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Customer links, e-mails and texts carry SITE_URL: left at its development default, a
    production portal would send every customer a link to 127.0.0.1."""
    if settings.DEBUG or os.environ.get("SITE_URL", "").strip():
        return []
    return [
        Warning(
            f"SITE_URL is not set, so the links sent to customers point at {settings.SITE_URL}.",
            hint="Set SITE_URL to the portal's public address, e.g. https://portal.example.com.",
            id="installations.W001",
        )
    ]
