"""A view that renders the partner list's 25-row table from memory: no database at all.

It is the ceiling of template rendering that the real list is compared with ("list ÷ bare").
It uses the list template's own row partial when there is one, so both render the same markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.template import TemplateDoesNotExist, engines
from django.views.decorators.http import require_GET

from installations.models import Customer, Handyman, Installation, Partner
from installations.selectors import Action
from installations.statuses import Status

ROW_PARTIAL = "installations/list.html#installation-row"

WITH_PARTIAL = """{% extends "base.html" %}{% block content %}
<h1>Installations</h1>
<p class="result-count" id="result-count">300000 installations, page 1 of 12000.</p>
<table class="installations" aria-describedby="result-count">
<thead><tr><th scope="col">Customer</th><th scope="col">Site address</th>
<th scope="col">Date and window</th><th scope="col">Handyman</th><th scope="col">Status</th>
<th scope="col">Actions</th></tr></thead>
<tbody>{% for row in rows %}{% include "installations/list.html#installation-row" %}
{% endfor %}</tbody>
</table>{% endblock %}"""

SIMPLE = """{% extends "base.html" %}{% block content %}
<h1>Installations</h1>
<table class="installations"><thead><tr><th>Customer</th><th>Site address</th><th>Date</th>
<th>Handyman</th><th>Status</th></tr></thead><tbody>
{% for row in rows %}{% with inst=row.installation %}<tr><td>{{ inst.customer.name }}</td>
<td>{{ inst.site_address }}</td><td>{{ inst.scheduled_date|date:"D j M Y" }}
{{ inst.window_start|time:"H:i" }}–{{ inst.window_end|time:"H:i" }}</td>
<td>{% if inst.handyman %}{{ inst.handyman.display_name }}{% else %}Unassigned{% endif %}</td>
<td>{{ inst.get_status_display }}</td></tr>{% endwith %}{% endfor %}</tbody></table>
{% endblock %}"""


@dataclass(frozen=True)
class Row:
    installation: Installation
    actions: list[Action]


@cache
def _template() -> Any:
    engine = engines["django"]
    try:
        engine.get_template(ROW_PARTIAL)
    except TemplateDoesNotExist:
        return engine.from_string(SIMPLE), False
    return engine.from_string(WITH_PARTIAL), True


@cache
def _rows() -> list[Row]:
    user_model = get_user_model()
    partner = Partner(pk=1, name="Bench partner")
    statuses = [Status.SCHEDULED, Status.INSTALLER_ASSIGNED, Status.CUSTOMER_APPROVED]
    rows = []
    for i in range(25):
        status = statuses[i % len(statuses)]
        handyman = None
        if status != Status.SCHEDULED:
            handyman = Handyman(
                pk=i + 1, user=user_model(pk=i + 1, first_name="Hank", last_name="Hill")
            )
        customer = Customer(pk=i + 1, partner=partner, name=f"Customer {i}", address=f"{i} High St")
        inst = Installation(
            pk=1000 + i,
            partner=partner,
            customer=customer,
            handyman=handyman,
            site_address=f"{i} High Street, Leeds",
            scheduled_date=date(2026, 11, 23) + timedelta(days=i),
            window_start=time(8),
            window_end=time(10),
            status=status,  # an unsaved object in memory: nothing is stored
            version=1,
        )
        actions = {
            Status.SCHEDULED: [Action("assign", "Assign"), Action("reject", "Reject")],
            Status.INSTALLER_ASSIGNED: [Action("reassign", "Reassign")],
        }.get(status, [])
        rows.append(Row(inst, actions))
    return rows


@require_GET
def bare(request: HttpRequest) -> HttpResponse:
    template, _ = _template()
    ctx = {"rows": _rows(), "next_url": request.get_full_path()}
    return HttpResponse(template.render(ctx, request))


def uses_row_partial() -> bool:
    return _template()[1]
