"""Partner- and staff-facing actions about customer links and messages, under /installations/."""

from django.urls import path

from ..views import notify

app_name = "notify"
urlpatterns = [
    path("<int:pk>/resend-link/", notify.resend_link, name="resend-link"),
    path(
        "<int:pk>/messages/<int:message_id>/retry/",
        notify.retry_message,
        name="retry-message",
    ),
]
