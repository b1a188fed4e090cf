"""The board's grid cells, written in Python (board/cards.py): one tag per cell instead of a
template partial's few dozen nodes, for the 182 cells of a week."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

from ..board import cards

register = template.Library()


@register.simple_tag
def lane_cells(cells: list[Any]) -> SafeString:
    return mark_safe("".join(cards.lane_cell(cell) for cell in cells))  # noqa: S308 (escaped)


@register.simple_tag
def handyman_row(row: Any, day_view: Any) -> SafeString:
    """A handyman's row, its heading and its cells, in one call (a week has 25 rows of 7)."""
    return mark_safe(  # noqa: S308 (each part is escaped by cards)
        cards.handyman_head(row, bool(day_view))
        + "".join(cards.handyman_cell(cell, row.handyman) for cell in row.cells)
    )
