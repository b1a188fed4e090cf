"""The evidence pack: /installations/<id>/evidence.pdf (partner users, staff) and
/c/<token>/evidence.pdf (the customer, by their signed link)."""

from django.urls import path

from . import views

app_name = "evidence"
urlpatterns = [
    path("installations/<int:pk>/evidence.pdf", views.pack, name="pack"),
    path("c/<str:token>/evidence.pdf", views.customer_pack, name="customer-pack"),
]
