"""The customer's pages, reached by a signed link and no login, under /c/."""

from django.urls import path

from ..views import customer

app_name = "customer"
urlpatterns = [
    path("<str:token>/", customer.page, name="page"),
    path("<str:token>/sign/", customer.sign, name="sign"),
    path("<str:token>/approve/", customer.approve, name="approve"),
    path("<str:token>/photos/<int:photo_id>/", customer.photo, name="photo"),
]
