from __future__ import annotations

import re
from datetime import time, timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from installations.models import (
    Customer,
    Handyman,
    Installation,
    Message,
    Partner,
    PartnerUser,
)

PASSWORD = "test-pass-123"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partner {n}")
    email = factory.LazyAttribute(lambda p: f"office{p.name.split()[-1]}@example.com")


class PartnerUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerUser

    user = factory.SubFactory(UserFactory)
    partner = factory.SubFactory(PartnerFactory)


class HandymanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Handyman
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    phone = "+44 7700 900123"

    @factory.post_generation
    def partners(self, create, extracted, **kwargs):
        if create and extracted:
            self.partners.add(*extracted)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    partner = factory.SubFactory(PartnerFactory)
    name = factory.Faker("name")
    phone = "+44 7700 900555"
    # Letters only: a Faker name may start "Dr." or "Mrs.", and "dr.@example.com" is no address
    # (the admin refused it now and then, failing a test at random).
    email = factory.LazyAttribute(
        lambda c: f"{re.sub('[^a-z]', '', c.name.split()[0].lower()) or 'customer'}@example.com"
    )
    address = factory.Faker("street_address")


class MessageFactory(factory.django.DjangoModelFactory):
    """An e-mail to a customer, as the notifications write it; its partner is the
    installation's unless given (a message about no installation needs `partner`)."""

    class Meta:
        model = Message

    installation = None
    partner = factory.LazyAttribute(lambda m: m.installation.partner)
    recipient = "x@example.com"
    channel = Message.Channel.EMAIL
    template = "contract_link"
    body = "Hello"


def booking_day():
    """The day a test's job is booked for unless it says otherwise: tomorrow."""
    return timezone.localdate() + timedelta(days=1)


def make_installation(*, partner: Partner, actor, customer: Customer | None = None, **extra):
    """A SCHEDULED installation created through the service layer (history and counters too)."""
    from installations import services

    customer = customer or CustomerFactory(partner=partner)
    values = {
        "site_address": customer.address,
        "scheduled_date": booking_day(),
        "window_start": time(9),
        "window_end": time(11),
        "notes": "",
    }
    values.update(extra)
    return services.installation_create(partner=partner, customer=customer, actor=actor, **values)


__all__ = [
    "PASSWORD",
    "CustomerFactory",
    "HandymanFactory",
    "Installation",
    "PartnerFactory",
    "PartnerUserFactory",
    "UserFactory",
    "make_installation",
]


def filler_rows(partner: Partner, count: int, **fields) -> None:
    """`count` more rows like the partner's first one (changed by `fields`), written at once and
    followed by ANALYZE: planner tests need statistics that look like a big partner's."""
    from django.db import connection

    first = Installation.objects.filter(partner=partner).first()
    shape = {
        "customer": first.customer,
        "site_address": "Elsewhere",
        "scheduled_date": first.scheduled_date,
        "window_start": first.window_start,
        "window_end": first.window_end,
        **fields,
    }
    Installation.objects.bulk_create(Installation(partner=partner, **shape) for _ in range(count))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


# What a staff member needs for the installation admin's pages (the `staff_client` fixture).
STAFF_PERMS = ("view_installation", "change_installation")


def grant(user, *codenames: str):
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="installations", codename__in=codenames)
    )
    return user
