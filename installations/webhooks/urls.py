"""The partner's webhook settings, under /installations/settings/."""

from django.urls import path

from . import views

app_name = "webhooks"
urlpatterns = [
    path("", views.settings_page, name="settings"),
    path("endpoints/new/", views.endpoint_new, name="endpoint_new"),
    path("endpoints/<int:endpoint_id>/edit/", views.endpoint_edit, name="endpoint_edit"),
    path("endpoints/<int:endpoint_id>/pause/", views.endpoint_pause, name="endpoint_pause"),
    path("endpoints/<int:endpoint_id>/resume/", views.endpoint_resume, name="endpoint_resume"),
    path("endpoints/<int:endpoint_id>/rotate/", views.endpoint_rotate, name="endpoint_rotate"),
    path("endpoints/<int:endpoint_id>/test/", views.endpoint_test, name="endpoint_test"),
    path("endpoints/<int:endpoint_id>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path(
        "endpoints/<int:endpoint_id>/deliveries/<int:delivery_id>/redeliver/",
        views.delivery_redeliver,
        name="redeliver",
    ),
]
