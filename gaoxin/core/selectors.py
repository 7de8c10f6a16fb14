from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_date

from gaoxin.core.models import AuditEntry


def audit_entries(
    *,
    q: str = "",
    actor: str = "",
    model: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    object_id: str = "",
    enterprise_id: int | None = None,
) -> QuerySet[AuditEntry]:
    """Audit rows matching free-text and field filters, newest first."""
    qs = AuditEntry.objects.select_related("actor").order_by("-at", "-id")
    if q:
        qs = qs.filter(Q(object_repr__icontains=q) | Q(object_id=q) | Q(actor_label__icontains=q))
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if model:
        qs = qs.filter(model=model)
    if action:
        qs = qs.filter(action=action)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if enterprise_id is not None:
        qs = qs.filter(enterprise_id=enterprise_id)
    start, end = _day(since), _day(until)
    if start:
        qs = qs.filter(at__date__gte=start)
    if end and end < dt.date.max:
        qs = qs.filter(at__date__lt=end + dt.timedelta(days=1))
    return qs


def _day(value: str) -> dt.date | None:
    """A search date, or None when it is empty or not a real date (2024-02-30): filters that
    cannot be understood are ignored rather than failing the page."""
    try:
        return parse_date(value) if value else None
    except ValueError:
        return None
