"""Fields the policy-fund models share."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


def person(label: Any, *, blank: bool = False) -> Any:
    """Who did something to a record (applicant, reviewer, payer …): a user, kept when the
    account is deactivated (PROTECT), empty for the system (the demo load, a command), and
    without a reverse accessor on the user."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=label,
        on_delete=models.PROTECT,
        null=True,
        blank=blank,
        related_name="+",
    )
