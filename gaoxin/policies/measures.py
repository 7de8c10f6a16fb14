"""The measures Gaoxin ships, as rules over an enterprise's facts for a year (ADR 0007).

Every amount and threshold is a parameter with a default from the issue; a policy version sets
its own. Facts are named columns (all money in fen):

    is_industrial            GB/T 4754 section B, C or D
    above_scale              an above-scale industrial enterprise this year (list or rule)
    above_scale_last_year    the same for last year
    rd_spend, rd_spend_last_year, revenue
                             intramural R&D spending (this year and last) and operating
                             revenue, from the annual science and technology report
    in_chain                 belongs to one of the zone's industry chains
    interest_paid            interest actually paid this year on registered loans
    hte_recognised, hte_first_time
                             recognised as a high-tech enterprise this year; for the first time
    gazelle_recognised       recognised as a gazelle enterprise this year
    innovation_team          has a high-level innovation team recognised this year
    tech_sme, hte_valid      a tech SME (科技型中小企业) or a high-tech enterprise whose
                             qualification is valid on some day of the year
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

from gaoxin.policies.rules import Rule, col, least, param, when

YUAN = 100  # fen


@dataclass(frozen=True)
class MeasureSpec:
    code: str
    name: Any
    description: Any
    rule: Rule
    defaults: dict[str, int]
    # Amounts set per case by the reviewer within [min_fen, max_fen]; the rule's amount is the
    # upper end, which the what-if counts as the budget at risk.
    reviewer_sets_amount: bool = False
    # Paid as innovation vouchers the zone issues (and settles with providers), not through
    # applications: matching runs and applications leave such measures out.
    issued_as_voucher: bool = False
    labels: dict[str, Any] = field(default_factory=dict)


NEW_ABOVE_SCALE = MeasureSpec(
    code="new_above_scale",
    name=_("新上规奖励"),
    description=_("当年为规模以上工业企业、上年不是的工业企业,给予一次性奖励。"),
    rule=Rule(
        eligible=col("is_industrial") & col("above_scale") & ~col("above_scale_last_year"),
        amount=param("reward_fen"),
    ),
    defaults={"reward_fen": 100_000 * YUAN},
    labels={"reward_fen": _("奖励金额(元)")},
)

RD_SUBSIDY = MeasureSpec(
    code="rd_subsidy",
    name=_("研发投入补助"),
    description=_(
        "研发经费内部支出占营业收入比重不低于3%、且较上年增长的企业,按增量的10%给予补助,"
        "每家每年最高200万元。"
    ),
    rule=Rule(
        eligible=(col("rd_spend") * 100 >= col("revenue") * param("min_intensity_pct"))
        & (col("rd_spend") > col("rd_spend_last_year")),
        amount=least(
            (col("rd_spend") - col("rd_spend_last_year")) * param("rate_pct") // 100,
            param("cap_fen"),
        ),
    ),
    defaults={"min_intensity_pct": 3, "rate_pct": 10, "cap_fen": 2_000_000 * YUAN},
    labels={
        "min_intensity_pct": _("研发强度下限(%)"),
        "rate_pct": _("补助比例(%)"),
        "cap_fen": _("单家年度上限(元)"),
    },
)

LOAN_INTEREST = MeasureSpec(
    code="loan_interest",
    name=_("贷款贴息"),
    description=_("园区产业链企业当年实际支付的登记贷款利息,按50%给予贴息,每家每年最高50万元。"),
    rule=Rule(
        eligible=col("in_chain") & (col("interest_paid") > 0),
        amount=least(col("interest_paid") * param("share_pct") // 100, param("cap_fen")),
    ),
    defaults={"share_pct": 50, "cap_fen": 500_000 * YUAN},
    labels={"share_pct": _("贴息比例(%)"), "cap_fen": _("单家年度上限(元)")},
)

HTE_RECOGNITION = MeasureSpec(
    code="hte_recognition",
    name=_("高新技术企业认定奖励"),
    description=_("当年首次认定为高新技术企业的奖励20万元,重新认定的奖励10万元。"),
    rule=Rule(
        eligible=col("hte_recognised"),
        amount=when(col("hte_first_time"), param("first_fen"), param("again_fen")),
    ),
    defaults={"first_fen": 200_000 * YUAN, "again_fen": 100_000 * YUAN},
    labels={"first_fen": _("首次认定奖励(元)"), "again_fen": _("重新认定奖励(元)")},
)

GAZELLE = MeasureSpec(
    code="gazelle",
    name=_("瞪羚企业奖励"),
    description=_("当年新认定的瞪羚企业,由审核人在公布的金额区间内逐家核定奖励金额。"),
    rule=Rule(eligible=col("gazelle_recognised"), amount=param("max_fen")),
    defaults={"min_fen": 100_000 * YUAN, "max_fen": 500_000 * YUAN},
    reviewer_sets_amount=True,
    labels={"min_fen": _("区间下限(元)"), "max_fen": _("区间上限(元)")},
)

INNOVATION_TEAM = MeasureSpec(
    code="innovation_team",
    name=_("高层次创新团队扶持"),
    description=_("当年认定的高层次创新团队所在企业,由审核人在公布的金额区间内核定扶持金额。"),
    rule=Rule(eligible=col("innovation_team"), amount=param("max_fen")),
    defaults={"min_fen": 500_000 * YUAN, "max_fen": 5_000_000 * YUAN},
    reviewer_sets_amount=True,
    labels={"min_fen": _("区间下限(元)"), "max_fen": _("区间上限(元)")},
)

INNOVATION_VOUCHER = MeasureSpec(
    code="innovation_voucher",
    name=_("创新券"),
    description=_(
        "当年为有效期内的科技型中小企业或高新技术企业,可领取创新券(每家每年10万元),"
        "向登记的服务机构购买科技服务时抵扣,由园区与服务机构结算。"
    ),
    rule=Rule(eligible=col("tech_sme") | col("hte_valid"), amount=param("voucher_fen")),
    defaults={"voucher_fen": 100_000 * YUAN},
    issued_as_voucher=True,
    labels={"voucher_fen": _("创新券面额(元)")},
)

SHIPPED: dict[str, MeasureSpec] = {
    m.code: m
    for m in (
        NEW_ABOVE_SCALE,
        RD_SUBSIDY,
        LOAN_INTEREST,
        HTE_RECOGNITION,
        GAZELLE,
        INNOVATION_TEAM,
        INNOVATION_VOUCHER,
    )
}

FACTS = sorted(set().union(*(m.rule.columns() for m in SHIPPED.values())))

VOUCHER_CODES = frozenset(code for code, spec in SHIPPED.items() if spec.issued_as_voucher)
