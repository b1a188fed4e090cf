from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from installations import services
from installations.demo import WINDOWS, walk_to
from installations.models import Handyman, Installation, Message, Partner, PartnerUser
from installations.notifications import CONTRACT_LINK, MAX_ATTEMPTS
from installations.statuses import VISITED_STATUSES, Status

PASSWORD = "demo-pass-123"

# A job the handyman has set off for happened today: "On my way" opens only on a job's own day
# (models.its_day_has_come), so the demo never shows him on his way to Sunday's job on Friday.
SET_OFF = VISITED_STATUSES | {Status.EN_ROUTE}


def demo_date(today, status: str, days_ahead: int):
    return today if status in SET_OFF else today + timedelta(days=days_ahead)


ACME_CUSTOMERS = [
    ("Alice Moreau", "+44 7700 900001", "alice@example.com", "12 Elm Street, Leeds LS1 4AB"),
    ("Bram de Vries", "+44 7700 900002", "bram@example.com", "3 Canal Walk, York YO1 7HH"),
    ("Chloé Martin", "", "chloe@example.com", "88 High Road, Bradford BD1 2CD"),
    ("Dev Patel", "+44 7700 900004", "", "41 Mill Lane, Harrogate HG1 5EF"),
    ("Eva Novak", "+44 7700 900005", "eva@example.com", "7 Station Road, Wakefield WF1 1GH"),
    ("Farid Haddad", "+44 7700 900006", "farid@example.com", "19 Park Row, Halifax HX1 2JK"),
]
BETA_CUSTOMERS = [
    ("Greta Lind", "+44 7700 900011", "greta@example.com", "5 Orchard Close, Hull HU1 3LM"),
    ("Hugo Silva", "", "hugo@example.com", "22 Quay Street, Hull HU2 8NP"),
]


class Command(BaseCommand):
    help = "Create the demo partners, users and installations (safe to run again)."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            created = self._seed()
            self._failed_message()
        self.stdout.write(
            self.style.SUCCESS("Demo data ready." if created else "Demo data present.")
        )
        self.stdout.write(
            "Demo logins (password demo-pass-123 for all): "
            "acme (Acme Appliances), beta (Beta Kitchens), hank and hana (handymen), "
            "admin (platform staff, /admin/)."
        )

    def _user(self, username: str, first: str, last: str, **extra):
        User = get_user_model()
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@example.com"
        for key, value in extra.items():
            setattr(user, key, value)
        user.set_password(PASSWORD)
        user.save()
        return user

    def _failed_message(self) -> None:
        """One message that gave up, so that staff can see the retry path (the admin's Messages
        list and the installation page's Retry button). Made once; made again only when none is
        left failed (an older demo database, or after staff retried it)."""
        acme = Partner.objects.get(name="Acme Appliances")
        if Message.objects.filter(partner=acme, status=Message.State.FAILED).exists():
            return
        # A copy of a contract link the demo really sent by SMS, as the provider refused it.
        sent = (
            Message.objects.filter(
                installation__partner=acme,
                installation__status=Status.CONTRACT_SENT,
                template=CONTRACT_LINK,
                channel=Message.Channel.SMS,
            )
            .order_by("pk")
            .first()
        )
        if sent is None:
            return
        Message.objects.create(
            partner=acme,
            installation=sent.installation,
            recipient=sent.recipient,
            channel=sent.channel,
            template=sent.template,
            subject=sent.subject,
            body=sent.body,
            status=Message.State.FAILED,
            attempts=MAX_ATTEMPTS,
            last_error=f"SmsError: the provider could not reach {sent.recipient} (switched off)",
        )

    def _seed(self) -> bool:
        acme, _ = Partner.objects.get_or_create(
            name="Acme Appliances", defaults={"email": "office@acme.example.com"}
        )
        beta, _ = Partner.objects.get_or_create(
            name="Beta Kitchens", defaults={"email": "office@beta.example.com"}
        )
        acme_user = self._user("acme", "Ada", "Acme")
        beta_user = self._user("beta", "Ben", "Beta")
        PartnerUser.objects.update_or_create(user=acme_user, defaults={"partner": acme})
        PartnerUser.objects.update_or_create(user=beta_user, defaults={"partner": beta})
        hank, _ = Handyman.objects.get_or_create(
            user=self._user("hank", "Hank", "Hill"), defaults={"phone": "+44 7700 900100"}
        )
        hana, _ = Handyman.objects.get_or_create(
            user=self._user("hana", "Hana", "Sato"), defaults={"phone": "+44 7700 900101"}
        )
        hank.partners.add(acme, beta)
        hana.partners.add(acme)
        admin = self._user("admin", "Platform", "Admin", is_staff=True, is_superuser=True)

        if Installation.objects.filter(partner=acme).exists():
            return False

        today = timezone.localdate()
        acme_customers = [
            services.customer_create(partner=acme, name=n, phone=p, email=e, address=a)
            for n, p, e, a in ACME_CUSTOMERS
        ]
        n = 0
        for status in Status:
            for i in range(3):
                customer = acme_customers[n % len(acme_customers)]
                start, end = WINDOWS[n % len(WINDOWS)]
                inst = services.installation_create(
                    partner=acme,
                    customer=customer,
                    site_address=customer.address,
                    scheduled_date=demo_date(today, status, n % 4),
                    window_start=start,
                    window_end=end,
                    notes="Bring the long ladder." if n % 3 == 0 else "",
                    actor=acme_user,
                )
                # hank is on the first of every status, hana on the others.
                handyman = hank if i == 0 or status in (Status.EN_ROUTE,) else hana
                walk_to(inst, status, partner_user=acme_user, handyman=handyman, staff=admin)
                n += 1

        done = Installation.objects.filter(
            partner=acme, status=Status.INSTALLATION_COMPLETED
        ).first()
        services.installation_book_follow_up(
            installation=done, actor=hank.user, notes="Check the seal after a week."
        )

        beta_customers = [
            services.customer_create(partner=beta, name=n, phone=p, email=e, address=a)
            for n, p, e, a in BETA_CUSTOMERS
        ]
        beta_targets = (
            Status.SCHEDULED,
            Status.INSTALLER_ASSIGNED,
            Status.EN_ROUTE,
            Status.REJECTED,
        )
        for i, target in enumerate(beta_targets):
            customer = beta_customers[i % len(beta_customers)]
            start, end = WINDOWS[i % len(WINDOWS)]
            inst = services.installation_create(
                partner=beta,
                customer=customer,
                site_address=customer.address,
                scheduled_date=demo_date(today, target, i),
                window_start=start,
                window_end=end,
                actor=beta_user,
            )
            walk_to(inst, target, partner_user=beta_user, handyman=hank, staff=admin)
        return True
