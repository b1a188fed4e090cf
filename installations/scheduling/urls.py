from django.urls import path

from . import views

app_name = "scheduling"
urlpatterns = [
    path("installations/<int:pk>/reschedule/", views.reschedule, name="reschedule"),
    path("handyman/time-off/", views.days_off, name="days_off"),
    path("handyman/time-off/remove/", views.day_off_remove, name="day_off_remove"),
]
