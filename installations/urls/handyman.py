from django.urls import path

from ..views import handyman

app_name = "handyman"
urlpatterns = [
    path("", handyman.jobs, name="jobs"),
    path("<int:pk>/", handyman.job, name="job"),
    path("<int:pk>/set-off/", handyman.set_off, name="set_off"),
    path("<int:pk>/arrive/", handyman.arrive, name="arrive"),
    path("<int:pk>/complete/", handyman.complete, name="complete"),
    path("<int:pk>/send-contract/", handyman.send_contract, name="send_contract"),
    path("<int:pk>/follow-up/", handyman.follow_up, name="follow_up"),
]
