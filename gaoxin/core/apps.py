from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_triggers(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    from django.db import connections

    from gaoxin.core.db import ensure_audit_triggers

    ensure_audit_triggers(connections[using])


class CoreConfig(AppConfig):
    name = "gaoxin.core"
    label = "core"
    verbose_name = _("基础")

    def ready(self) -> None:
        # Infrastructure, not business logic: keeps a database guard in place after migrations.
        post_migrate.connect(_ensure_triggers, sender=self, dispatch_uid="gaoxin_audit_triggers")
