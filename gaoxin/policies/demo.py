"""The demo zone's support policy: the shipped measures with their default parameters and
yearly budgets, written through the services (so with audit rows). Idempotent: an existing
policy of the same document number is left as it is."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gaoxin.policies import services
from gaoxin.policies.models import Policy

WAN = 10_000 * 100  # fen
DOC_NUMBER = "柳高管发〔2019〕8号"
# 万元 a year per measure; the science and innovation funds of 2019 came to just over 1亿.
BUDGETS_WAN = {
    "new_above_scale": 300,
    "rd_subsidy": 5_000,
    "loan_interest": 1_500,
    "hte_recognition": 1_200,
    "gazelle": 800,
    "innovation_team": 1_500,
}
CAPS_WAN = {"gazelle": 50, "innovation_team": 500}


def load_policies(*, actor: Any = None) -> int:
    """Creates the demo policy when it is not there; returns the number created (0 or 1)."""
    if Policy.objects.filter(doc_number=DOC_NUMBER).exists():
        return 0
    policy = services.policy_create(
        data={
            "title": "柳州高新区促进科技创新发展若干政策措施",
            "issuer": "柳州高新技术产业开发区管理委员会",
            "doc_number": DOC_NUMBER,
            "effective_from": dt.date(2019, 1, 1),
            "effective_to": dt.date(2021, 12, 31),
            "full_text": (
                "第一条 对新上规工业企业给予一次性奖励。\n"
                "第二条 对研发投入强度达到3%且较上年增长的企业,按增量给予补助。\n"
                "第三条 对园区产业链企业的银行贷款给予贴息。\n"
                "第四条 对新认定、重新认定的高新技术企业给予奖励。\n"
                "第五条 对新认定的瞪羚企业、高层次创新团队给予扶持。"
            ),
        },
        acting_user=actor,
    )
    for code, budget in BUDGETS_WAN.items():
        cap = CAPS_WAN.get(code)
        measure = services.measure_add(
            policy=policy, code=code, cap_fen=cap * WAN if cap else None, acting_user=actor
        )
        for year in (2019, 2020, 2021):
            services.budget_set(
                measure=measure, year=year, amount_fen=budget * WAN, acting_user=actor
            )
    return 1
