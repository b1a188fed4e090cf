from __future__ import annotations

from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone

from installations.models import Handyman, Installation, Message, Partner
from installations.statuses import VISITED_STATUSES, Status


def test_seed_demo_creates_the_promised_cast_and_is_idempotent(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo")
    counts = Installation.objects.count()
    call_command("seed_demo")
    assert Installation.objects.count() == counts

    acme = Partner.objects.get(name="Acme Appliances")
    beta = Partner.objects.get(name="Beta Kitchens")
    for username in ("acme", "beta", "hank", "hana", "admin"):
        assert authenticate(username=username, password="demo-pass-123"), username
    hank = Handyman.objects.get(user__username="hank")
    hana = Handyman.objects.get(user__username="hana")
    assert set(hank.partners.all()) == {acme, beta}
    assert set(hana.partners.all()) == {acme}
    for status in Status:
        assert Installation.objects.filter(partner=acme, status=status).count() >= 3, status
    for status in (Status.INSTALLER_ASSIGNED, Status.EN_ROUTE, Status.INSTALLATION_IN_PROGRESS):
        assert Installation.objects.filter(partner=acme, status=status, handyman=hank).exists()
    assert Installation.objects.filter(partner=beta).exists()
    assert Installation.objects.filter(kind=Installation.Kind.FOLLOW_UP).exists()


def test_seed_demo_shows_staff_one_failed_message_to_retry_and_is_idempotent(
    db, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo")
    call_command("seed_demo")
    failed = Message.objects.filter(status=Message.State.FAILED)
    assert failed.count() == 1
    message = failed.get()
    assert message.last_error
    assert message.attempts >= 1
    # On a real installation of the demo, to the customer's real address, with a real body.
    inst = message.installation
    assert inst is not None and inst.partner.name == "Acme Appliances"
    assert message.recipient in (inst.customer.phone, inst.customer.email)
    assert message.body and message.partner_id == inst.partner_id

    # Demo data made before this existed gains it on the next run; a retried one is replaced.
    failed.delete()
    call_command("seed_demo")
    assert Message.objects.filter(status=Message.State.FAILED).count() == 1


def test_seed_demo_never_has_a_handyman_on_his_way_to_a_later_days_job(db, settings, tmp_path):
    # "On my way" opens only on a job's own day: a demo with Hank en route to Sunday's job on
    # Friday (texting "arriving about 09:08") shows what the product refuses.
    settings.MEDIA_ROOT = tmp_path
    call_command("seed_demo")
    today = timezone.localdate()
    set_off = VISITED_STATUSES | {Status.EN_ROUTE}
    visited = Installation.objects.filter(status__in=set_off, kind=Installation.Kind.INSTALLATION)
    assert visited.count() >= 19
    assert set(visited.values_list("scheduled_date", flat=True)) == {today}
    # The jobs not yet started still spread over the coming days.
    ahead = Installation.objects.filter(status=Status.INSTALLER_ASSIGNED)
    assert len(set(ahead.values_list("scheduled_date", flat=True))) > 1
