"""Form pieces for the list's filter form, which every list request renders.

Django renders a <select> through one template include per option; with 150 handymen that
was the largest share of the list page's time after the database (docs/benchmarks.md). These
write the same HTML in Python, escaped by format_html.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.html import conditional_escape, escape, format_html, format_html_join
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
    """forms.Select, rendered without the template engine: the same markup for flat choices
    (tests/test_widgets.py compares the two). Option groups are refused, not guessed."""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            final_attrs["multiple"] = True
        wanted = set(self.format_value(value))
        options = []
        has_selected = False
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):
                raise ValueError("FastSelect does not render option groups.")
            option_value = "" if option_value is None else str(option_value)
            selected = option_value in wanted and (not has_selected or self.allow_multiple_selected)
            has_selected |= selected
            options.append(
                f'<option value="{escape(option_value)}"{" selected" if selected else ""}>'
                f"{conditional_escape(label)}</option>"
            )
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            _attrs(final_attrs),
            mark_safe("".join(options)),  # each value and label escaped above
        )


class HandymanChoiceIterator(ModelChoiceIterator):
    """The handymen as (id, name) read with one values query: no model instances (150 of
    them, with their users, on every list request of a large partner), and no server-side
    cursor, which ModelChoiceIterator's .iterator() opens on PostgreSQL."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        rows = self.queryset.values_list(
            "pk", "user__first_name", "user__last_name", "user__username"
        )
        for pk, first_name, last_name, username in rows:
            # As Handyman.display_name: the full name, else the username.
            yield (pk, f"{first_name} {last_name}".strip() or username)


class HandymanChoiceField(forms.ModelChoiceField):
    iterator = HandymanChoiceIterator
    widget = FastSelect
