"""Every write to an installation happens here.

Each status change is one database transaction that locks the row, checks the page was not stale,
checks the actor's right through the state machine, applies the transition, writes the history
entry and the per-partner counters, and schedules side effects with ``transaction.on_commit``.
A refused or stale change raises ``TransitionRefused`` and leaves the record untouched.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable
from datetime import date, time, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_fsm import can_proceed

from . import notifications
from .errors import TransitionRefused
from .models import (
    Customer,
    Handyman,
    Installation,
    InstallationPhoto,
    Partner,
    PartnerStatusCount,
    StatusChange,
    can_assigned_handyman,
    can_partner_or_staff,
)
from .refusals import VERBS, not_now_sentence, refusal_sentence
from .scheduling.rules import check_handyman_for_job, window_over
from .signals import history_recorded, installation_edited
from .statuses import NOT_STARTED_STATUSES, VISITED_STATUSES, Status

logger = logging.getLogger("installations.events")


def actor_name(actor: Any) -> str:
    if actor is None:
        return "System"
    if hasattr(actor, "installation_id") and not getattr(actor, "is_authenticated", False):
        return f"{actor.name} (customer)"
    name = actor.get_full_name() or actor.get_username()
    return f"{name} (staff)" if getattr(actor, "is_staff", False) else name


def _actor_user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _bump_count(partner_id: int, status: str, delta: int) -> None:
    rows = PartnerStatusCount.objects.filter(partner_id=partner_id, status=status)
    if rows.update(count=F("count") + delta):
        return
    try:
        with transaction.atomic():
            PartnerStatusCount.objects.create(partner_id=partner_id, status=status, count=delta)
    except IntegrityError:  # created by a concurrent transaction a moment ago
        rows.update(count=F("count") + delta)


def _lock(pk: int) -> Installation:
    # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of a join (handyman).
    qs = Installation.objects.select_for_update(of=("self",)).select_related(
        "partner", "customer", "handyman__user"
    )
    try:
        return qs.get(pk=pk)
    except Installation.DoesNotExist:
        raise TransitionRefused("This installation no longer exists.") from None


def _stale_message(installation: Installation) -> str:
    return (
        "Someone else changed this installation a moment ago: it is now "
        f"“{installation.get_status_display()}”. Nothing was changed; "
        "check it and try again."
    )


def _check_version(installation: Installation, expected_version: int | None) -> None:
    if expected_version is not None and installation.version != expected_version:
        raise TransitionRefused(_stale_message(installation), installation=installation)


def _arguments(kwargs: dict[str, Any] | None) -> dict[str, Any]:
    """A transition's arguments as the history stores them (records by id)."""
    return {key: _plain(value) for key, value in (kwargs or {}).items()}


def _is_own_repeat(
    installation: Installation,
    *,
    name: str,
    actor: Any,
    expected_version: int | None,
    arguments: dict[str, Any],
) -> bool:
    """Whether a request on a page of `expected_version` repeats the record's last change exactly:
    the same transition with the same arguments, by the same person, made from that version.
    A double click or a retry after a lost response then finds its own change, not someone
    else's, and is answered as done (one query, and only when the version differs)."""
    if expected_version is None:
        return False
    last = installation.history.order_by("-id").first()
    user = _actor_user(actor)
    return (
        last is not None
        and last.kind == StatusChange.Kind.TRANSITION
        and last.transition == name
        and last.from_version == expected_version
        and last.to_version == installation.version
        and last.actor_id == (user.pk if user is not None else None)
        and last.actor_name == actor_name(actor)
        and last.arguments == arguments
    )


def _may(installation: Installation, name: str, actor: Any) -> bool:
    """The transition's permission alone (django-fsm's has_transition_perm also asks its
    conditions, which would answer "not allowed" for "not yet")."""
    return any(
        t.name == name and t.source == installation.status and t.has_perm(installation, actor)
        for t in installation.get_all_status_transitions()
    )


def _transition(
    *,
    installation: Installation | int,
    name: str,
    actor: Any,
    expected_version: int | None = None,
    reason: str = "",
    kwargs: dict[str, Any] | None = None,
    validate: Callable[[Installation], None] | None = None,
    after: Callable[[Installation], None] | None = None,
) -> Installation:
    pk = installation if isinstance(installation, int) else installation.pk
    with transaction.atomic():
        locked = _lock(pk)
        arguments = _arguments(kwargs)
        if locked.version != expected_version and _is_own_repeat(
            locked, name=name, actor=actor, expected_version=expected_version, arguments=arguments
        ):
            locked.replayed = True
            return locked
        _check_version(locked, expected_version)
        method = getattr(locked, name)  # `name` comes from our own code, never from input
        # What the job is, then who may, then when: someone who may never take the step is told
        # so, not when it would open.
        if not can_proceed(method, check_conditions=False):
            raise TransitionRefused(refusal_sentence(locked, name), installation=locked)
        if not _may(locked, name, actor):
            raise TransitionRefused(
                f"You are not allowed to do that: only the right person can have this "
                f"installation {VERBS[name]}. Nothing was changed.",
                installation=locked,
            )
        if not can_proceed(method):
            raise TransitionRefused(not_now_sentence(locked, name), installation=locked)
        if validate is not None:
            validate(locked)
        from_status, from_version, from_handyman = locked.status, locked.version, locked.handyman
        method(**(kwargs or {}))
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        if after is not None:
            after(locked)
        change = StatusChange.objects.create(
            installation=locked,
            kind=StatusChange.Kind.TRANSITION,
            transition=name,
            from_status=from_status,
            to_status=locked.status,
            actor=_actor_user(actor),
            actor_name=actor_name(actor),
            reason=reason,
            from_version=from_version,
            to_version=locked.version,
            arguments=arguments,
            # Who had the job before and after, when the transition changed that.
            **(
                {"from_handyman": from_handyman, "to_handyman": locked.handyman}
                if locked.handyman_id != getattr(from_handyman, "pk", None)
                else {}
            ),
        )
        if from_status != locked.status:
            _bump_count(locked.partner_id, from_status, -1)
            _bump_count(locked.partner_id, locked.status, +1)
        # Messages are rows created in this same transaction; delivery is queued on commit.
        notifications.queue_for_change(installation=locked, change=change)
        _recorded(change, locked)
        transaction.on_commit(partial(_announce, change.pk, name, locked.pk))
    return locked


def _recorded(change: StatusChange, installation: Installation) -> None:
    """Tell the capabilities that follow the history (live feed, webhooks, dashboard rollups)
    about a new entry, inside the writing transaction: their rows commit or roll back with it."""
    history_recorded.send(sender=StatusChange, change=change, installation=installation)


def _announce(change_id: int, name: str, installation_id: int) -> None:
    logger.debug("installation %s: %s (history %s)", installation_id, name, change_id)


# --- Transitions --------------------------------------------------------------------------------


def _check_handyman(installation: Installation, handyman: Handyman) -> None:
    if not handyman.partners.filter(pk=installation.partner_id).exists():
        raise ValidationError(
            {"handyman": f"{handyman.display_name} does not work for {installation.partner}."}
        )


def installation_assign(
    *,
    installation: Installation | int,
    handyman: Handyman,
    actor: Any,
    expected_version=None,
    confirm_conflict: bool = False,
) -> Installation:
    """Day off refused; an overlapping job raises ScheduleConflict unless `confirm_conflict`."""

    def validate(inst: Installation) -> None:
        _check_handyman(inst, handyman)
        check_handyman_for_job(inst, handyman, confirm_conflict=confirm_conflict)

    return _transition(
        installation=installation,
        name="assign",
        actor=actor,
        expected_version=expected_version,
        kwargs={"handyman": handyman},
        validate=validate,
    )


def installation_reassign(
    *,
    installation: Installation | int,
    handyman: Handyman,
    actor: Any,
    expected_version=None,
    confirm_conflict: bool = False,
) -> Installation:
    def validate(inst: Installation) -> None:
        _check_handyman(inst, handyman)
        if inst.handyman_id == handyman.pk:
            raise ValidationError(
                {"handyman": f"{handyman.display_name} is already assigned; choose someone else."}
            )
        check_handyman_for_job(inst, handyman, confirm_conflict=confirm_conflict)

    return _transition(
        installation=installation,
        name="reassign",
        actor=actor,
        expected_version=expected_version,
        kwargs={"handyman": handyman},
        validate=validate,
    )


def _required_reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": f"Please give a reason for the {what}."})
    return reason


def installation_reject(
    *, installation: Installation | int, reason: str, actor: Any, expected_version=None
) -> Installation:
    reason = _required_reason(reason, "rejection")
    return _transition(
        installation=installation,
        name="reject",
        actor=actor,
        expected_version=expected_version,
        reason=reason,
        kwargs={"reason": reason},
    )


def installation_cancel(
    *, installation: Installation | int, reason: str, actor: Any, expected_version=None
) -> Installation:
    reason = _required_reason(reason, "cancellation")

    def with_open_follow_ups(parent: Installation) -> None:
        # A return visit to a job that is off would send a handyman to nothing: the ones not
        # yet started go with it, each through its own transition (history, messages).
        for child in parent.follow_ups.filter(status__in=NOT_STARTED_STATUSES).order_by("pk"):
            child_reason = f"Cancelled with #{parent.pk}, the job it follows up: {reason}"
            _transition(
                installation=child.pk,
                name="cancel",
                actor=actor,
                expected_version=child.version,
                reason=child_reason[:2000],
                kwargs={"reason": child_reason[:2000]},
            )

    return _transition(
        installation=installation,
        name="cancel",
        actor=actor,
        expected_version=expected_version,
        reason=reason,
        kwargs={"reason": reason},
        after=with_open_follow_ups,
    )


ETA_CHOICES = (15, 30, 45, 60)


def installation_set_off(
    *, installation: Installation | int, eta_minutes: int, actor: Any, expected_version=None
) -> Installation:
    if not 1 <= int(eta_minutes) <= 240:
        raise ValidationError({"eta_minutes": "Choose an arrival estimate of up to 4 hours."})
    return _transition(
        installation=installation,
        name="set_off",
        actor=actor,
        expected_version=expected_version,
        kwargs={"eta_minutes": int(eta_minutes)},
    )


def installation_arrive(
    *, installation: Installation | int, actor: Any, expected_version=None
) -> Installation:
    return _transition(
        installation=installation, name="arrive", actor=actor, expected_version=expected_version
    )


# The checklist form says the same when neither is given (one wording for both refusals).
SIGN_OR_TYPE = "Ask the customer to sign in the box, or to type their name and tick the statement."


def installation_complete(
    *,
    installation: Installation | int,
    photos: list[File],
    signature_png: bytes = b"",
    notes: str = "",
    actor: Any,
    expected_version=None,
    signer_name: str = "",
    typed: bool = False,
) -> Installation:
    """Close the job: only a complete checklist (photos and signature) moves it on. The
    customer signs with a drawing (PNG), or, with `typed`, with their typed full name after
    ticking the statement (contracts.COMPLETION_STATEMENT): no pointer or JavaScript needed."""
    errors = {}
    signer_name = (signer_name or "").strip()
    photos = distinct_photos(photos)
    if not photos:
        errors["photos"] = "Add at least one photo of the finished work."
    if typed and not signer_name:
        errors["signer_name"] = "Type the customer’s full name to sign with it."
    elif not typed and not signature_png:
        errors["signature"] = SIGN_OR_TYPE
    if errors:
        raise ValidationError(errors)
    kind = Installation.SignatureKind.TYPED if typed else Installation.SignatureKind.DRAWN

    def within_limits(inst: Installation) -> None:
        # Per job, under the row lock: the photos it has plus these, before any is stored.
        stored = [p.image for p in inst.photos.all()]
        count = len(stored) + len(photos)
        # New photos as they were sent (checklist.check_photo), as the page says the limit.
        sent = sum(getattr(f, "sent_size", None) or _size(f) for f in photos)
        total = sum(_size(f) for f in stored) + sent
        if count > settings.MAX_PHOTOS_PER_JOB or total > settings.MAX_PHOTO_TOTAL_BYTES:
            raise ValidationError(
                {
                    "photos": f"Too many photos for this job: at most "
                    f"{settings.MAX_PHOTOS_PER_JOB} photos and "
                    f"{settings.MAX_PHOTO_TOTAL_BYTES // (1024 * 1024)} MB in all. "
                    "Nothing was stored."
                }
            )

    def store(inst: Installation) -> None:
        if not typed:
            inst.completion_signature.save("signature.png", ContentFile(signature_png), save=True)
        for photo in photos:
            InstallationPhoto.objects.create(
                installation=inst, image=photo, uploaded_by=_actor_user(actor)
            )

    return _transition(
        installation=installation,
        name="complete",
        actor=actor,
        expected_version=expected_version,
        kwargs={
            "notes": notes.strip(),
            "kind": kind,
            "signer_name": signer_name if typed else "",
        },
        validate=within_limits,
        after=store,
    )


def distinct_photos(photos: Iterable[File]) -> list[File]:
    """Each picture once, in the order given: a double tap in the phone's picker sends the same
    bytes twice (under two names), and the evidence pack would print them twice."""
    seen: set[str] = set()
    kept = []
    for photo in photos:
        digest = hashlib.sha256()
        photo.seek(0)
        for chunk in photo.chunks():
            digest.update(chunk)
        photo.seek(0)
        if digest.hexdigest() not in seen:
            seen.add(digest.hexdigest())
            kept.append(photo)
    return kept


def _size(file: Any) -> int:
    try:
        return int(file.size or 0)
    except (OSError, ValueError):  # a stored file gone missing counts as nothing
        return 0


def installation_send_contract(
    *, installation: Installation | int, actor: Any, expected_version=None
) -> Installation:
    return _transition(
        installation=installation,
        name="send_contract",
        actor=actor,
        expected_version=expected_version,
    )


def installation_sign(
    *,
    installation: Installation | int,
    name: str,
    signature_png: bytes,
    ip: str | None,
    actor: Any,
    expected_version=None,
    typed: bool = False,
) -> Installation:
    """The customer signs: a drawn signature (PNG), or, with `typed`, their typed full name
    after ticking that it is their signature (no pointer or JavaScript needed)."""
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = "Type your full name."
    if not typed and not signature_png:
        errors["signature"] = "Draw your signature in the box."
    if errors:
        raise ValidationError(errors)
    kind = Installation.SignatureKind.TYPED if typed else Installation.SignatureKind.DRAWN

    def store(inst: Installation) -> None:
        if not typed:
            inst.contract_signature.save("signature.png", ContentFile(signature_png), save=True)

    return _transition(
        installation=installation,
        name="sign",
        actor=actor,
        expected_version=expected_version,
        kwargs={"name": name, "ip": ip, "kind": kind},
        after=store,
    )


def installation_approve(
    *, installation: Installation | int, actor: Any, expected_version=None
) -> Installation:
    return _transition(
        installation=installation, name="approve", actor=actor, expected_version=expected_version
    )


# Dispatch for views that post `name="action"`: an explicit map, never getattr on input.
TRANSITION_SERVICES: dict[str, Callable[..., Installation]] = {
    "assign": installation_assign,
    "reassign": installation_reassign,
    "reject": installation_reject,
    "set_off": installation_set_off,
    "arrive": installation_arrive,
    "complete": installation_complete,
    "send_contract": installation_send_contract,
    "sign": installation_sign,
    "approve": installation_approve,
    "cancel": installation_cancel,
}


# --- Creating records ---------------------------------------------------------------------------


def customer_create(
    *, partner: Partner, name: str, address: str, phone: str = "", email: str = ""
) -> Customer:
    return Customer.objects.create(
        partner=partner, name=name.strip(), address=address.strip(), phone=phone, email=email
    )


def _check_schedule(scheduled_date: date, window_start: time, window_end: time) -> None:
    errors = {}
    if scheduled_date < timezone.localdate():
        errors["scheduled_date"] = "Choose today or a later date."
    if window_start >= window_end:
        errors["window_end"] = "The arrival window must end after it starts."
    if errors:
        raise ValidationError(errors)


def _record_creation(installation: Installation, actor: Any, reason: str = "") -> None:
    change = StatusChange.objects.create(
        installation=installation,
        kind=StatusChange.Kind.CREATED,
        from_status="",
        to_status=installation.status,
        actor=_actor_user(actor),
        actor_name=actor_name(actor),
        reason=reason,
        created_at=installation.created_at,
        to_version=installation.version,
    )
    _bump_count(installation.partner_id, installation.status, +1)
    _recorded(change, installation)


FORM_USED = "This form was already used. Reload the page and try again."


def once_per_token(
    token: uuid.UUID | None,
    create: Callable[[], Any],
    *,
    find: Callable[[], Any],
    ours: Callable[[Any], bool],
) -> Any:
    """Run `create` (which stores `token` in a UNIQUE column) at most once per token; a repeat
    answers with what `find` gets (``replayed`` set), or is refused when `ours` says that row was
    made by another form's owner.

    The UNIQUE constraint decides, not a lookup first: of two racing submissions of one form the
    second waits on the index and fails to insert, its savepoint is rolled back, and it answers
    with what the first one made."""
    if token is None:
        made = create()
    else:
        try:
            with transaction.atomic():
                made = create()
        except IntegrityError:
            existing = find()
            if existing is None:  # another constraint failed: not ours to hide
                raise
            if not ours(existing):
                raise TransitionRefused(FORM_USED) from None
            existing.replayed = True
            return existing
    made.replayed = False
    return made


def _create_once(
    *, token: uuid.UUID | None, partner: Partner, create: Callable[[], Installation]
) -> Installation:
    """Run `create` at most once per token (once_per_token: a racing second submission answers
    with the record the first one created, customer included in the rolled-back savepoint)."""
    return once_per_token(
        token,
        create,
        find=lambda: Installation.objects.filter(creation_token=token).first(),
        ours=lambda existing: existing.partner_id == partner.pk,
    )


def _insert(
    *, partner: Partner, customer: Customer, actor: Any, reason: str, **fields: Any
) -> Installation:
    with transaction.atomic():
        installation = Installation.objects.create(partner=partner, customer=customer, **fields)
        _record_creation(installation, actor, reason)
    return installation


def installation_create(
    *,
    partner: Partner,
    customer: Customer,
    site_address: str,
    scheduled_date: date,
    window_start: time,
    window_end: time,
    notes: str = "",
    actor: Any,
    kind: str = Installation.Kind.INSTALLATION,
    parent: Installation | None = None,
    rebooked_from: Installation | None = None,
    reason: str = "",
    token: uuid.UUID | None = None,
) -> Installation:
    """A new SCHEDULED installation. With the form's one-time `token`, a repeat of the same form
    answers with the record it created (``replayed`` set) instead of creating another."""
    if customer.partner_id != partner.pk:
        raise ValidationError({"customer": "This customer belongs to another partner."})
    _check_schedule(scheduled_date, window_start, window_end)
    return _create_once(
        token=token,
        partner=partner,
        create=lambda: _insert(
            partner=partner,
            customer=customer,
            actor=actor,
            reason=reason,
            site_address=site_address.strip(),
            scheduled_date=scheduled_date,
            window_start=window_start,
            window_end=window_end,
            notes=notes.strip(),
            kind=kind,
            parent=parent,
            rebooked_from=rebooked_from,
            creation_token=token,
        ),
    )


def installation_schedule(
    *,
    partner: Partner,
    customer: Customer | None,
    new_customer: dict[str, str] | None = None,
    site_address: str,
    scheduled_date: date,
    window_start: time,
    window_end: time,
    notes: str = "",
    actor: Any,
    token: uuid.UUID | None = None,
    partner_reference: str = "",
) -> Installation:
    """The partner's "Schedule an installation" form: an existing customer or a new one (name,
    phone, email; the site is their address), and the installation, created together once per
    form token: a repeat creates neither a second customer nor a second installation."""
    if customer is not None and customer.partner_id != partner.pk:
        raise ValidationError({"customer": "This customer belongs to another partner."})
    _check_schedule(scheduled_date, window_start, window_end)
    site_address = site_address.strip()

    def create() -> Installation:
        with transaction.atomic():
            who = customer or customer_create(
                partner=partner, address=site_address, **(new_customer or {})
            )
            return _insert(
                partner=partner,
                customer=who,
                actor=actor,
                reason="",
                site_address=site_address or who.address,
                scheduled_date=scheduled_date,
                window_start=window_start,
                window_end=window_end,
                notes=notes.strip(),
                creation_token=token,
                partner_reference=partner_reference.strip(),
            )

    return _create_once(token=token, partner=partner, create=create)


def _check_follow_up_allowed(parent: Installation, actor: Any) -> None:
    if not (can_partner_or_staff(parent, actor) or can_assigned_handyman(parent, actor)):
        raise TransitionRefused("You are not allowed to book a follow-up visit for this job.")
    if parent.status in (Status.CANCELLED, Status.REJECTED):
        raise TransitionRefused(
            f"This installation is “{parent.get_status_display()}”: rebook it instead of "
            "booking a follow-up visit.",
            installation=parent,
        )
    if parent.status not in VISITED_STATUSES:
        raise TransitionRefused(
            f"This installation is “{parent.get_status_display()}”: a follow-up visit is a "
            "return visit, booked once the handyman has been on site. To change this visit, "
            "reschedule it. Nothing was booked.",
            installation=parent,
        )


def installation_ensure_follow_up(
    *, installation: Installation | int, actor: Any, token: uuid.UUID | None = None
) -> tuple[Installation, bool]:
    """The job's open (not yet scheduled) follow-up visit, booked if there is none; and whether
    it was booked now. Checked under the parent's row lock, so two taps at once book one; the
    button's one-time `token` also answers a replay after the office scheduled that visit."""
    child = installation_book_follow_up(installation=installation, actor=actor, token=token)
    return child, not child.replayed


def installation_book_follow_up(
    *,
    installation: Installation | int,
    actor: Any,
    scheduled_date: date | None = None,
    notes: str = "",
    token: uuid.UUID | None = None,
) -> Installation:
    """Create a follow-up visit as a child job; the parent's own status never changes.

    A job has at most one open (SCHEDULED) follow-up: while one is open, it is the answer
    (``replayed`` set) and nothing is booked. Checked under the parent's row lock."""
    pk = installation if isinstance(installation, int) else installation.pk
    with transaction.atomic():
        parent = _lock(pk)
        _check_follow_up_allowed(parent, actor)
        open_visit = (
            parent.follow_ups.filter(status=Status.SCHEDULED).order_by("created_at", "id").first()
        )
        if open_visit is not None:
            open_visit.replayed = True
            return open_visit
        # Unless chosen: the day after the visit, and no earlier than tomorrow.
        day = scheduled_date or max(timezone.localdate(), parent.scheduled_date) + timedelta(days=1)
        if day < parent.scheduled_date:
            raise ValidationError(
                {
                    "scheduled_date": "A follow-up visit comes after the visit it follows up "
                    f"({parent.scheduled_date:%-d %b %Y}): choose that day or a later one."
                }
            )
        if over := window_over(day, parent.window_start, parent.window_end):
            raise ValidationError({"scheduled_date": over})
        return installation_create(
            partner=parent.partner,
            customer=parent.customer,
            site_address=parent.site_address,
            scheduled_date=day,
            window_start=parent.window_start,
            window_end=parent.window_end,
            notes=notes or f"Follow-up visit for installation #{parent.pk}.",
            actor=actor,
            kind=Installation.Kind.FOLLOW_UP,
            parent=parent,
            reason=f"Follow-up visit for #{parent.pk}",
            token=token,
        )


def installation_rebook(
    *,
    installation: Installation | int,
    actor: Any,
    scheduled_date: date,
    window_start: time | None = None,
    window_end: time | None = None,
    token: uuid.UUID | None = None,
) -> Installation:
    """Copy a cancelled or rejected installation into a new SCHEDULED one; the old one stays.
    A record is rebooked once: with the form's `token`, a repeat answers with the copy it made;
    another rebooking (a second tab, the page reloaded) is refused, naming the copy, so that
    the customer never gets two live jobs for one that fell through."""
    pk = installation if isinstance(installation, int) else installation.pk
    with transaction.atomic():
        old = _lock(pk)
        if not can_partner_or_staff(old, actor):
            raise TransitionRefused("You are not allowed to rebook this installation.")
        if old.status not in (Status.CANCELLED, Status.REJECTED):
            raise TransitionRefused(
                f"Only cancelled or rejected installations can be rebooked; this one is "
                f"“{old.get_status_display()}”.",
                installation=old,
            )
        # Under the old record's lock: of two racing rebookings the second sees the first.
        earlier = old.rebookings.order_by("pk").first()
        if earlier is not None:
            if token is not None and earlier.creation_token == token:
                earlier.replayed = True
                return earlier
            raise TransitionRefused(
                f"#{old.pk} was already rebooked as #{earlier.pk}: move that one, or rebook it "
                "if it falls through too.",
                installation=old,
            )
        start, end = window_start or old.window_start, window_end or old.window_end
        if over := window_over(scheduled_date, start, end):
            raise ValidationError({"scheduled_date": over})
        return installation_create(
            partner=old.partner,
            customer=old.customer,
            site_address=old.site_address,
            scheduled_date=scheduled_date,
            window_start=start,
            window_end=end,
            notes=old.notes,
            actor=actor,
            kind=old.kind,
            parent=old.parent,
            rebooked_from=old,
            reason=f"Rebooked from #{old.pk}",
            token=token,
        )


# --- Editing fields -----------------------------------------------------------------------------

# Date and window are not edited here: moving a job is a reschedule (scheduling.services), with
# its history entry, its checks (day off, conflicts) and the messages to customer and handyman.
EDITABLE_FIELDS = ("site_address", "notes")


def installation_update(
    *,
    installation: Installation | int,
    actor: Any,
    expected_version: int | None = None,
    **changes: Any,
) -> Installation:
    """Edit an open installation's details. Finished records are locked."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    pk = installation if isinstance(installation, int) else installation.pk
    with transaction.atomic():
        locked = _lock(pk)
        _check_version(locked, expected_version)
        if not (can_partner_or_staff(locked, actor)):
            raise TransitionRefused("You are not allowed to edit this installation.")
        if locked.is_locked:
            raise TransitionRefused(
                f"This installation is “{locked.get_status_display()}” and is locked: "
                "finished records cannot be changed.",
                installation=locked,
            )
        diff = {}
        for field, value in changes.items():
            before = _plain(getattr(locked, field))
            if before != _plain(value):
                diff[field] = [before, _plain(value)]
            setattr(locked, field, value)
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        installation_edited.send(
            sender=Installation, installation=locked, changes=diff, by=actor_name(actor)
        )
    return locked


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "pk"):
        return value.pk
    return str(value)


def _check_override_consistent(
    record: Installation, handyman_before: int | None, changed: Iterable[str] = ()
) -> None:
    """An override corrects a finished record; it never makes one that says two things: an
    approved job done by nobody, a reason for an ending the job did not have, an ending without
    its reason, or the outcome of a step the job never took (checked for the changed fields)."""
    errors = {}
    if record.status == Status.CUSTOMER_APPROVED and handyman_before and not record.handyman_id:
        errors["handyman"] = "An approved job was done by a handyman: choose who, not nobody."
    if record.cancellation_reason and record.status != Status.CANCELLED:
        errors["cancellation_reason"] = "Only a cancelled job has a cancellation reason."
    if record.rejection_reason and record.status != Status.REJECTED:
        errors["rejection_reason"] = "Only a rejected job has a rejection reason."
    changed = set(changed)
    for field, ended, word in (
        ("cancellation_reason", Status.CANCELLED, "cancelled"),
        ("rejection_reason", Status.REJECTED, "rejected"),
    ):
        if field in changed and record.status == ended and not getattr(record, field).strip():
            errors[field] = f"A {word} job keeps its reason: correct it, do not clear it."
    if "completion_notes" in changed and record.completion_notes and not record.completed_at:
        errors["completion_notes"] = "Only a job the handyman completed has completion notes."
    if "contract_signer_name" in changed and record.contract_signer_name and not record.signed_at:
        errors["contract_signer_name"] = "Only a signed contract has a signer's name."
    if errors:
        raise ValidationError(errors)


def installation_override(
    *,
    installation: Installation | int,
    actor: Any,
    reason: str,
    changes: dict[str, Any],
    expected_version: int | None = None,
) -> Installation:
    """A privileged edit of a finished (locked) record, written to the history with the old and
    new values. Never changes the status: that only moves through transitions."""
    if "status" in changes:
        raise ValueError("The status never changes through an override.")
    reason = _required_reason(reason, "override")
    if not (
        getattr(actor, "is_superuser", False)
        or actor.has_perm("installations.override_locked_installation")
    ):
        raise TransitionRefused("Only platform staff allowed to override can edit this record.")
    pk = installation if isinstance(installation, int) else installation.pk
    with transaction.atomic():
        locked = _lock(pk)
        _check_version(locked, expected_version)
        handyman_before = locked.handyman_id
        diff = {}
        for field, value in changes.items():
            old = getattr(locked, field)
            if _plain(old) != _plain(value):
                diff[field] = [_plain(old), _plain(value)]
                setattr(locked, field, value)
        if not diff:
            return locked
        _check_override_consistent(locked, handyman_before, diff)
        # The same rule as assign and reassign, whatever key the change came under
        # (`handyman` or `handyman_id`): a job only goes to someone who works for its partner.
        if locked.handyman_id not in (None, handyman_before):
            handyman = Handyman.objects.select_related("user").filter(pk=locked.handyman_id).first()
            if handyman is None:
                raise ValidationError({"handyman": "There is no such handyman."})
            _check_handyman(locked, handyman)
        locked.version += 1
        locked.updated_at = timezone.now()
        locked.save()
        change = StatusChange.objects.create(
            installation=locked,
            kind=StatusChange.Kind.OVERRIDE,
            from_status=locked.status,
            to_status=locked.status,
            actor=_actor_user(actor),
            actor_name=actor_name(actor),
            reason=reason,
            changes=diff,
        )
        _recorded(change, locked)
    return locked


def recount_partner_statuses(partner_ids: list[int] | None = None) -> None:
    """Rebuild the per-partner counters from the rows (after bulk loads)."""
    from django.db.models import Count

    with transaction.atomic():
        qs = Installation.objects.all()
        counters = PartnerStatusCount.objects.all()
        if partner_ids is not None:
            qs = qs.filter(partner_id__in=partner_ids)
            counters = counters.filter(partner_id__in=partner_ids)
        counters.delete()
        PartnerStatusCount.objects.bulk_create(
            PartnerStatusCount(partner_id=row["partner_id"], status=row["status"], count=row["n"])
            for row in qs.values("partner_id", "status").annotate(n=Count("*")).order_by()
        )
