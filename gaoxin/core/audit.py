"""Writing audit rows. Services call these inside their transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models

from gaoxin.core.context import current
from gaoxin.core.models import AuditEntry

__all__ = [
    "AuditEntry",
    "build",
    "diff",
    "jsonable",
    "model_label",
    "record",
    "record_many",
    "snapshot",
]


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """Field values (FKs as ids) in a JSON-safe form, for diffing before and after a write."""
    names = list(fields) if fields is not None else None
    out: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.primary_key:
            continue
        if names is not None and field.name not in names:
            continue
        out[field.name] = jsonable(getattr(obj, field.attname))
    return out


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def _label(actor: Any) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "username", str(actor))[:150]


def model_label(obj_or_model: models.Model | type[models.Model]) -> str:
    return obj_or_model._meta.label_lower


def build(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    model: str | None = None,
    object_id: Any = None,
    object_repr: str | None = None,
    changes: Mapping[str, Any] | None = None,
    enterprise_id: int | None = None,
    batch: uuid.UUID | None = None,
) -> AuditEntry:
    ctx = current()
    if obj is not None:
        model = model or model_label(obj)
        object_id = obj.pk if object_id is None else object_id
        object_repr = str(obj) if object_repr is None else object_repr
    return AuditEntry(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=_label(actor),
        ip=ctx.ip,
        channel=ctx.channel,
        action=action,
        model=model or "",
        object_id=str(object_id or ""),
        object_repr=(object_repr or "")[:200],
        enterprise_id=enterprise_id,
        changes=dict(changes or {}),
        batch=batch or ctx.batch,
    )


def record(**kwargs: Any) -> AuditEntry:
    entry = build(**kwargs)
    entry.save()
    return entry


def record_many(entries: list[AuditEntry], batch_size: int = 2000) -> None:
    AuditEntry.objects.bulk_create(entries, batch_size=batch_size)
