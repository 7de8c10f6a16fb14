"""Indicators on a small hand-built zone (expected values worked out here, not taken from the
engine), the `indicator` command, and the demo zone's seed figures through the engine."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from gaoxin.indicators.engine import FIRST, Scope, breakdown, compute
from gaoxin.registry.models import (
    EmergingCategory,
    Enterprise,
    IndustryCategory,
    IndustryChain,
    Qualification,
)
from gaoxin.registry.tests.factories import EnterpriseFactory, QualificationFactory
from gaoxin.reports import services
from gaoxin.reports.catalogue import INDUSTRY_MONTHLY, SCI_ANNUAL
from gaoxin.reports.models import Report, ReportPeriod

K = Qualification.Kind


def listed(enterprise, year: int) -> None:
    QualificationFactory(
        enterprise=enterprise,
        kind=K.ABOVE_SCALE,
        recognised_on=dt.date(year, 1, 1),
        valid_until=dt.date(year, 12, 31),
        certificate_no="",
    )


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("indicator", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def zone(db):
    """Five enterprises: A, B above scale in 2018 and 2019, C only in 2019 (new), D only in 2018
    (dropped out), E never. A and C hold an R&D institution at the end of 2019; B's expired."""
    chain = IndustryChain.objects.get(name="汽车零部件")
    a, b, c, d, e = (EnterpriseFactory(name=f"企业{x}") for x in "ABCDE")
    a.chain = c.chain = chain
    a.save(update_fields=["chain"])
    c.save(update_fields=["chain"])
    for ent, years in ((a, (2018, 2019)), (b, (2018, 2019)), (c, (2019,)), (d, (2018,))):
        for year in years:
            listed(ent, year)
    rd = {"kind": K.RD_INSTITUTION, "certificate_no": ""}
    QualificationFactory(
        enterprise=a, recognised_on=dt.date(2017, 5, 1), valid_until=dt.date(2020, 4, 30), **rd
    )
    QualificationFactory(
        enterprise=c, recognised_on=dt.date(2019, 6, 1), valid_until=dt.date(2022, 5, 31), **rd
    )
    QualificationFactory(
        enterprise=b, recognised_on=dt.date(2015, 1, 1), valid_until=dt.date(2017, 12, 31), **rd
    )
    # Gazelles: E first recognised in 2019; A re-recognised in 2019 (first in 2016).
    gz = {"kind": K.GAZELLE, "certificate_no": ""}
    QualificationFactory(
        enterprise=e, recognised_on=dt.date(2019, 8, 1), valid_until=dt.date(2022, 7, 31), **gz
    )
    QualificationFactory(
        enterprise=a, recognised_on=dt.date(2016, 8, 1), valid_until=dt.date(2019, 7, 31), **gz
    )
    QualificationFactory(
        enterprise=a, recognised_on=dt.date(2019, 8, 1), valid_until=dt.date(2022, 7, 31), **gz
    )
    # High-tech certificates: B valid through 2019; D's expired in 2019-03.
    QualificationFactory(
        enterprise=b, recognised_on=dt.date(2018, 11, 1), valid_until=dt.date(2021, 10, 31)
    )
    QualificationFactory(
        enterprise=d, recognised_on=dt.date(2016, 3, 1), valid_until=dt.date(2019, 2, 28)
    )
    return {"A": a, "B": b, "C": c, "D": d, "E": e}


def test_counts_and_coverage_on_a_hand_built_zone(zone):
    y2019 = Scope(2019)
    assert compute("above_scale_count", y2019).value == 3  # A, B, C
    new = compute("new_above_scale_count", y2019)
    assert new.value == 1
    assert [m.enterprise_id for m in new.members] == [zone["C"].pk]
    assert compute("hte_count", y2019).value == 1  # B; D's certificate ran out in February
    assert compute("hte_count", Scope(2019, month=1)).value == 2  # D still held it in January
    assert compute("gazelle_new_count", y2019).value == 1  # E; A's was a re-recognition
    assert compute("gazelle_count", y2019).value == 2  # A (again) and E hold it at year end
    assert compute("gazelle_count", Scope(2019, month=6)).value == 1  # A's first one, to July
    # R&D institutions at 2019-12-31 among A, B, C: A and C → 2 / 3.
    coverage = compute("rd_institution_coverage", y2019).value
    assert coverage.quantize(Decimal("0.01")) == Decimal("66.67")


def test_breakdowns_add_up_to_the_total(zone):
    result = compute("above_scale_count", Scope(2019))
    parts = breakdown(result, "chain")
    assert parts == {"汽车零部件": 2, "未分类": 1}
    assert sum(parts.values()) == result.value


def test_without_an_official_list_above_scale_comes_from_reported_revenue(db, dept_reviewer):
    """No 2020 list: enterprises with 20 million CNY of main business revenue or more in their
    accepted monthly reports count; a non-industrial one does not."""
    software = IndustryCategory.objects.get(code="6511")
    big, small, service, exact = (EnterpriseFactory() for _ in range(4))
    service.industry = software
    service.save(update_fields=["industry"])
    for month in range(1, 13):
        period = ReportPeriod.objects.create(
            form_code=INDUSTRY_MONTHLY, year=2020, month=month, due_on=dt.date(2020, 12, 31)
        )
        # 万元 a month; `exact` reaches exactly 2,000万 in the year (166 × 11 + 174).
        exact_month = "174" if month == 12 else "166"
        for ent, revenue in ((big, "170"), (small, "160"), (service, "500"), (exact, exact_month)):
            report = services.report_open(enterprise=ent, period=period, acting_user=None)
            values = {
                "gross_output": revenue,
                "revenue": revenue,
                "profit": "1",
                "tax": "1",
                "employees": "50",
            }
            services.report_submit(
                report=report, acting_user=None, entered=values, explanation="测试"
            )
            services.report_accept(report=report, acting_user=dept_reviewer)
    result = compute("above_scale_count", Scope(2020))
    # 170 × 12 = 2,040 万元 ≥ 2,000; exactly 2,000 万元 counts; 160 × 12 = 1,920 万元 is
    # below; software is not industry.
    assert sorted(m.enterprise_id for m in result.members) == sorted([big.pk, exact.pk])


def test_command_prints_the_bare_number_and_breakdowns(zone):
    assert run("above_scale_count", "--year", "2019").splitlines()[-1] == "3"
    assert run("rd_institution_coverage", "--year", "2019").strip() == "66.67"
    assert run("above_scale_count", "--year", "2019", "--by", "chain").splitlines() == [
        "汽车零部件\t2",
        "未分类\t1",
    ]
    with pytest.raises(CommandError, match="no_such"):
        run("no_such", "--year", "2019")


@pytest.mark.django_db
def test_demo_zone_figures_come_out_of_the_engine():
    call_command("load_demo", "--quiet", stdout=io.StringIO(), stderr=io.StringIO())
    figures = {
        ("above_scale_count", 2020): 150,
        ("above_scale_count", 2021): 150,
        ("new_above_scale_count", 2019): 21,
        ("smart_factory_count", 2019): 11,
        ("gazelle_new_count", 2019): 6,
        ("new_1b_count", 2019): 1,
        ("new_500m_count", 2019): 9,
    }
    for (code, year), expected in figures.items():
        assert compute(code, Scope(year)).value == expected, code
    share = compute("sei_output_share", Scope(2019))
    assert share.value.quantize(Decimal("0.01")) == Decimal("37.12")
    # Lineage: the members are the 2019 above-scale firms, and their parts make the share.
    assert len(share.members) == 140
    emerging = sum(m.numerator for m in share.members)
    total = sum(m.denominator for m in share.members)
    assert emerging / total * 100 == share.value


def accept(enterprise, year: int, month: int | None, values: dict, reviewer) -> None:
    code = INDUSTRY_MONTHLY if month else SCI_ANNUAL
    period, _ = ReportPeriod.objects.get_or_create(
        form_code=code, year=year, month=month, defaults={"due_on": dt.date(year + 1, 3, 31)}
    )
    report = services.report_open(enterprise=enterprise, period=period, acting_user=None)
    services.report_submit(report=report, acting_user=None, entered=values, explanation="测试")
    services.report_accept(report=report, acting_user=reviewer)


def monthly(output: str) -> dict:
    return {"gross_output": output, "revenue": output, "profit": "1", "tax": "1", "employees": "80"}


@pytest.fixture
def outputs(zone, dept_reviewer):
    """Monthly gross output in 万元. 2018: A 8,000, B 4,000, D 100. 2019: A 9,000, B 4,500,
    C 1,000. So A passes 1 billion a year (9.6 → 10.8 亿), B passes 500 million (4.8 → 5.4
    亿). C's strategic emerging category is confirmed; A's is only declared."""
    a, b, c, d = zone["A"], zone["B"], zone["C"], zone["D"]
    for month in range(1, 13):
        for ent, value in ((a, "8000"), (b, "4000"), (d, "100")):
            accept(ent, 2018, month, monthly(value), dept_reviewer)
        for ent, value in ((a, "9000"), (b, "4500"), (c, "1000")):
            accept(ent, 2019, month, monthly(value), dept_reviewer)
    category = EmergingCategory.objects.first()
    Enterprise.objects.filter(pk=c.pk).update(
        sei_category=category, sei_status=Enterprise.SeiStatus.CONFIRMED
    )
    Enterprise.objects.filter(pk=a.pk).update(
        sei_category=category, sei_status=Enterprise.SeiStatus.DECLARED
    )
    science = {
        "revenue": "60000",
        "main_revenue": "50000",
        "rd_spend": "2000",
        "rd_personnel": "30",
        "has_rd_institution": "否",
        "patents_applied": "3",
        "patents_granted": "1",
        "employees": "300",
    }
    accept(b, 2019, None, science, dept_reviewer)  # B: manufacturing, high-tech certificate
    accept(a, 2019, None, {**science, "rd_spend": "100"}, dept_reviewer)  # A: no certificate
    return zone


def test_output_indicators_on_a_hand_built_zone(outputs):
    two = Decimal("0.01")
    y2019 = Scope(2019)
    assert compute("above_scale_output", y2019).value == (9000 + 4500 + 1000) * 12
    assert compute("above_scale_output", Scope(2019, month=6)).value == (9000 + 4500 + 1000) * 6
    # Same caliber: A and B (C has no 2018): (108,000 + 54,000) / (96,000 + 48,000) - 1.
    assert compute("above_scale_output_growth", y2019).value.quantize(two) == Decimal("12.50")
    assert [m.enterprise_id for m in compute("new_1b_count", y2019).members] == [outputs["A"].pk]
    assert [m.enterprise_id for m in compute("new_500m_count", y2019).members] == [outputs["B"].pk]
    # Only C's category is confirmed: 12,000 / 174,000.
    assert compute("sei_output_share", y2019).value.quantize(two) == Decimal("6.90")
    # B alone: 2,000 / 50,000 千元.
    assert compute("hte_rd_intensity", y2019).value.quantize(two) == Decimal("4.00")


def test_first_reported_and_revised_values_give_different_totals(outputs, dept_reviewer):
    report = Report.objects.get(enterprise=outputs["C"], period__year=2019, period__month=3)
    services.report_correct(report=report, acting_user=None, reason="产值更正")
    services.report_submit(
        report=report, acting_user=None, entered=monthly("1600"), explanation="更正"
    )
    services.report_accept(report=report, acting_user=dept_reviewer)
    revised = compute("above_scale_output", Scope(2019)).value
    first = compute("above_scale_output", Scope(2019, basis=FIRST)).value
    assert revised - first == 600
