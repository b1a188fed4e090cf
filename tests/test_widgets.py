"""The filter form's Python-rendered selects write what Django's templates write."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.http import QueryDict

from installations import selectors
from installations.filters import InstallationFilter
from installations.widgets import FastSelect


def squeeze(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html)).strip()


@pytest.mark.parametrize(
    "query", ["", "handyman=0", "status=EN_ROUTE&group=bogus", "sort=-date&group=scheduled"]
)
def test_each_select_of_the_filter_form_renders_as_djangos_own(cast, query):
    if query == "handyman=0":
        query = f"handyman={cast.handyman.pk}"
    filterset = InstallationFilter(
        QueryDict(query),
        queryset=selectors.installations_for_partner(cast.partner),
        partner=cast.partner,
    )
    form = filterset.form
    form.is_valid()
    for name in ("group", "status", "handyman", "sort"):
        bound = form[name]
        assert isinstance(bound.field.widget, FastSelect)
        fast = bound.as_widget()
        bound.field.widget.__class__ = forms.Select  # Django's own, on the same field and data
        try:
            django_html = bound.as_widget()
        finally:
            bound.field.widget.__class__ = FastSelect
        assert squeeze(fast) == squeeze(django_html)
    assert cast.handyman.display_name in str(form["handyman"])


def test_option_labels_and_values_are_escaped():
    widget = FastSelect(choices=[('"><script>', "<b>Bold & co</b>")])
    html = widget.render("x", '"><script>', attrs={"id": "id_x", "required": True})
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;b&gt;Bold &amp; co&lt;/b&gt;" in html
    assert 'value="&quot;&gt;&lt;script&gt;" selected' in html
    assert html.startswith('<select name="x" id="id_x" required>')


INPUTS = [
    forms.TextInput(attrs={"type": "search", "autocomplete": "off", "maxlength": 100}),
    forms.DateInput(attrs={"type": "date"}),
    forms.CheckboxInput(),
    forms.HiddenInput(),
    forms.EmailInput(attrs={"required": True, "disabled": False, "data-x": None}),
    forms.NumberInput(attrs={"min": 1}),
    forms.PasswordInput(render_value=True),
    forms.URLInput(),
    forms.TimeInput(),
]


@pytest.mark.parametrize("widget", INPUTS, ids=lambda w: type(w).__name__)
@pytest.mark.parametrize("value", [None, "", "a <b> & \"c\" 'd'", True, 7, "2026-11-23"])
def test_the_portal_renderer_writes_each_input_as_djangos_templates(widget, value):
    from django.forms.renderers import DjangoTemplates
    from django.utils.safestring import mark_safe

    from installations.widgets import PortalFormRenderer

    attrs = {"id": "id_f", "aria-describedby": mark_safe("id_f_helptext"), "title": 'x"<y>'}
    django_html = widget.render("f", value, attrs=attrs, renderer=DjangoTemplates())
    fast = widget.render("f", value, attrs=attrs, renderer=PortalFormRenderer())
    assert fast == django_html


def test_the_portal_renderer_is_the_projects_form_renderer():
    from django.forms.renderers import get_default_renderer

    from installations.widgets import PortalFormRenderer

    assert isinstance(get_default_renderer(), PortalFormRenderer)


def test_the_handyman_field_reads_its_handymen_once_and_again_for_another_queryset(
    cast, django_assert_num_queries
):
    """The list's filter and its bulk bar share one read of the partner's handymen; a field
    given other handymen must not answer with the first ones."""
    from installations.models import Handyman
    from installations.widgets import HandymanChoiceField

    field = HandymanChoiceField(queryset=cast.partner.handymen.all())
    with django_assert_num_queries(1):
        first = field.handymen()
        assert field.handymen() is first
        assert [pk for pk, _ in list(field.choices)[1:]] == [pk for pk, _ in first]
    assert {pk for pk, _ in first} == set(cast.partner.handymen.values_list("pk", flat=True))
    field.queryset = Handyman.objects.filter(pk=cast.other_handyman.pk)
    assert field.handymen() == [(cast.other_handyman.pk, cast.other_handyman.display_name)]
