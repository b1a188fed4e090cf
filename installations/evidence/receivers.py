"""Keep the contract text as signed, in the signing transaction (history_recorded)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from ..contracts import TYPED_STATEMENT, contract_text
from ..models import Installation, StatusChange
from ..signals import history_recorded
from .models import SignedContract


@receiver(history_recorded, dispatch_uid="evidence.keep_signed_contract")
def keep_signed_contract(
    sender: Any, *, change: StatusChange, installation: Installation, **kwargs: Any
) -> None:
    if change.kind != StatusChange.Kind.TRANSITION or change.transition != "sign":
        return
    typed = installation.contract_signature_kind == Installation.SignatureKind.TYPED
    SignedContract.objects.update_or_create(
        installation=installation,
        defaults={
            "text": contract_text(installation),
            "statement": TYPED_STATEMENT if typed else "",
            "signed_at": installation.signed_at,
        },
    )
