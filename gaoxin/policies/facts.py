"""The facts the measures read (see `measures`), assembled from the records for a year: for
every enterprise at once (matching, what-if) or for one (an application's preview). Both go
through the same queries, the single case only adding `enterprise_id IN (…)`, so an
application and a matching run see the same facts.

Each fact is one query returning only the enterprises it is true or known for (sparse), joined
onto the enterprise ids: a qualification that is not recorded is false; a figure that was not
reported is null (unknown), and a rule that needs it does not pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl
from django.db.models import F, Sum
from django.utils.translation import gettext_lazy as _

from gaoxin.indicators.definitions import INDUSTRIAL_SECTIONS, above_scale_query, fen_expr
from gaoxin.indicators.engine import REVISED, query_frame
from gaoxin.policies.models import InterestPayment
from gaoxin.registry.models import Enterprise, Qualification
from gaoxin.registry.selectors import recognitions_before, recognitions_in
from gaoxin.reports.catalogue import SCI_ANNUAL
from gaoxin.reports.models import ReportFact

K = Qualification.Kind
ID = {"enterprise_id": pl.Int64}

FLAGS = (
    "is_industrial",
    "in_chain",
    "above_scale",
    "above_scale_last_year",
    "hte_recognised",
    "hte_first_time",
    "gazelle_recognised",
    "innovation_team",
    "tech_sme",
    "hte_valid",
)
AMOUNTS = ("rd_spend", "rd_spend_last_year", "revenue", "interest_paid")
SCHEMA: Any = ID | {f: pl.Boolean for f in FLAGS} | {a: pl.Int64 for a in AMOUNTS}
LABELS = {
    "is_industrial": _("工业企业(采矿业、制造业、电力热力燃气及水)"),
    "in_chain": _("属于园区产业链"),
    "above_scale": _("当年为规上工业企业"),
    "above_scale_last_year": _("上年为规上工业企业"),
    "hte_recognised": _("当年认定为高新技术企业"),
    "hte_first_time": _("首次认定为高新技术企业"),
    "gazelle_recognised": _("当年认定为瞪羚企业"),
    "innovation_team": _("当年认定高层次创新团队"),
    "tech_sme": _("当年为有效期内的科技型中小企业"),
    "hte_valid": _("当年为有效期内的高新技术企业"),
    "rd_spend": _("研发经费内部支出(元)"),
    "rd_spend_last_year": _("上年研发经费内部支出(元)"),
    "revenue": _("营业收入(元)"),
    "interest_paid": _("当年实际支付贷款利息(元)"),
}


def qualifications_valid_in(kind: str, year: int) -> Any:
    """Qualifications for `kind` valid on at least one day of `year` (an HTE certificate from
    2017 still counts in 2019), unlike `recognitions_in`, which asks when it was granted."""
    return Qualification.objects.filter(
        kind=kind,
        recognised_on__lte=dt.date(year, 12, 31),
        valid_until__gte=dt.date(year, 1, 1),
    )


def enterprise_facts(year: int, enterprise_ids: Sequence[int] | None = None) -> pl.DataFrame:
    """One row per enterprise (all operating and other registered enterprises, or the given
    ones) with every fact in SCHEMA for `year`."""

    def only(qs: Any, field: str = "enterprise_id") -> Any:
        return qs if enterprise_ids is None else qs.filter(**{f"{field}__in": enterprise_ids})

    def ids(qs: Any, field: str = "enterprise_id") -> pl.DataFrame:
        return query_frame(only(qs, field).values_list(field).distinct(), ID)

    enterprises = only(Enterprise.objects.all(), "pk")
    frame = query_frame(enterprises.values_list("pk"), ID)
    flags: dict[str, pl.DataFrame] = {
        "is_industrial": ids(
            Enterprise.objects.filter(industry__section__in=INDUSTRIAL_SECTIONS), "pk"
        ),
        "in_chain": ids(Enterprise.objects.filter(chain__isnull=False), "pk"),
        "above_scale": ids(above_scale_query(year, REVISED)),
        "above_scale_last_year": ids(above_scale_query(year - 1, REVISED)),
        "hte_recognised": ids(recognitions_in(K.HIGH_TECH, year)),
        "gazelle_recognised": ids(recognitions_in(K.GAZELLE, year)),
        "innovation_team": ids(recognitions_in(K.INNOVATION_TEAM, year)),
        "tech_sme": ids(qualifications_valid_in(K.TECH_SME, year)),
        "hte_valid": ids(qualifications_valid_in(K.HIGH_TECH, year)),
    }
    earlier_hte = ids(recognitions_before(K.HIGH_TECH, year))
    flags["hte_first_time"] = flags["hte_recognised"].join(
        earlier_hte, on="enterprise_id", how="anti"
    )
    for name, members in flags.items():
        frame = frame.with_columns(
            pl.col("enterprise_id").is_in(members["enterprise_id"].implode()).alias(name)
        )

    def science(y: int, **columns: str) -> pl.DataFrame:
        qs = only(ReportFact.objects.filter(form_code=SCI_ANNUAL, year=y, basis=REVISED))
        # Annotations may not reuse a field's name: read as f_<alias>, named after.
        qs = qs.annotate(**{f"f_{alias}": fen_expr(F(source)) for alias, source in columns.items()})
        return query_frame(
            qs.values_list("enterprise_id", *(f"f_{alias}" for alias in columns)),
            ID | dict.fromkeys(columns, pl.Int64),
        )

    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    interest = only(
        InterestPayment.objects.filter(paid_on__range=(start, end)), "loan__enterprise_id"
    )
    paid = query_frame(
        interest.values("loan__enterprise_id")
        .annotate(total=Sum("amount_fen"))
        .values_list("loan__enterprise_id", "total"),
        ID | {"interest_paid": pl.Int64},
    )
    for part in (
        science(year, rd_spend="rd_spend", revenue="revenue"),
        science(year - 1, rd_spend_last_year="rd_spend"),
        paid,
    ):
        frame = frame.join(part, on="enterprise_id", how="left")
    return frame.select(list(SCHEMA)).cast(SCHEMA).sort("enterprise_id")


def facts_of(enterprise: Enterprise, year: int) -> dict[str, Any]:
    """One enterprise's facts as a plain dict, for `Rule.decide` and for the record."""
    rows = enterprise_facts(year, [enterprise.pk]).to_dicts()
    return rows[0] if rows else {}
