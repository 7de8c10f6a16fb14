"""Account writes: API tokens."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from gaoxin.accounts.models import ApiToken
from gaoxin.core import audit


@transaction.atomic
def token_create(*, user: Any, name: str) -> tuple[ApiToken, str]:
    """Returns the token and its secret; the secret is not stored and cannot be shown again."""
    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:60] or "token",
        prefix=secret[3:9],
        digest=ApiToken.hash(secret),
    )
    audit.record(actor=user, action="create", obj=token, changes={"name": [None, token.name]})
    return token, secret


@transaction.atomic
def token_revoke(*, token: ApiToken, acting_user: Any) -> None:
    if token.revoked_at is not None:
        return
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(
        actor=acting_user,
        action="update",
        obj=token,
        changes={"revoked_at": [None, token.revoked_at.isoformat()]},
    )
