"""The project's URLs plus a stand-in for the spreadsheet export (`spreadsheets:export`, built on
another branch), so that the bar's "Export selected" can be tested before the two meet."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from portal.urls import handler500 as handler500  # noqa: PLC0414
from portal.urls import urlpatterns as project_urlpatterns


def export(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.GET.urlencode(), content_type="text/plain")


spreadsheets = ([path("export/", export, name="export")], "spreadsheets")
urlpatterns = [*project_urlpatterns, path("stand-in/", include(spreadsheets))]
