from django.urls import path

from . import views

app_name = "live"
urlpatterns = [
    path("installations/live/", views.partner_feed, name="partner"),
    path("handyman/live/", views.handyman_feed, name="handyman"),
]
