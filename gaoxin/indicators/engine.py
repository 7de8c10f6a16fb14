"""The indicator engine: indicators are code, each with its definition text, and every value
comes with the enterprises that make it up (its lineage). Figures are never typed in.

An indicator computes over a `Scope` (year, optional month, "as first reported" or "as
revised") and returns a `Result`: the value, and `members`, one row per enterprise that counts,
with the numerator and denominator it contributes. Breakdowns (by chain, strategic emerging
category, industry section) group those members, so a breakdown always adds up to the total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from gaoxin.registry.models import Enterprise

FIRST = "first"
REVISED = "revised"
BREAKDOWNS = ("chain", "sei", "industry")


@dataclass(frozen=True)
class Scope:
    year: int
    month: int | None = None
    basis: str = REVISED

    @property
    def end(self) -> dt.date:
        """The date the population is taken at: the end of the month, or of the year."""
        if self.month:
            following = dt.date(self.year + self.month // 12, self.month % 12 + 1, 1)
            return following - dt.timedelta(days=1)
        return dt.date(self.year, 12, 31)


@dataclass
class Member:
    enterprise_id: int
    numerator: Decimal = Decimal(1)
    denominator: Decimal = Decimal(1)
    note: str = ""


@dataclass
class Result:
    code: str
    scope: Scope
    kind: str  # "count", "sum", "ratio" (numerator / denominator), "growth" (vs denominator)
    members: list[Member] = field(default_factory=list)

    @property
    def value(self) -> Decimal | None:
        return aggregate(self.kind, self.members)


def aggregate(kind: str, members: list[Member]) -> Decimal | None:
    """The value of a group of members; None for a ratio or growth with nothing to divide by
    (no data is not zero)."""
    if kind == "count":
        return Decimal(sum(1 for m in members if m.numerator))
    numerator = sum((m.numerator for m in members), Decimal(0))
    if kind == "sum":
        return numerator
    denominator = sum((m.denominator for m in members), Decimal(0))
    if not denominator:
        return None
    if kind == "growth":
        return (numerator - denominator) / denominator * 100
    return numerator / denominator * 100  # ratios are percentages


@dataclass(frozen=True)
class Indicator:
    code: str
    name: Any  # lazy translated text
    name_en: str
    unit: Any
    kind: str
    definition: Any  # lazy translated text: the rule it follows and the population it counts
    compute: Callable[[Scope], list[Member]]

    def evaluate(self, scope: Scope) -> Result:
        return Result(code=self.code, scope=scope, kind=self.kind, members=self.compute(scope))


INDICATORS: dict[str, Indicator] = {}


def indicator(
    code: str, *, name: Any, name_en: str, unit: Any, kind: str, definition: Any
) -> Callable[[Callable[[Scope], list[Member]]], Callable[[Scope], list[Member]]]:
    def register(func: Callable[[Scope], list[Member]]) -> Callable[[Scope], list[Member]]:
        INDICATORS[code] = Indicator(code, name, name_en, unit, kind, definition, func)
        return func

    return register


def all_indicators() -> list[Indicator]:
    from gaoxin.indicators import definitions  # noqa: F401 - registers the shipped indicators

    return list(INDICATORS.values())


def indicator_by_code(code: str) -> Indicator | None:
    all_indicators()
    return INDICATORS.get(code)


def compute(code: str, scope: Scope) -> Result:
    found = indicator_by_code(code)
    if found is None:
        raise KeyError(_("没有代码为 %(code)s 的指标") % {"code": code})
    return found.evaluate(scope)


@dataclass(frozen=True)
class Summary:
    """What pages show of a result: the value and its breakdowns (small enough to cache)."""

    code: str
    scope: Scope
    value: Decimal | None
    count: int  # members
    breakdowns: dict[str, dict[str, Decimal | None]]


_MEMO: dict[Any, Any] = {}
_MEMO_VERSION: list[Any] = [None]
MEMO_SECONDS = 600  # a bound even for writes that bypass the services (a shell, raw SQL)


def memo(key: Any, make: Callable[[], Any]) -> Any:
    """Shared intermediate results (a year's per-enterprise totals, a population, enterprise
    attributes) for as long as no record changes: computing every indicator then reads each
    thing once. Keyed by the data version, so a write anywhere makes it start afresh."""
    import time

    version = (data_version(), int(time.monotonic() // MEMO_SECONDS))
    if _MEMO_VERSION[0] != version:
        clear_memo()
        _MEMO_VERSION[0] = version
    if key not in _MEMO:
        _MEMO[key] = make()
    return _MEMO[key]


def clear_memo() -> None:
    _MEMO.clear()
    _MEMO_VERSION[0] = None


def data_version() -> int:
    """Changes whenever any business record changes: every write leaves an audit row (the audit
    table is append-only), so the newest audit id is a version of all the data at once."""
    from gaoxin.core.models import AuditEntry

    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def summary(code: str, scope: Scope) -> Summary:
    """The value and breakdowns, cached until any record changes."""
    from django.core.cache import cache
    from django.utils.translation import get_language

    # Labels in the breakdowns ("未分类") are in the reader's language.
    version = data_version()
    key = f"indicator:{code}:{scope.year}:{scope.month}:{scope.basis}:{get_language()}:{version}"
    found: Summary | None = cache.get(key)
    if found is None:
        result = compute(code, scope)
        found = Summary(
            code=code,
            scope=scope,
            value=result.value,
            count=len(result.members),
            breakdowns={by: breakdown(result, by) for by in BREAKDOWNS},
        )
        cache.set(key, found, timeout=24 * 3600)
    return found


def enterprise_labels(by: str) -> dict[int, str]:
    """Every enterprise's chain, emerging category or industry section label (one query)."""
    related = {"chain": "chain__name", "sei": "sei_category__name", "industry": "industry__section"}

    def load() -> dict[int, str]:
        return dict(Enterprise.objects.values_list("pk", related[by]).iterator(chunk_size=20000))

    found: dict[int, str] = memo(("labels", by), load)
    return found


def breakdown(result: Result, by: str) -> dict[str, Decimal | None]:
    """The result grouped by an enterprise attribute, keyed by its label ("未分类" when unset);
    for counts and sums the parts add up to the total."""
    if by not in BREAKDOWNS:
        raise ValueError(by)
    labels = enterprise_labels(by)
    unset_label = str(_("未分类"))
    groups: dict[str, list[Member]] = {}
    for m in result.members:
        groups.setdefault(labels.get(m.enterprise_id) or unset_label, []).append(m)
    values = {key: aggregate(result.kind, members) for key, members in groups.items()}
    unset = str(_("未分类"))
    # Largest first, the unclassified last, so a chart or a printed list reads top down.
    order = sorted(values, key=lambda k: (k == unset, -(values[k] or 0), k))
    return {key: values[key] for key in order}
