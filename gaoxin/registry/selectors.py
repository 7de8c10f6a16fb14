"""Reads over the registry that are more than one query, or used everywhere."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import (
    BooleanField,
    Count,
    DateField,
    DateTimeField,
    DecimalField,
    Exists,
    F,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gaoxin.core.models import AuditEntry
from gaoxin.registry.models import Enterprise, IndustryCategory, IndustryChain, Qualification


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


def recognitions_in(kind: str, year: int) -> QuerySet[Qualification]:
    """Recognitions for `kind` made during `year`."""
    return Qualification.objects.filter(
        kind=kind, recognised_on__range=(dt.date(year, 1, 1), dt.date(year, 12, 31))
    )


def recognitions_before(kind: str, year: int) -> QuerySet[Qualification]:
    """Recognitions for `kind` made before `year` began."""
    return Qualification.objects.filter(kind=kind, recognised_on__lt=dt.date(year, 1, 1))


def enterprises_recognised_in(
    kind: str, year: int, *, first_time: bool = False, base: QuerySet[Enterprise] | None = None
) -> QuerySet[Enterprise]:
    """Enterprises recognised for `kind` during `year`; `first_time` excludes re-recognitions."""
    qs = base if base is not None else Enterprise.objects.all()
    qs = qs.filter(Exists(recognitions_in(kind, year).filter(enterprise=OuterRef("pk"))))
    if first_time:
        qs = qs.filter(~Exists(recognitions_before(kind, year).filter(enterprise=OuterRef("pk"))))
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


# --- The enterprise list: one filter shared by the page, the Excel export and the API ----------

ENTERPRISE_SORTS = ("name", "uscc", "founded_on", "registered_capital", "updated_at")
ENTERPRISE_FILTER_KEYS = (
    "q",
    "industry",
    "sei",
    "chain",
    "qualification",
    "on",
    "size",
    "status",
    "street",
    "grid",
    "sort",
)


def enterprise_filter_params(params: Mapping[str, Any]) -> dict[str, str]:
    """The filter keys that are set, as stripped strings (for links, exports and audit rows)."""
    out: dict[str, str] = {}
    for key in ENTERPRISE_FILTER_KEYS:
        value = params.get(key)
        if value is None:
            continue
        text = value.isoformat() if isinstance(value, dt.date) else str(value).strip()
        if text:
            out[key] = text
    return out


def industry_code_filter(value: str) -> Q:
    """Section letter ("C"), a code prefix ("36", "367", "3670") or both ("C36")."""
    from gaoxin.core.validators import normalise_code

    code = normalise_code(value)
    if not code:
        return Q()
    letter, digits = (code[0], code[1:]) if code[0].isalpha() else ("", code)
    if (letter and not ("A" <= letter <= "T")) or (digits and not digits.isdigit()):
        return Q(pk__in=[])
    q = Q()
    if letter:
        q &= Q(industry__section=letter)
    if digits:
        q &= Q(industry__code__startswith=digits)
    return q


def _by_pk_or_code(field: str, value: str) -> Q:
    # str.isdigit() accepts "²" and other digits int() refuses; ids are at most 18 ASCII digits.
    is_id = value.isascii() and value.isdigit() and len(value) <= 18
    return Q(**{f"{field}_id": int(value)}) if is_id else Q(**{f"{field}__code": value})


def enterprise_sort(value: str) -> list[Any]:
    """Whitelisted sort; anything else sorts by name. Always ends on pk so pages are stable."""
    desc = value.startswith("-")
    key = value.lstrip("-")
    if key not in ENTERPRISE_SORTS:
        return ["name", "pk"]
    column = F(key)
    ordered = column.desc(nulls_last=True) if desc else column.asc(nulls_last=True)
    return [ordered, "-pk" if desc else "pk"]


def enterprise_filter(
    params: Mapping[str, Any],
    *,
    base: QuerySet[Enterprise] | None = None,
    today: dt.date | None = None,
) -> QuerySet[Enterprise]:
    """The enterprise list for the query-string `params`, filtered and sorted.

    Used by the list page, its Excel export and the API, so the three always agree. Unknown
    values match nothing rather than everything (a filter that silently does nothing misleads);
    an unknown sort falls back to name order.
    """
    p = enterprise_filter_params(params)
    qs = base if base is not None else Enterprise.objects.all()
    if "q" in p:
        qs = qs.filter(search_filter(p["q"]))
    if "industry" in p:
        qs = qs.filter(industry_code_filter(p["industry"]))
    if "sei" in p:
        qs = qs.filter(sei_category__code=p["sei"])
    if "chain" in p:
        qs = qs.filter(_by_pk_or_code("chain", p["chain"]))
    if "grid" in p:
        qs = qs.filter(_by_pk_or_code("grid", p["grid"]))
    if "street" in p:
        qs = qs.filter(grid__street=p["street"])
    if "size" in p:
        qs = qs.filter(size=p["size"])
    if "status" in p:
        qs = qs.filter(status=p["status"])
    if "qualification" in p:
        on = parse_date_or_none(p.get("on", "")) or today or timezone.localdate()
        qs = enterprises_holding(p["qualification"], on, base=qs)
    return qs.order_by(*enterprise_sort(p.get("sort", "")))


def parse_date_or_none(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def with_current_qualifications(
    qs: QuerySet[Enterprise], day: dt.date | None = None
) -> QuerySet[Enterprise]:
    """Adds `current_qualifications` (valid on `day`) to each row with one extra query."""
    day = day or timezone.localdate()
    return qs.prefetch_related(
        Prefetch(
            "qualifications",
            queryset=qualifications_valid_on_any(day).order_by("kind", "-recognised_on"),
            to_attr="current_qualifications",
        )
    )


# --- The profile (企业画像) -----------------------------------------------------------------


def industry_path(industry: IndustryCategory | None) -> list[IndustryCategory]:
    """Section › division › group › class for one industry, in one query."""
    if industry is None:
        return []
    codes = {industry.section}
    digits = industry.code if industry.code.isdigit() else ""
    codes.update(digits[:n] for n in (2, 3, 4) if len(digits) >= n)
    return list(IndustryCategory.objects.filter(code__in=codes).order_by("level"))


@dataclass
class QualificationGroup:
    kind: str
    label: str
    items: list[Qualification]
    valid_today: bool


def qualifications_by_kind(
    enterprise: Enterprise, today: dt.date | None = None
) -> list[QualificationGroup]:
    """The enterprise's qualifications over time, grouped by kind in the kinds' order."""
    today = today or timezone.localdate()
    rows = list(enterprise.qualifications.order_by("-recognised_on", "-pk"))
    groups = []
    for kind, label in Qualification.Kind.choices:
        items = [q for q in rows if q.kind == kind]
        if items:
            for q in items:
                q.state = (  # type: ignore[attr-defined]
                    "valid"
                    if q.is_valid_on(today)
                    else ("pending" if q.recognised_on > today else "expired")
                )
            groups.append(
                QualificationGroup(
                    kind=kind,
                    label=str(label),
                    items=items,
                    valid_today=any(q.is_valid_on(today) for q in items),
                )
            )
    return groups


@dataclass
class ChangeLine:
    field: str
    label: str
    old: str
    new: str


def _model_for(label: str) -> type[Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _display(field: Any, value: Any, related: dict[tuple[Any, Any], str]) -> str:
    if value is None or value == "":
        return "—"
    if field is None:
        return str(value)
    if field.is_relation:
        return related.get((field.related_model, value), f"#{value}")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, BooleanField):
        return str(_("是") if value else _("否"))
    if isinstance(field, DateField) and not isinstance(field, DateTimeField):
        day = parse_date_or_none(str(value))
        if day:
            return date_format(day, "DATE_FORMAT")
    if isinstance(field, DecimalField) and field.name == "registered_capital":
        return _("%(amount)s 万元") % {"amount": f"{Decimal(str(value)):.2f}"}
    return str(value)


def _field(model: type[Model] | None, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


# Keys in audit `changes` that are not model fields.
EXTRA_CHANGE_LABELS = {
    "review_reason": gettext_lazy("审核意见"),
    "filters": gettext_lazy("筛选条件"),
    "rows": gettext_lazy("行数"),
    "rule_version": gettext_lazy("规则版本"),
    "note": gettext_lazy("说明"),
}


def describe_changes(entries: Iterable[AuditEntry]) -> None:
    """Sets `change_lines` on each audit row: field labels and values people can read.

    Foreign keys are stored as ids in the audit trail; they are looked up in one query per
    related model, for all rows together.
    """
    entries = list(entries)
    wanted: dict[Any, set[Any]] = {}
    for entry in entries:
        model = _model_for(entry.model)
        for name, pair in (entry.changes or {}).items():
            field = _field(model, name)
            if field is not None and field.is_relation and isinstance(pair, list | tuple):
                # Ids only: a relation's audit value is its primary key (a label written
                # under a relation's name by mistake must not break the page).
                wanted.setdefault(field.related_model, set()).update(
                    v for v in pair if isinstance(v, int) and not isinstance(v, bool)
                )
    related: dict[tuple[Any, Any], str] = {}
    for rel_model, ids in wanted.items():
        for pk, obj in rel_model.objects.in_bulk(list(ids)).items():
            related[(rel_model, pk)] = str(obj)
    for entry in entries:
        model = _model_for(entry.model)
        lines = []
        for name, pair in (entry.changes or {}).items():
            field = _field(model, name)
            label = (
                str(field.verbose_name)
                if field is not None
                else str(EXTRA_CHANGE_LABELS.get(name, name))
            )
            if isinstance(pair, list | tuple) and len(pair) == 2:
                old, new = pair
                if old in (None, "") and new in (None, ""):
                    continue  # a field left empty on creation says nothing to the reader
                lines.append(
                    ChangeLine(
                        name, label, _display(field, old, related), _display(field, new, related)
                    )
                )
            else:
                lines.append(ChangeLine(name, label, "", _display(field, pair, related)))
        entry.change_lines = lines  # type: ignore[attr-defined]


def enterprise_timeline(enterprise_id: int) -> QuerySet[AuditEntry]:
    """Every audit row about this enterprise or its dependent records, newest first."""
    return AuditEntry.objects.filter(enterprise_id=enterprise_id).order_by("-at", "-id")


def chains_with_counts() -> QuerySet[IndustryChain]:
    return IndustryChain.objects.annotate(enterprise_count=Count("enterprise")).order_by(
        "sort_order", "code"
    )


def enterprises_declared_for_review() -> QuerySet[Enterprise]:
    return (
        Enterprise.objects.filter(sei_status=Enterprise.SeiStatus.DECLARED)
        .select_related("sei_category", "industry", "chain")
        .order_by("updated_at", "pk")
    )
