"""Demo statistical reports for 2017-2021, deterministic, built so that the indicator engine (not
a stored number) gives the seed figures for the demo zone:

- 2019: strategic emerging industries' share of above-scale output 37.12 %;
- 2019: one industrial enterprise newly above 1 billion CNY of output, nine newly above 500
  million (with the above-scale lists of the registry demo: 150 in 2020/2021, 21 new in 2019).

Every above-scale enterprise files the monthly industrial report in the years it is above scale
(seasonal: the Spring Festival month dips, February 2020 collapses and is explained) and the
annual science and technology report. December 2021 is the current period of the demo: a few
enterprises are late, some reports are drafts, awaiting review or returned.

Everything is computed as plain data first (`plan_reports`), checked with the same checks an
enterprise's submission goes through, then written in bulk with one audit row per report.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from gaoxin.core import audit
from gaoxin.registry.demo import YEARS, DemoZone
from gaoxin.registry.models import Enterprise, Qualification
from gaoxin.reports import checks, rollups
from gaoxin.reports.catalogue import INDUSTRY_MONTHLY, SCI_ANNUAL
from gaoxin.reports.models import (
    Basis,
    Report,
    ReportFact,
    ReportForm,
    ReportPeriod,
    ReportRevision,
    ReportStatus,
    default_due_on,
    fact_values,
)

K = Qualification.Kind
SEI_SHARE_2019 = Decimal("0.3712")
BILLION = 1_000_000_000
HALF_BILLION = 500_000_000
NEW_1B_2019 = 1
NEW_500M_2019 = 9
# Share of a year's output in each month: the Spring Festival (January/February) dips, the
# year-end push lifts December.
SEASON = (0.074, 0.061, 0.083, 0.082, 0.085, 0.087, 0.084, 0.086, 0.088, 0.087, 0.089, 0.094)
COVID_FEBRUARY_2020 = 0.35  # of a normal February
CURRENT = (2021, 12)  # the demo's current period
RD_DEPARTMENT_SHARE = {2017: 0.12, 2018: 0.15, 2019: 0.18, 2020: 0.21, 2021: 0.24}
WAN = 10_000
TENTH = Decimal("0.1")


@dataclass
class DemoReport:
    uscc: str
    form_code: str
    year: int
    month: int | None
    entered: dict[str, str]  # as an enterprise types it, in the form's units
    status: str = ReportStatus.ACCEPTED
    explanation: str = ""
    return_reason: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # canonical, filled by the check
    findings: list[dict[str, str]] = field(default_factory=list)


def _money(yuan: float, unit: int = WAN) -> str:
    """元 as the form shows it (万元 or 千元), one decimal."""
    value = Decimal(str(yuan)) / unit
    return str(value.quantize(TENTH, rounding=ROUND_HALF_UP))


def _above_scale_years(zone: DemoZone) -> dict[str, list[int]]:
    years: dict[str, list[int]] = defaultdict(list)
    for q in zone.qualifications:
        if q.kind == K.ABOVE_SCALE:
            years[q.uscc].append(q.recognised_on.year)
    return {u: sorted(ys) for u, ys in years.items()}


def _annual_outputs(
    rng: random.Random, zone: DemoZone, sei: set[str]
) -> dict[str, dict[int, float]]:
    """Gross output (元) per firm and year it is above scale, with exactly the designed number
    of firms crossing 1 billion and 500 million in 2019, and strategic emerging firms weighted
    (in every year alike, so growth stays plausible) to about the 2019 share."""
    spells = _above_scale_years(zone)
    anchors = {e.uscc for e in zone.enterprises if e.anchor}
    outputs: dict[str, dict[int, float]] = {}
    for uscc in sorted(spells):
        first = spells[uscc][0]
        if uscc in anchors:
            level = rng.uniform(1.2e9, 6e9)
        elif rng.random() < 0.1:
            level = rng.uniform(5.2e8, 9.2e8)
        else:
            level = math.exp(rng.gauss(math.log(1.2e8), 0.7))
            level = min(max(level, 3.2e7), 4.6e8)
        series = {}
        for year in spells[uscc]:
            if year > first:
                level *= 1 + rng.gauss(0.08, 0.06)
            series[year] = level
        outputs[uscc] = series
    emerging = sum(s[2019] for u, s in outputs.items() if 2019 in s and u in sei)
    others = sum(s[2019] for u, s in outputs.items() if 2019 in s and u not in sei)
    share = float(SEI_SHARE_2019)
    weight = share * others / ((1 - share) * emerging) if emerging else 1.0
    for u in sei & set(outputs):
        for year in outputs[u]:
            outputs[u][year] *= weight
    _design_crossings(rng, outputs)
    return outputs


def _design_crossings(rng: random.Random, outputs: dict[str, dict[int, float]]) -> None:
    both = sorted(u for u, s in outputs.items() if 2018 in s and 2019 in s)
    rng.shuffle(both)
    one_b = [u for u in both if 5.2e8 <= outputs[u][2018] < BILLION][:NEW_1B_2019]
    rest = [u for u in both if u not in one_b and outputs[u][2018] < HALF_BILLION]
    half = rest[:NEW_500M_2019]
    for u in one_b:
        outputs[u][2018] = rng.uniform(0.86, 0.95) * BILLION
        outputs[u][2019] = rng.uniform(1.03, 1.10) * BILLION
    for u in half:
        outputs[u][2018] = rng.uniform(0.80, 0.95) * HALF_BILLION
        outputs[u][2019] = rng.uniform(1.03, 1.15) * HALF_BILLION
    designed = set(one_b) | set(half)
    for u, series in outputs.items():
        for year in sorted(series):
            if u in designed and year in (2018, 2019):
                continue
            before = series.get(year - 1, 0.0)
            for threshold in (BILLION, HALF_BILLION):
                # Nobody else crosses a threshold in 2019; other years keep their draws.
                if year == 2019 and before < threshold <= series[year]:
                    series[year] = threshold * rng.uniform(0.9, 0.98)
        if u in designed:
            for year in (2020, 2021):
                if year in series and series[year] < series.get(year - 1, 0):
                    series[year] = series[year - 1] * rng.uniform(1.0, 1.1)


def _months(rng: random.Random, annual: float, year: int, covid: bool) -> list[float]:
    weights = [w * rng.uniform(0.96, 1.04) for w in SEASON]
    if year == 2020 and covid:
        weights[1] *= COVID_FEBRUARY_2020
    total = sum(weights)
    return [annual * w / total for w in weights]


def plan_reports(zone: DemoZone, seed: int | None = None) -> list[DemoReport]:
    rng = random.Random((seed if seed is not None else zone.seed) * 7 + 3)  # noqa: S311 - demo data
    sei = {e.uscc for e in zone.enterprises if e.sei_code and e.sei_status == "confirmed"}
    outputs = _annual_outputs(rng, zone, sei)
    high_tech = _holders(zone, K.HIGH_TECH)
    rd_holders = _holders(zone, K.RD_INSTITUTION)
    plan: list[DemoReport] = []
    monthly: dict[tuple[str, int], list[float]] = {}
    for uscc in sorted(outputs):
        for year, annual in outputs[uscc].items():
            monthly[(uscc, year)] = _months(rng, annual, year, covid=rng.random() < 0.8)
    _balance_sei_share(monthly, sei, outputs)
    profiles: dict[str, dict[str, float]] = {}
    for uscc in sorted(outputs):
        profiles[uscc] = {
            "revenue": rng.uniform(0.9, 0.99),
            "profit": rng.uniform(-0.01, 0.08),
            "tax": rng.uniform(0.02, 0.045),
            "export": rng.choice((0.0, 0.0, rng.uniform(0.02, 0.25))),
            "new_product": rng.uniform(0.0, 0.3),
            "per_employee": rng.uniform(9e5, 2.2e6),  # yearly output per worker
            "rd": rng.uniform(0.022, 0.036) if uscc in high_tech else rng.uniform(0.004, 0.02),
        }
    for (uscc, year), months in sorted(monthly.items()):
        p = profiles[uscc]
        employees = max(20, round(outputs[uscc][year] / p["per_employee"]))
        ytd = Decimal(0)
        revenue_total = 0.0
        for month, output in enumerate(months, start=1):
            entered_output = _money(output)
            ytd += Decimal(entered_output)
            revenue = output * p["revenue"]
            revenue_total += float(Decimal(_money(revenue)) * WAN)
            entered = {
                "gross_output": entered_output,
                "gross_output_ytd": str(ytd),
                "revenue": _money(revenue),
                "profit": _money(output * p["profit"]),
                "tax": _money(output * p["tax"]),
                "employees": str(round(employees * rng.uniform(0.98, 1.02))),
                "export_value": _money(output * p["export"]),
                "new_product_output": _money(output * p["new_product"]),
            }
            plan.append(DemoReport(uscc, INDUSTRY_MONTHLY, year, month, entered))
        # Recognised institutions, plus R&D departments firms run without a recognition, more
        # of them each year (the zone pushes toward 30 % coverage by 2022).
        holder = uscc in rd_holders.get(year, set()) or rng.random() < RD_DEPARTMENT_SHARE[year]
        kyuan = 1000
        plan.append(
            DemoReport(
                uscc,
                SCI_ANNUAL,
                year,
                None,
                {
                    "revenue": _money(revenue_total * 1.04, kyuan),
                    "main_revenue": _money(revenue_total, kyuan),
                    "rd_spend": _money(revenue_total * p["rd"], kyuan),
                    "rd_personnel": str(max(1, round(employees * p["rd"] * 2.2))),
                    "has_rd_institution": "是" if holder else "否",
                    "patents_applied": str(rng.randint(0, 12) + (6 if holder else 0)),
                    "patents_granted": str(rng.randint(0, 6)),
                    "hightech_revenue": _money(
                        revenue_total * (rng.uniform(0.5, 0.9) if uscc in high_tech else 0), kyuan
                    ),
                    "tech_income": _money(revenue_total * rng.uniform(0, 0.02), kyuan),
                    "exports": _money(revenue_total * p["export"], kyuan),
                    "employees": str(employees),
                },
            )
        )
    _current_period(rng, plan, zone.demo_enterprise_uscc)
    return plan


def _holders(zone: DemoZone, kind: str) -> dict[int, set[str]] | set[str]:  # type: ignore[return]
    if kind == K.HIGH_TECH:
        return {q.uscc for q in zone.qualifications if q.kind == kind}
    held: dict[int, set[str]] = defaultdict(set)
    for q in zone.qualifications:
        if q.kind == kind:
            for year in YEARS:
                if q.recognised_on <= dt.date(year, 12, 31) <= q.valid_until:
                    held[year].add(q.uscc)
    return held


def _balance_sei_share(
    monthly: dict[tuple[str, int], list[float]], sei: set[str], outputs: dict[str, dict[int, float]]
) -> None:
    """Scale the 2019 output of confirmed strategic emerging firms below the thresholds so the
    share, computed from the values as entered (0.1 万元), is 37.12 % to two decimals."""
    firms = [u for (u, y) in monthly if y == 2019]
    in_sei = [u for u in firms if u in sei]
    adjustable = [
        u for u in in_sei if 2018 not in outputs[u] or outputs[u][2018] < 0.8 * HALF_BILLION
    ]
    adjustable = [u for u in adjustable if outputs[u][2019] < 0.8 * HALF_BILLION]

    def entered_total(users: list[str]) -> Decimal:
        return sum((Decimal(_money(v)) for u in users for v in monthly[(u, 2019)]), Decimal(0))

    for _round in range(6):
        total = entered_total(firms)
        emerging = entered_total(in_sei)
        fixed = emerging - entered_total(adjustable)
        movable = emerging - fixed
        # Want (fixed + k * movable) / (total - emerging + fixed + k * movable) = target.
        other = total - emerging
        want = (SEI_SHARE_2019 * (other + fixed) - fixed) / (1 - SEI_SHARE_2019)
        if not movable:
            return  # a tiny demo zone: no firm to adjust, the share is what it is
        # The weighting in _annual_outputs keeps k close to 1; bounded so no firm crosses a
        # threshold (adjustable firms stay under 0.8 x 500 million).
        k = min(max(float(want / movable), 0.8), 1.2)
        if abs(k - 1) < 1e-9:
            break
        for u in adjustable:
            monthly[(u, 2019)] = [v * k for v in monthly[(u, 2019)]]
            outputs[u][2019] *= k


def _current_period(rng: random.Random, plan: list[DemoReport], demo_uscc: str) -> None:
    """December 2021 is still being collected: late, draft, awaiting review and returned. The
    demo enterprise user's own enterprise is among the late ones, so it has a report to fill."""
    current = [r for r in plan if (r.year, r.month) == CURRENT and r.form_code == INDUSTRY_MONTHLY]
    rng.shuffle(current)
    current.sort(key=lambda r: r.uscc != demo_uscc)  # stable: the demo enterprise first
    for r in current[:5]:
        plan.remove(r)  # not submitted yet: late
    for r in current[5:8]:
        r.status = ReportStatus.DRAFT
    for r in current[8:14]:
        r.status = ReportStatus.SUBMITTED
    for r in current[14:15]:
        r.status = ReportStatus.RETURNED
        r.return_reason = "利润总额与应交税金比例异常,请核实后重新报送"
    annual_2021 = [r for r in plan if r.form_code == SCI_ANNUAL and r.year == CURRENT[0]]
    rng.shuffle(annual_2021)
    for r in annual_2021[:3]:
        r.status = ReportStatus.SUBMITTED  # still with the reviewer


def check_plan(plan: list[DemoReport]) -> None:
    """Run every demo report through the checks an enterprise's submission meets, with the
    same history (accepted values of last period and last year). Soft findings get the
    explanation an enterprise would write; a hard finding is a bug in the generator."""
    forms = {f.code: list(f.fields.all()) for f in ReportForm.objects.filter(version=1)}
    values: dict[tuple[str, str, int, int | None], dict[str, Any]] = {}
    for r in sorted(plan, key=lambda r: (r.uscc, r.form_code, r.year, r.month or 0)):
        if r.month:
            prev = (r.year, r.month - 1) if r.month > 1 else (r.year - 1, 12)
            last_period = values.get((r.uscc, r.form_code, *prev), {})
            last_year = values.get((r.uscc, r.form_code, r.year - 1, r.month), {})
        else:
            last_period = last_year = values.get((r.uscc, r.form_code, r.year - 1, None), {})
        r.values, found = checks.check(
            forms[r.form_code],
            r.entered,
            last_year=last_year,
            last_period=last_period,
            last_period_same_year=bool(r.month and r.month > 1),
        )
        if checks.has_hard(found):
            raise AssertionError(f"demo report {r.uscc} {r.year}-{r.month}: {found}")
        r.findings = [f.as_dict() for f in found]
        if checks.has_soft(found):
            r.explanation = _explain(r)
        if r.status == ReportStatus.ACCEPTED:
            values[(r.uscc, r.form_code, r.year, r.month)] = r.values


def _explain(r: DemoReport) -> str:
    if (r.year, r.month) in ((2020, 2), (2021, 2)):
        return "受新冠肺炎疫情影响,春节后延迟复工,产值同比变化较大。"
    if (r.year, r.month) == (2020, 3):
        return "疫情后全面复工复产,产值较上月恢复。"
    return "本期订单变化较大,数据已核实无误。"


@dataclass
class ReportsLoad:
    created: int = 0
    unchanged: int = 0
    periods: int = 0
    targets: int = 0


@transaction.atomic
def load_reports(
    zone: DemoZone, *, actor: Any = None, batch: uuid.UUID | None = None
) -> ReportsLoad:
    """Write the planned reports that are not there yet (idempotent: an existing report for the
    same enterprise and period is left as it is). Bulk inserts, one audit row per report."""
    plan = plan_reports(zone)
    check_plan(plan)
    out = ReportsLoad()
    forms = {f.code: f for f in ReportForm.objects.filter(version=1)}
    periods: dict[tuple[str, int, int | None], ReportPeriod] = {
        (p.form_code, p.year, p.month): p for p in ReportPeriod.objects.all()
    }
    wanted = {(r.form_code, r.year, r.month) for r in plan}
    wanted |= {(INDUSTRY_MONTHLY, *CURRENT)}
    missing = [
        ReportPeriod(form_code=c, year=y, month=m, due_on=default_due_on(y, m))
        for (c, y, m) in sorted(wanted - set(periods), key=lambda k: (k[0], k[1], k[2] or 0))
    ]
    if missing:
        ReportPeriod.objects.bulk_create(missing)
        out.periods = len(missing)
        periods = {(p.form_code, p.year, p.month): p for p in ReportPeriod.objects.all()}
    ids = dict(Enterprise.objects.filter(uscc__in={r.uscc for r in plan}).values_list("uscc", "pk"))
    existing = set(Report.objects.values_list("enterprise_id", "period_id"))
    now = timezone.now()
    new: list[tuple[Report, DemoReport]] = []
    for r in plan:
        period = periods[(r.form_code, r.year, r.month)]
        enterprise_id = ids.get(r.uscc)
        if enterprise_id is None or (enterprise_id, period.pk) in existing:
            out.unchanged += 1
            continue
        accepted = r.status == ReportStatus.ACCEPTED
        submitted = r.status != ReportStatus.DRAFT
        stamp = timezone.make_aware(dt.datetime.combine(period.due_on, dt.time(9)))
        new.append(
            (
                Report(
                    enterprise_id=enterprise_id,
                    period=period,
                    form=forms[r.form_code],
                    status=r.status,
                    values=r.values,
                    findings=r.findings,
                    explanation=r.explanation,
                    return_reason=r.return_reason,
                    revision=1 if accepted else 0,
                    submitted_at=stamp - dt.timedelta(days=2) if submitted else None,
                    reviewed_at=stamp if accepted or r.return_reason else None,
                    updated_at=now,
                ),
                r,
            )
        )
    reports = Report.objects.bulk_create([report for report, _r in new], batch_size=2000)
    revisions: list[ReportRevision] = []
    facts: list[ReportFact] = []
    entries = []
    for report, r in zip(reports, (r for _report, r in new), strict=True):
        if report.pk is None:  # a database without INSERT … RETURNING
            report.pk = Report.objects.get(
                enterprise_id=report.enterprise_id, period_id=report.period_id
            ).pk
        entries.append(
            audit.build(
                actor=actor,
                action=audit.AuditEntry.Action.CREATE,
                model="reports.report",
                object_id=report.pk,
                object_repr=f"{r.uscc} {report.period} {report.form.name}",
                changes={"status": [None, report.status]},
                enterprise_id=report.enterprise_id,
                batch=batch,
            )
        )
        if r.status != ReportStatus.ACCEPTED:
            continue
        revisions.append(
            ReportRevision(
                report=report,
                number=1,
                values=r.values,
                findings=r.findings,
                explanation=r.explanation,
                accepted_at=report.reviewed_at or now,
            )
        )
        period = report.period
        for basis in (Basis.FIRST, Basis.REVISED):
            facts.append(
                ReportFact(
                    report=report,
                    enterprise_id=report.enterprise_id,
                    form_code=period.form_code,
                    year=period.year,
                    month=period.month,
                    basis=basis,
                    revision=1,
                    **fact_values(r.values),
                )
            )
    ReportRevision.objects.bulk_create(revisions, batch_size=2000)
    ReportFact.objects.bulk_create(facts, batch_size=2000)
    for year in sorted({r.year for r in plan if r.form_code == INDUSTRY_MONTHLY}):
        rollups.refresh(INDUSTRY_MONTHLY, year)
    audit.record_many(entries)
    out.created = len(reports)
    out.targets = _targets(actor, batch)
    return out


# The zone's published targets (seed figures T01 and T02).
DEMO_TARGETS = (
    ("rd_institution_coverage", 2022, "30", "力争规上企业研发机构覆盖率达30%以上"),
    ("hte_rd_intensity", 2022, "3.5", "规上制造业高企研发经费内部支出占主营业务收入比重达3.5%"),
)


def _targets(actor: Any, batch: uuid.UUID | None) -> int:
    from gaoxin.indicators.models import Target
    from gaoxin.indicators.services import target_set

    created = 0
    for code, year, value, note in DEMO_TARGETS:
        if not Target.objects.filter(code=code, year=year).exists():
            target_set(code=code, year=year, value=value, note=note, acting_user=actor, batch=batch)
            created += 1
    return created
