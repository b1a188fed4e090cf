"""The documents name the tests that prove their claims: each named test must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ["docs/reliability.md", "docs/decisions.md", "docs/testing.md"]
# `tests/x.py`, `tests/x.py::test_name`, and `::test_name` (same file as the last one named).
CITATION = re.compile(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def _citations(doc: str) -> list[tuple[str, str | None]]:
    cited: list[tuple[str, str | None]] = []
    for line in (ROOT / doc).read_text().splitlines():
        current = None
        for path, name in CITATION.findall(line):
            current = path or current
            if current:
                cited.append((current, name or None))
    return cited


@pytest.mark.parametrize("doc", DOCS)
def test_every_test_a_document_cites_exists(doc):
    if not (ROOT / doc).exists():
        pytest.fail(f"{doc} is missing")
    cited = _citations(doc)
    assert cited, f"{doc} cites no test"
    missing = [
        f"{path}::{name}" if name else path
        for path, name in cited
        if not (ROOT / path).exists() or (name and name not in _tests_in(ROOT / path))
    ]
    assert missing == [], f"{doc} cites tests that do not exist"
