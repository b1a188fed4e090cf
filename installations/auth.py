"""Django's model backend, loading the user's role with the user itself."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class PortalBackend(ModelBackend):
    def get_user(self, user_id: Any):
        # One query per request instead of four: the user, its partner membership and partner,
        # and its handyman profile (each page asks for the role; reverse one-to-ones are cached).
        UserModel = get_user_model()  # noqa: N806 (Django's own spelling)
        try:
            user = UserModel._default_manager.select_related(
                "partner_profile__partner", "handyman"
            ).get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
