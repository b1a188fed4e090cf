from django.urls import path

from ..views import partner

app_name = "partner"
urlpatterns = [
    path("", partner.installation_list, name="list"),
    path("new/", partner.installation_new, name="new"),
    path("<int:pk>/", partner.installation_detail, name="detail"),
    path("<int:pk>/assign/", partner.installation_assign, name="assign"),
    path("<int:pk>/reassign/", partner.installation_reassign, name="reassign"),
    path("<int:pk>/reject/", partner.installation_reject, name="reject"),
    path("<int:pk>/follow-up/", partner.installation_follow_up, name="follow_up"),
    path("<int:pk>/rebook/", partner.installation_rebook, name="rebook"),
]
