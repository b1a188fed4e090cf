"""Form pieces for the list's filter form, which every list request renders.

Django renders a <select> through one template include per option; with 150 handymen that
was the largest share of the list page's time after the database (docs/benchmarks.md). These
write the same HTML in Python, escaped by format_html.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict[str, Any]) -> SafeString:
    # As django/forms/widgets/attrs.html: False leaves the attribute out, True writes its name.
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False and value is not None
        ),
    )


class FastSelect(forms.Select):
    """forms.Select, rendered without the template engine (same markup, no optgroups)."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        options = []
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                raise ValueError("FastSelect does not render option groups.")
            options.extend(
                format_html(
                    '<option value="{}"{}>{}</option>',
                    option["value"],
                    _attrs(option["attrs"]),
                    option["label"],
                )
                for option in group_choices
            )
        return format_html(
            '<select name="{}"{}>{}</select>',
            widget["name"],
            _attrs(widget["attrs"]),
            mark_safe("".join(options)),  # each option escaped above
        )


class ListedChoiceIterator(ModelChoiceIterator):
    """Reads the choices with one plain query: ModelChoiceIterator uses .iterator(), which on
    PostgreSQL opens a server-side cursor (DECLARE, FETCH, CLOSE: extra round trips) for a
    list of a few hundred rows."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in list(self.queryset):
            yield self.choice(obj)


class ListedModelChoiceField(forms.ModelChoiceField):
    iterator = ListedChoiceIterator
    widget = FastSelect
