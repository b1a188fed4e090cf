from django.urls import path

from . import views

app_name = "bulk"
urlpatterns = [
    path("bulk/", views.bulk_apply, name="apply"),
]
