"""The new-installation form before it is sent: the page to fill in, and the same page after its
"Find" (the customer search) was pressed without JavaScript.

Without JavaScript the search box and "Find" belong to the form itself (templates/installations/
new.html): "Find" posts everything typed with `find`, and the page comes back with the customers
found and every other field as it was. Nothing is saved, nor validated: a date not chosen yet is
no error of a search. A POST, not a GET: a new customer's name, phone and e-mail and the notes
would otherwise be written into the address bar, the history and the server's logs.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest

from .. import customer_picker
from ..customer_picker import Picker
from ..forms import InstallationCreateForm

FIND = "find"  # the name of the "Find" button


def finding(request: HttpRequest) -> bool:
    """The form posted by its "Find" button (or by Enter in a field, without JavaScript)."""
    return request.method == "POST" and FIND in request.POST


def _typed(data: Any, picker: Picker) -> dict[str, Any]:
    """What was typed in the form, as the values to draw it with again."""
    typed = {name: data[name] for name in InstallationCreateForm.base_fields if name in data}
    # Only one of this partner's customers is drawn as chosen (another's id chooses nobody).
    typed["customer"] = picker.chosen.pk if picker.chosen else ""
    try:  # the form's one-time token goes on, so that its "Schedule" still makes one job
        typed["token"] = uuid.UUID(str(typed.get("token", "")))
    except ValueError:
        typed.pop("token", None)  # a new one is drawn
    return typed


def unsent_form(
    request: HttpRequest, partner: Any, defaults: dict[str, Any]
) -> tuple[Picker, InstallationCreateForm]:
    """The picker and the form of a page to fill in: the search asked (`customer_q`) and the
    customer chosen, if any, with `defaults`; after "Find", with everything typed instead."""
    data = request.POST if finding(request) else request.GET
    picker = customer_picker.pick(partner, data.get("customer_q"), data.get("customer"))
    if finding(request):
        initial = _typed(data, picker)
    else:
        initial = dict(defaults)
        if picker.chosen:
            initial["customer"] = picker.chosen.pk
    # Unbound: a bound form would be validated, and say "Choose a date." to a search.
    return picker, InstallationCreateForm(partner=partner, picker=picker, initial=initial)
