"""The evidence pack: /installations/<id>/evidence.pdf (partner users, staff) and
/c/<token>/evidence.pdf (the customer, by their signed link); a kept customer's copy for the
record's partner users and staff."""

from django.urls import path

from . import views

app_name = "evidence"
urlpatterns = [
    path("installations/<int:pk>/evidence.pdf", views.pack, name="pack"),
    path(
        "installations/<int:pk>/evidence/customer-copies/<int:pack_id>.pdf",
        views.customer_copy,
        name="customer-copy",
    ),
    path("c/<str:token>/evidence.pdf", views.customer_pack, name="customer-pack"),
]
