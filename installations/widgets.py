"""Form pieces for the list's filter form, which every list request renders.

Django renders a <select> through one template include per option; with 150 handymen that
was the largest share of the list page's time after the database (docs/benchmarks.md). These
write the same HTML in Python, escaped by format_html.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.forms.models import ModelChoiceIterator
from django.forms.renderers import DjangoTemplates
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


def _escape(text: Any) -> str:
    """conditional_escape without its lazy-string wrapper: that wrapper was most of the cost of
    a 150-option select. The same result (Django's escape is html.escape of str)."""
    if hasattr(text, "__html__"):
        return text.__html__()
    return html.escape(str(text))


# The templates of Django's plain <input> widgets: each only includes input.html.
INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "text", "search", "date", "time", "datetime", "number", "email", "url", "tel",
        "password", "hidden", "color", "checkbox", "input",
    )
)  # fmt: skip


def _input_html(widget: dict[str, Any]) -> str:
    # As django/forms/widgets/input.html and attrs.html: False leaves an attribute out, True
    # writes its name, anything else (None too) its str().
    value = widget["value"]
    parts = [f'<input type="{_escape(widget["type"])}" name="{_escape(widget["name"])}"']
    if value is not None:
        parts.append(f' value="{html.escape(str(value))}"')  # |stringformat:'s' drops safety
    for name, attr in widget["attrs"].items():
        if attr is True:
            parts.append(f" {_escape(name)}")
        elif attr is not False:
            parts.append(f' {_escape(name)}="{html.escape(str(attr))}"')
    parts.append(">")
    return "".join(parts)


class PortalFormRenderer(DjangoTemplates):
    """Django's form renderer, with the plain <input> widgets written in Python: the template
    engine took 0.2–0.3 ms per input, and every list request renders its filter form
    (tests/test_widgets.py compares the two for every input type)."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        # Django strips the rendered template; this writes no surrounding whitespace.
        if template_name in INPUT_TEMPLATES:
            return _input_html(context["widget"])
        return super().render(template_name, context, request=request)


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
                f'<option value="{_escape(option_value)}"{" selected" if selected else ""}>'
                f"{_escape(label)}</option>"
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
        yield from self.field.handymen()

    # From the same read, not a COUNT or an EXISTS of their own (list() asks for the length).
    def __len__(self) -> int:
        return len(self.field.handymen()) + (self.field.empty_label is not None)

    def __bool__(self) -> bool:
        return self.field.empty_label is not None or bool(self.field.handymen())


def handyman_choices(queryset: QuerySet) -> Iterator[tuple[int, str]]:
    """(id, name) of each handyman in `queryset`, in its order, from one values query."""
    rows = queryset.values_list("pk", "user__first_name", "user__last_name", "user__username")
    for pk, first_name, last_name, username in rows:
        # As Handyman.display_name: the full name, else the username.
        yield (pk, f"{first_name} {last_name}".strip() or username)


def handyman_select(handymen: Iterable[tuple[int, str]], value: Any, **attrs: Any) -> SafeString:
    """A `<select name="handyman">` of these (id, name) handymen with a first "Choose a
    handyman" option, written in Python (the bulk bar's, which lists every handyman of the
    partner)."""
    choices = [("", "Choose a handyman"), *handymen]
    # No value marks no option selected (the browser shows the first), as the template loop did.
    chosen = [value] if value not in (None, "") else []
    return FastSelect(attrs=attrs, choices=choices).render("handyman", chosen)


class HandymanChoiceField(forms.ModelChoiceField):
    iterator = HandymanChoiceIterator
    widget = FastSelect

    def handymen(self) -> list[tuple[int, str]]:
        """(id, name) of the field's handymen, read once per form: the list page's filter and
        its bulk bar offer the same handymen, and read them with one query between them."""
        if getattr(self, "_handymen", None) is None:
            self._handymen = list(handyman_choices(self.queryset))
        return self._handymen

    def _set_queryset(self, queryset):
        self._handymen = None  # other handymen: read them again
        super()._set_queryset(queryset)

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)
