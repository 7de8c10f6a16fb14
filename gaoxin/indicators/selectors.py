"""Reads behind the indicator pages and the dashboards. Every figure comes from the engine or
from the records it reads; nothing is typed in."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Sum
from django.utils.translation import gettext as _

from gaoxin.indicators.definitions import WAN, above_scale_ids, above_scale_query
from gaoxin.indicators.engine import REVISED, Scope, all_indicators, data_version, summary
from gaoxin.indicators.models import Target
from gaoxin.registry.models import Enterprise
from gaoxin.reports.catalogue import INDUSTRY_MONTHLY
from gaoxin.reports.models import Basis, Report, ReportFact, ReportPeriod, ReportStatus

QUALIFIED_CODES = ("above_scale_count", "hte_count", "gazelle_new_count", "smart_factory_count")
GAUGE_CODES = ("rd_institution_coverage", "hte_rd_intensity", "sei_output_share")


def data_years() -> list[int]:
    """Years with accepted monthly reports, newest first (at least the current one)."""
    years = sorted(
        set(
            ReportFact.objects.filter(form_code=INDUSTRY_MONTHLY, basis=Basis.REVISED)
            .values_list("year", flat=True)
            .distinct()
        ),
        reverse=True,
    )
    return years or [2021]


def targets_for(year: int) -> dict[str, Decimal]:
    return dict(Target.objects.filter(year=year).values_list("code", "value"))


def targets_ahead(year: int) -> dict[str, tuple[int, Decimal]]:
    """Per indicator, the target of `year`, or else the nearest later one: the trend the
    dashboard shows points at it."""
    out: dict[str, tuple[int, Decimal]] = {}
    for code, y, value in (
        Target.objects.filter(year__gte=year).order_by("-year").values_list("code", "year", "value")
    ):
        out[code] = (y, value)
    return out


@dataclass
class Row:
    code: str
    name: str
    unit: str
    definition: str
    value: Decimal | None
    target: Decimal | None
    members: int
    target_year: int | None = None


def indicator_rows(scope: Scope) -> list[Row]:
    targets = targets_ahead(scope.year)
    rows = []
    for ind in all_indicators():
        s = summary(ind.code, scope)
        rows.append(
            Row(
                code=ind.code,
                name=str(ind.name),
                unit=str(ind.unit),
                definition=str(ind.definition),
                value=s.value,
                target=targets[ind.code][1] if ind.code in targets else None,
                members=s.count,
                target_year=targets[ind.code][0] if ind.code in targets else None,
            )
        )
    return rows


def trend(code: str, years: list[int], basis: str = REVISED) -> list[tuple[int, Decimal | None]]:
    return [(y, summary(code, Scope(y, basis=basis)).value) for y in sorted(years)]


def monthly_output(year: int) -> list[dict[str, Any]]:
    """Above-scale output per month (万元) and its growth on the same month a year earlier,
    same caliber: this year's above-scale enterprises in both years (a subquery, not a list
    of 50k ids)."""
    population = above_scale_query(year, REVISED)

    def per_month(y: int) -> dict[int, Decimal]:
        rows = (
            ReportFact.objects.filter(
                form_code=INDUSTRY_MONTHLY,
                basis=Basis.REVISED,
                year=y,
                enterprise_id__in=population,
            )
            .values("month")
            .annotate(total=Sum("gross_output"))
        )
        return {r["month"]: Decimal(r["total"] or 0) / WAN for r in rows}

    now, before = per_month(year), per_month(year - 1)
    out = []
    for month in range(1, 13):
        value = now.get(month)
        prior = before.get(month)
        growth = (value - prior) / prior * 100 if value is not None and prior else None
        out.append({"month": month, "value": value, "growth": growth})
    return out


def top_enterprises(year: int, limit: int = 10) -> list[tuple[str, int, Decimal]]:
    from gaoxin.indicators.engine import compute

    result = compute("above_scale_output", Scope(year))
    best = result.frame.sort(["numerator", "enterprise_id"], descending=[True, False]).head(limit)
    names = dict(
        Enterprise.objects.filter(pk__in=best["enterprise_id"].to_list()).values_list("pk", "name")
    )
    return [
        (names.get(pk, ""), pk, Decimal(fen) / result.scale)
        for pk, fen in best.select("enterprise_id", "numerator").iter_rows()
    ]


def submission_progress() -> dict[str, Any] | None:
    """The latest monthly period: how many of the enterprises expected to report (above scale
    that year) are at each status; those without a report are 未填报."""
    period = (
        ReportPeriod.objects.filter(form_code=INDUSTRY_MONTHLY).order_by("-year", "-month").first()
    )
    if period is None:
        return None
    expected = set(above_scale_ids(period.year, basis=REVISED))
    statuses = dict(Report.objects.filter(period=period).values_list("enterprise_id", "status"))
    counts = Counter(statuses.get(pk, ReportStatus.NOT_SUBMITTED) for pk in expected)
    for pk, status in statuses.items():
        if pk not in expected:
            counts[status] += 1
    order = [
        ReportStatus.ACCEPTED,
        ReportStatus.SUBMITTED,
        ReportStatus.RETURNED,
        ReportStatus.DRAFT,
        ReportStatus.NOT_SUBMITTED,
    ]
    return {
        "period": period,
        "total": sum(counts.values()),
        "parts": [(str(ReportStatus(s).label), counts.get(s, 0), s) for s in order],
    }


@dataclass
class Dashboard:
    year: int
    years: list[int]
    cards: list[Row]
    monthly: list[dict[str, Any]]
    by_chain: dict[str, Decimal | None]
    by_sei: dict[str, Decimal | None]
    top: list[tuple[str, int, Decimal]]
    gauges: list[Row]
    progress: dict[str, Any] | None
    output: Row | None = None
    growth: Row | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def dashboard(year: int) -> Dashboard:
    """Everything the overview and the big screen show, cached until any record changes."""
    from django.utils.translation import get_language

    key = f"dashboard:{year}:{get_language()}:{data_version()}"
    found = cache.get(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    scope = Scope(year)
    rows = {r.code: r for r in indicator_rows(scope)}
    output = summary("above_scale_output", scope)
    board = Dashboard(
        year=year,
        years=data_years(),
        cards=[rows[c] for c in QUALIFIED_CODES if c in rows],
        monthly=monthly_output(year),
        by_chain=output.breakdowns["chain"],
        by_sei=output.breakdowns["sei"],
        top=top_enterprises(year),
        gauges=[rows[c] for c in GAUGE_CODES if c in rows],
        progress=submission_progress(),
        output=rows.get("above_scale_output"),
        extra={
            "output_yi": (rows["above_scale_output"].value or Decimal(0)) / WAN
            if "above_scale_output" in rows
            else None
        },
        growth=rows.get("above_scale_output_growth"),
    )
    cache.set(key, board, timeout=3600)
    return board


def chart_tables(board: Dashboard) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """Each chart's data as (headers, rows): the text alternative and the .xlsx export."""
    return {
        "monthly": (
            [_("月份"), _("规上工业总产值(万元)"), _("同比增长(%)")],
            [[m["month"], m["value"], m["growth"]] for m in board.monthly],
        ),
        "chain": (
            [_("产业链"), _("规上工业总产值(万元)")],
            [[k, v] for k, v in board.by_chain.items()],
        ),
        "sei": (
            [_("战略性新兴产业类别"), _("规上工业总产值(万元)")],
            [[k, v] for k, v in board.by_sei.items()],
        ),
        "top": (
            [_("企业"), _("工业总产值(万元)")],
            [[name, value] for name, _pk, value in board.top],
        ),
        "qualified": (
            [_("指标"), _("数值"), _("单位")],
            [[r.name, r.value, r.unit] for r in board.cards],
        ),
        "gauges": (
            [_("指标"), _("实际"), _("目标"), _("目标年份"), _("单位")],
            [[r.name, r.value, r.target, r.target_year, r.unit] for r in board.gauges],
        ),
        "progress": (
            [_("状态"), _("企业数")],
            [[label, n] for label, n, _s in (board.progress or {}).get("parts", [])],
        ),
    }


def _f(value: Decimal | None) -> float | None:
    return None if value is None else round(float(value), 2)


def chart_payload(board: Dashboard) -> dict[str, Any]:
    """What charts.js draws, JSON-safe."""
    return {
        "monthly": {
            "months": [_("%(m)d月") % {"m": m["month"]} for m in board.monthly],
            "values": [_f(m["value"]) for m in board.monthly],
            "growth": [_f(m["growth"]) for m in board.monthly],
            "value_name": _("规上工业总产值(万元)"),
            "growth_name": _("同比增长(%)"),
        },
        "chain": {"items": [{"name": k, "value": _f(v)} for k, v in board.by_chain.items()]},
        "sei": {"items": [{"name": k, "value": _f(v)} for k, v in board.by_sei.items()]},
        "top": {
            "names": [name for name, _pk, _v in board.top],
            "values": [_f(v) for _n, _pk, v in board.top],
        },
        "gauges": {
            "target_word": _("目标"),
            "items": [
                {
                    "name": r.name,
                    "value": _f(r.value),
                    "target": _f(r.target),
                    "target_year": r.target_year,
                    "unit": r.unit,
                }
                for r in board.gauges
            ],
        },
        "progress": {
            "items": [
                {"name": label, "value": n}
                for label, n, _s in (board.progress or {}).get("parts", [])
            ]
        },
    }


@dataclass
class EnterpriseFigures:
    years: list[dict[str, Any]]  # year, output, revenue, employees (latest month), months
    months: list[dict[str, Any]]  # the latest year's months
    latest_year: int | None
    chain_name: str | None
    chain_rank: int | None
    chain_size: int
    chain_share: Decimal | None


def enterprise_figures(enterprise: Enterprise) -> EnterpriseFigures:
    """An enterprise's own accepted monthly figures (as revised) and its place in its chain by
    gross output in the latest year it reported."""
    facts = ReportFact.objects.filter(
        enterprise=enterprise, form_code=INDUSTRY_MONTHLY, basis=Basis.REVISED
    ).order_by("year", "month")
    by_year: dict[int, dict[str, Any]] = {}
    rows = list(facts.values("year", "month", "gross_output", "revenue", "employees"))
    for r in rows:
        y = by_year.setdefault(
            r["year"],
            {
                "year": r["year"],
                "output": Decimal(0),
                "revenue": Decimal(0),
                "months": 0,
                "employees": None,
            },
        )
        y["output"] += (r["gross_output"] or 0) / WAN
        y["revenue"] += (r["revenue"] or 0) / WAN
        y["months"] += 1
        y["employees"] = r["employees"]
    latest = max(by_year) if by_year else None
    months = [
        {
            "month": r["month"],
            "output": (r["gross_output"] or 0) / WAN,
            "revenue": (r["revenue"] or 0) / WAN,
            "employees": r["employees"],
        }
        for r in rows
        if r["year"] == latest
    ]
    rank = share = None
    size = 0
    if latest is not None and enterprise.chain_id:
        peers = (
            ReportFact.objects.filter(
                form_code=INDUSTRY_MONTHLY,
                basis=Basis.REVISED,
                year=latest,
                enterprise__chain_id=enterprise.chain_id,
            )
            .values("enterprise_id")
            .annotate(total=Sum("gross_output"))
        )
        totals = sorted(((p["total"] or 0, p["enterprise_id"]) for p in peers), reverse=True)
        size = len(totals)
        chain_total = sum(t for t, _pk in totals)
        for i, (total, pk) in enumerate(totals, start=1):
            if pk == enterprise.pk:
                rank = i
                share = Decimal(total) / Decimal(chain_total) * 100 if chain_total else None
    return EnterpriseFigures(
        years=[by_year[y] for y in sorted(by_year)],
        months=months,
        latest_year=latest,
        chain_name=enterprise.chain.name if enterprise.chain_id else None,
        chain_rank=rank,
        chain_size=size,
        chain_share=share,
    )
