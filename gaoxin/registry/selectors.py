"""Reads over the registry that are more than one query, or used everywhere."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet

from gaoxin.registry.models import Enterprise, Qualification


def qualifications_valid_on(kind: str, day: dt.date) -> QuerySet[Qualification]:
    return Qualification.objects.filter(kind=kind, recognised_on__lte=day, valid_until__gte=day)


def enterprises_holding(
    kind: str,
    on: dt.date,
    *,
    subtype: str | None = None,
    levels: Iterable[str] | None = None,
    base: QuerySet[Enterprise] | None = None,
) -> QuerySet[Enterprise]:
    """Enterprises that held qualification `kind` on date `on` ("高企 on 2019-12-31?")."""
    held = qualifications_valid_on(kind, on).filter(enterprise=OuterRef("pk"))
    if subtype:
        held = held.filter(subtype=subtype)
    if levels:
        held = held.filter(level__in=list(levels))
    qs = base if base is not None else Enterprise.objects.all()
    return qs.filter(Exists(held))


def enterprises_recognised_in(
    kind: str, year: int, *, first_time: bool = False, base: QuerySet[Enterprise] | None = None
) -> QuerySet[Enterprise]:
    """Enterprises recognised for `kind` during `year`; `first_time` excludes re-recognitions."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    recognised = Qualification.objects.filter(
        enterprise=OuterRef("pk"), kind=kind, recognised_on__range=(start, end)
    )
    qs = base if base is not None else Enterprise.objects.all()
    qs = qs.filter(Exists(recognised))
    if first_time:
        earlier = Qualification.objects.filter(
            enterprise=OuterRef("pk"), kind=kind, recognised_on__lt=start
        )
        qs = qs.filter(~Exists(earlier))
    return qs


def search_filter(term: str) -> Q:
    """Name, former name, USCC (prefix) or pinyin initials."""
    from gaoxin.core.validators import normalise_code

    term = term.strip()
    if not term:
        return Q()
    code = normalise_code(term)
    q = Q(name__icontains=term) | Q(former_names__icontains=term)
    if code:
        q |= Q(uscc__startswith=code)
        if code.isalpha() and code.isascii():
            q |= Q(name_initials__icontains=code)
    return q


def registry_overview(today: dt.date | None = None) -> dict[str, object]:
    """Counts for the staff home page: a handful of aggregate queries, independent of size."""
    from django.db.models import Count
    from django.utils import timezone

    from gaoxin.registry.models import IndustryChain

    today = today or timezone.localdate()
    operating = Enterprise.objects.filter(status=Enterprise.Status.OPERATING)
    by_chain = dict(
        operating.values_list("chain").annotate(n=Count("id")).values_list("chain", "n")
    )
    chains = [
        {"chain": c, "count": by_chain.get(c.pk, 0)}
        for c in IndustryChain.objects.filter(is_active=True)
    ]
    held = dict(
        qualifications_valid_on_any(today)
        .values_list("kind")
        .annotate(n=Count("enterprise", distinct=True))
        .values_list("kind", "n")
    )
    quals = [
        {"kind": label, "code": code, "count": held.get(code, 0)}
        for code, label in Qualification.Kind.choices
    ]
    return {
        "total": Enterprise.objects.count(),
        "operating": operating.count(),
        "chains": chains,
        "qualifications": quals,
        "today": today,
    }


def qualifications_valid_on_any(day: dt.date) -> QuerySet[Qualification]:
    return Qualification.objects.filter(recognised_on__lte=day, valid_until__gte=day)
