"""Partner- and staff-facing actions about customer links and messages, under /installations/."""

from django.urls import path  # noqa: F401

app_name = "notify"
urlpatterns: list = []
