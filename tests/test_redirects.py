"""The one way back: only same-site paths are followed."""

import pytest

from installations.redirects import redirect_back, safe_path

DEFAULT = "/installations/7/"


@pytest.mark.parametrize(
    "value",
    [
        "/installations/",
        "/installations/?group=scheduled&page=2",
        "/installations/5/#history",
        "/handyman/",
    ],
)
def test_it_follows_a_same_site_path(value):
    assert safe_path(value, DEFAULT) == value
    assert redirect_back(value, DEFAULT)["Location"] == value


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "foo",  # a URL pattern name to redirect(): NoReverseMatch, a 500
        "partner:list",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/x\r\nX-Injected: 1",
        "/x\x00y",
        "/x y",
        " /installations/",
        "/" + "a" * 5000,
        ["/installations/"],
    ],
)
def test_it_falls_back_to_the_default_for_anything_else(value):
    assert safe_path(value, DEFAULT) == DEFAULT
    assert redirect_back(value, DEFAULT)["Location"] == DEFAULT
