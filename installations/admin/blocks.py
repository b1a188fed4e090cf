"""Rate-limit blocks for staff: the counters that refuse someone's next request now (a customer's
link, "Forgot your password?", a password change; installations/ratelimit/), described in words,
newest first, searchable by address, email address, account or installation number, and
"Lift the block", which deletes them (ratelimit/blocks.py). Seeing needs the view permission on
rate-limit counters, lifting their delete permission. Log-in pauses are django-axes' own: its
"Access attempts" page, linked from this one."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from ..admin_site import is_row_key
from ..ratelimit.blocks import Block, Lifted, blocks_lift, describe, in_force, matching
from ..ratelimit.models import RateCount

LIFT_URL = "installations_ratecount_lift"
# A message names each lifted block up to this many; more are counted.
NAMED = 5


class ShowFilter(admin.SimpleListFilter):
    """Blocks in force by default; every counter (those under their limit, those whose window
    has ended and is not yet swept) on request."""

    title = "state"
    parameter_name = "show"

    def lookups(self, request, model_admin):
        return [("all", "All counters")]

    def choices(self, changelist):
        yield {
            "selected": self.value() != "all",
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Blocks in force",
        }
        yield {
            "selected": self.value() == "all",
            "query_string": changelist.get_query_string({self.parameter_name: "all"}),
            "display": "All counters",
        }

    def queryset(self, request, queryset):
        return queryset if self.value() == "all" else queryset.filter(in_force())


class BlockChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        # Each row's words at once: one query for the accounts named, not one per row.
        rows = list(self.result_list)
        for row, block in zip(rows, describe(rows), strict=True):
            row.block = block
            row.back = _query(self.params)
        self.result_list = rows


def _block(obj: RateCount) -> Block:
    return getattr(obj, "block", None) or describe([obj])[0]


class RateCountAdmin(admin.ModelAdmin):
    list_display = ("what", "requests", "until", "state")
    list_display_links = None
    list_filter = (ShowFilter,)
    search_fields = ("key",)  # see get_search_results; the label says what to type
    ordering = ("-pk",)  # newest first
    actions = ("lift",)
    list_per_page = 50
    show_facets = admin.ShowFacets.NEVER  # two choices: their counts are not worth a query

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_changelist(self, request, **kwargs):
        return BlockChangeList

    def get_list_display(self, request):
        if self.has_delete_permission(request):
            return (*self.list_display, "lift_button")
        return self.list_display

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # its confirmation page shows raw keys
        return actions

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        return queryset.filter(matching(search_term)), False

    def get_urls(self):
        # The list and "lift" only: no change, delete or history page shows a counter's key.
        changelist = self.admin_site.admin_view(self.changelist_view)
        lift = self.admin_site.admin_view(require_POST(self.lift_view))
        return [
            path("", changelist, name="installations_ratecount_changelist"),
            path("<path:object_id>/lift/", lift, name=LIFT_URL),
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        showing_all = request.GET.get(ShowFilter.parameter_name) == "all"
        extra = {
            "title": "Rate-limit counters" if showing_all else "Rate-limit blocks in force",
            "axes_url": self._axes_url(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra)

    def _axes_url(self, request: HttpRequest) -> str | None:
        if not request.user.has_perm("axes.view_accessattempt"):
            return None
        try:
            return reverse("admin:axes_accessattempt_changelist")
        except NoReverseMatch:  # AXES_ENABLE_ADMIN off
            return None

    def action_checkbox(self, obj: RateCount) -> str:
        # Django labels the box with str(obj): the raw key. The words say which row it is.
        attrs = {"class": "action-select", "aria-label": f"Select: {_block(obj).what}"}
        checkbox = forms.CheckboxInput(attrs, lambda value: False)
        return checkbox.render(helpers.ACTION_CHECKBOX_NAME, str(obj.pk))

    @admin.display(description="What is limited")
    def what(self, obj: RateCount) -> str:
        return _block(obj).what

    @admin.display(description="Requests")
    def requests(self, obj: RateCount) -> str:
        return _block(obj).requests

    @admin.display(description="Until (window ends)")
    def until(self, obj: RateCount) -> str:
        return _block(obj).until

    @admin.display(description="State")
    def state(self, obj: RateCount) -> str:
        return _block(obj).state

    @admin.display(description="Lift")
    def lift_button(self, obj: RateCount) -> str:
        # Submits the list's own form (its CSRF token) to this row's lift address: no nested
        # form, and it works without JavaScript.
        url = reverse(f"admin:{LIFT_URL}", args=[obj.pk])
        back = getattr(obj, "back", "")
        return format_html(
            '<button type="submit" class="button" formaction="{}{}" formmethod="post" '
            'aria-label="Lift the block: {}">Lift</button>',
            url,
            back,
            _block(obj).what,
        )

    @admin.action(description="Lift the block", permissions=["delete"])
    def lift(self, request: HttpRequest, queryset) -> None:
        selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        across = request.POST.get("select_across") == "1"
        ids = list(queryset.values_list("pk", flat=True))
        result = blocks_lift(ids=ids, actor=request.user)
        # Selected but no longer listed: lifted meanwhile, or its window ended.
        gone = 0 if across else len(set(selected)) - len(result.blocks)
        self._say(request, result, gone=gone)

    def lift_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not self.has_delete_permission(request):
            raise PermissionDenied
        back = reverse("admin:installations_ratecount_changelist") + _query(request.GET)
        if not is_row_key(self.opts.pk, object_id):
            self.message_user(
                request, "Nothing was lifted: that is not a row of this list.", messages.ERROR
            )
            return HttpResponseRedirect(back)
        result = blocks_lift(ids=[int(object_id)], actor=request.user)
        self._say(request, result, gone=result.missing)
        return HttpResponseRedirect(back)

    def _say(self, request: HttpRequest, result: Lifted, *, gone: int) -> None:
        lifted = result.blocks
        if lifted:
            named = "; ".join(block.sentence for block in lifted[:NAMED])
            more = f"; and {len(lifted) - NAMED} more" if len(lifted) > NAMED else ""
            self.message_user(request, f"Lifted: {named}{more}.", messages.SUCCESS)
        if gone:
            blocks = "This block was" if gone == 1 else f"{gone} of these blocks were"
            self.message_user(
                request,
                f"{blocks} already lifted (or the window had ended): nothing more to do.",
                messages.INFO,
            )


def _query(params: Mapping[str, str]) -> str:
    """The list's filter and search as they were, to go back to (only these parameters)."""
    kept = {key: params[key] for key in (ShowFilter.parameter_name, "q") if params.get(key)}
    return "?" + urlencode(kept) if kept else ""
