"""The indicator engine: indicators are code, each with its definition text, and every value
comes with the enterprises that make it up (its lineage). Figures are never typed in.

An indicator computes over a `Scope` (year, optional month, "as first reported" or "as
revised") and returns a `Result`: the value, and `members`, one row per enterprise that counts,
with the numerator and denominator it contributes. Breakdowns (by chain, strategic emerging
category, industry section) group those members, so a breakdown always adds up to the total.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

import polars as pl
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
    """One enterprise's part of a value, in the indicator's unit (for lineage and exports)."""

    enterprise_id: int
    numerator: Decimal = Decimal(1)
    denominator: Decimal = Decimal(1)
    note: str = ""


# What an indicator's formula returns: one row per enterprise that counts, with the integer
# numerator and denominator it contributes (money in fen, so sums are exact), and an optional
# note. Held as a polars frame: grouping 50k members by chain is a vectorised group-by, not a
# Python loop over objects.
MEMBER_SCHEMA = {"enterprise_id": pl.Int64, "numerator": pl.Int64, "denominator": pl.Int64}


def members_frame(
    ids: Any, numerator: Any = 1, denominator: Any = 1, note: Any = None
) -> pl.DataFrame:
    """A member frame from ids (a list, Series or one-column frame) and per-member expressions or
    constants for the numerator and denominator."""
    if isinstance(ids, pl.DataFrame):
        frame = ids
    else:
        frame = pl.DataFrame({"enterprise_id": pl.Series(list(ids), dtype=pl.Int64)})
    columns = [
        pl.col("enterprise_id").cast(pl.Int64),
        _as_expr(numerator).cast(pl.Int64).alias("numerator"),
        _as_expr(denominator).cast(pl.Int64).alias("denominator"),
    ]
    if note is not None:
        columns.append(_as_expr(note).cast(pl.Utf8).alias("note"))
    return frame.select(columns)


def _as_expr(value: Any) -> pl.Expr:
    return value if isinstance(value, pl.Expr) else pl.lit(value)


@dataclass
class Result:
    code: str
    scope: Scope
    kind: str  # "count", "sum", "ratio" (numerator / denominator), "growth" (vs denominator)
    frame: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=MEMBER_SCHEMA))
    scale: int = 1  # numerator and denominator are in 1/scale of the indicator's unit

    @property
    def value(self) -> Decimal | None:
        f = self.frame
        return aggregate(
            self.kind,
            numerator=int(f["numerator"].sum() or 0),
            denominator=int(f["denominator"].sum() or 0),
            nonzero=int((f["numerator"] != 0).sum()),
            scale=self.scale,
        )

    @cached_property
    def members(self) -> list[Member]:
        """The members as objects in the indicator's unit (lineage pages and exports)."""
        scale = Decimal(self.scale)
        notes = self.frame["note"].to_list() if "note" in self.frame.columns else [None] * len(self)
        return [
            Member(pk, Decimal(n) / scale, Decimal(d) / scale, note or "")
            for (pk, n, d), note in zip(
                self.frame.select("enterprise_id", "numerator", "denominator").iter_rows(),
                notes,
                strict=True,
            )
        ]

    def __len__(self) -> int:
        return self.frame.height


def aggregate(
    kind: str, *, numerator: int, denominator: int, nonzero: int, scale: int
) -> Decimal | None:
    """The value of a group of members from its sums; None for a ratio or growth with nothing
    to divide by (no data is not zero)."""
    if kind == "count":
        return Decimal(nonzero)
    if kind == "sum":
        return Decimal(numerator) / Decimal(scale)
    if not denominator:
        return None
    if kind == "growth":
        return Decimal(numerator - denominator) / Decimal(denominator) * 100
    return Decimal(numerator) / Decimal(denominator) * 100  # ratios are percentages


@dataclass(frozen=True)
class Source:
    """Report rows behind an indicator, for its lineage: the accepted values of `columns` on
    form `form_code` for the scope's year and the `years_back` years before it."""

    form_code: str
    columns: tuple[str, ...]
    years_back: int = 0


@dataclass(frozen=True)
class Indicator:
    code: str
    name: Any  # lazy translated text
    name_en: str
    unit: Any
    kind: str
    definition: Any  # lazy translated text: the rule it follows and the population it counts
    compute: Callable[[Scope], pl.DataFrame]
    scale: int = 1  # the formula's integers per unit (fen per 万元 for output in 万元)
    sources: tuple[Source, ...] = ()

    def evaluate(self, scope: Scope) -> Result:
        frame = self.compute(scope)
        return Result(
            code=self.code,
            scope=scope,
            kind=self.kind,
            frame=frame.sort("enterprise_id"),
            scale=self.scale,
        )


INDICATORS: dict[str, Indicator] = {}


Formula = Callable[[Scope], pl.DataFrame]


def indicator(
    code: str,
    *,
    name: Any,
    name_en: str,
    unit: Any,
    kind: str,
    definition: Any,
    scale: int = 1,
    sources: tuple[Source, ...] = (),
) -> Callable[[Formula], Formula]:
    def register(func: Formula) -> Formula:
        INDICATORS[code] = Indicator(
            code, name, name_en, unit, kind, definition, func, scale, sources
        )
        return func

    return register


@functools.cache
def _discover() -> None:
    from django.utils.module_loading import autodiscover_modules

    from gaoxin.indicators import definitions  # noqa: F401 - registers the shipped indicators

    autodiscover_modules("indicators")


def all_indicators() -> list[Indicator]:
    """Every indicator: the shipped ones (`definitions`) and those other apps declare in an
    `indicators` module (policies: money paid out), imported once, on first use."""
    _discover()
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

    pinned = _pinned.get()
    version = (data_version() if pinned is None else pinned, int(time.monotonic() // MEMO_SECONDS))
    if _MEMO_VERSION[0] != version:
        clear_memo()
        _MEMO_VERSION[0] = version
    if key not in _MEMO:
        _MEMO[key] = make()
    return _MEMO[key]


# While one summary is computed, the data version is read once, not at every memo lookup.
_pinned: ContextVar[int | None] = ContextVar("pinned_data_version", default=None)


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
        token = _pinned.set(version)
        try:
            result = compute(code, scope)
            parts = breakdowns(result)
        finally:
            _pinned.reset(token)
        found = Summary(
            code=code,
            scope=scope,
            value=result.value,
            count=len(result),
            breakdowns=parts,
        )
        cache.set(key, found, timeout=24 * 3600)
    return found


ATTRIBUTES = {
    "enterprise_id": pl.Int64,
    "chain": pl.Utf8,  # the zone industry chain's name
    "sei": pl.Utf8,  # the strategic emerging category's name
    "sei_confirmed": pl.Boolean,  # the category is confirmed (not only declared)
    "industry": pl.Utf8,  # GB/T 4754 section letter
}
ID_CHUNK = 10_000  # ids per IN list (SQLite allows 32,766 variables)


def enterprise_attributes(ids: pl.Series) -> pl.DataFrame:
    """The attributes indicators group and filter by, for the enterprises `ids`: a frame with the
    ATTRIBUTES columns. Read from the database only for enterprises not seen since the last
    change of data, so the breakdowns of every indicator share one read of their members."""
    known: dict[str, pl.DataFrame] = memo(
        ("enterprise_attributes",), lambda: {"frame": pl.DataFrame(schema=ATTRIBUTES)}
    )
    wanted = pl.DataFrame({"enterprise_id": ids.cast(pl.Int64)}).unique()
    missing = wanted.join(known["frame"], on="enterprise_id", how="anti")["enterprise_id"]
    if missing.len():
        parts = [known["frame"]]
        from django.db import connection

        # PostgreSQL takes the ids as one array; SQLite as IN lists within its variable limit.
        chunk = missing.len() if connection.vendor == "postgresql" else ID_CHUNK
        for start in range(0, missing.len(), chunk):
            parts.append(_read_attributes(missing.slice(start, chunk).to_list()))
        known["frame"] = pl.concat(parts)
    return known["frame"].join(wanted, on="enterprise_id", how="semi")


def _read_attributes(ids: list[int]) -> pl.DataFrame:
    from gaoxin.registry.models import EmergingCategory, IndustryCategory, IndustryChain

    def names(model: Any, column: str) -> pl.DataFrame:
        found: pl.DataFrame = memo(
            ("names", model._meta.label, column),
            lambda: query_frame(
                model.objects.values_list("pk", column), {"id": pl.Int64, "name": pl.Utf8}
            ),
        )
        return found

    # Raw SQL: the ORM spends more preparing a 10,000-value IN list than the query takes.
    table = Enterprise._meta.db_table
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    frame = sql_frame(
        "SELECT id, chain_id, sei_category_id, industry_id, sei_status"  # noqa: S608
        f" FROM {table} WHERE id"
        + (" = ANY(%s)" if postgres else f" IN ({', '.join(['%s'] * len(ids))})"),
        [ids] if postgres else ids,
        {
            "enterprise_id": pl.Int64,
            "chain_id": pl.Int64,
            "sei_id": pl.Int64,
            "industry_id": pl.Int64,
            "sei_status": pl.Utf8,
        },
    )
    lookups = (
        ("chain_id", names(IndustryChain, "name"), "chain"),
        ("sei_id", names(EmergingCategory, "name"), "sei"),
        ("industry_id", names(IndustryCategory, "section"), "industry"),
    )
    for key, names_of, label in lookups:
        frame = frame.join(names_of.rename({"id": key, "name": label}), on=key, how="left")
    confirmed = pl.col("sei_id").is_not_null() & (
        pl.col("sei_status") == Enterprise.SeiStatus.CONFIRMED
    )
    return frame.select(
        "enterprise_id", "chain", "sei", confirmed.alias("sei_confirmed"), "industry"
    )


def query_frame(qs: Any, schema: dict[str, Any]) -> pl.DataFrame:
    """A queryset's rows (a `values_list`) as a polars frame, read with one raw cursor: the
    ORM's per-row work costs more than the query at 200k rows. Unordered: a model's default
    ordering would add columns to a DISTINCT."""
    sql, params = qs.order_by().query.sql_with_params()
    return sql_frame(sql, params, schema, using=qs.db)


def sql_frame(
    sql: str, params: Any, schema: dict[str, Any], using: str = "default"
) -> pl.DataFrame:
    from django.db import connections

    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame(rows, schema=schema, orient="row")


def breakdown(result: Result, by: str) -> dict[str, Decimal | None]:
    """The result grouped by an enterprise attribute, keyed by its label ("未分类" when unset);
    for counts and sums the parts add up to the total."""
    if by not in BREAKDOWNS:
        raise ValueError(by)
    return breakdowns(result, (by,))[by]


def breakdowns(
    result: Result, kinds: tuple[str, ...] = BREAKDOWNS
) -> dict[str, dict[str, Decimal | None]]:
    """`breakdown` for several attributes, joining the members with their attributes once."""
    unset = str(_("未分类"))
    attributes = enterprise_attributes(result.frame["enterprise_id"])
    joined = result.frame.lazy().join(attributes.lazy(), on="enterprise_id", how="left")
    queries = [
        joined.group_by(
            pl.when(pl.col(by).fill_null("") == "")
            .then(pl.lit(unset))
            .otherwise(pl.col(by))
            .alias("label")
        ).agg(
            pl.col("numerator").sum(),
            pl.col("denominator").sum(),
            (pl.col("numerator") != 0).sum().alias("nonzero"),
        )
        for by in kinds
    ]
    out = {}
    for by, groups in zip(kinds, pl.collect_all(queries), strict=True):
        values = {
            label: aggregate(
                result.kind, numerator=n, denominator=d, nonzero=nz, scale=result.scale
            )
            for label, n, d, nz in groups.iter_rows()
        }
        # Largest first, the unclassified last, so a chart or a printed list reads top down.
        order = sorted(values, key=lambda k: (k == unset, -(values[k] or 0), k))
        out[by] = {key: values[key] for key in order}
    return out
