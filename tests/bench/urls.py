"""The portal's URLs plus /bench/bare/, the render-only ceiling."""

from django.urls import include, path

from tests.bench import views

urlpatterns = [
    path("bench/bare/", views.bare, name="bench-bare"),
    path("", include("portal.urls")),
]
