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


LOANS = 24  # registered loans of chain enterprises, with interest paid twice a year
DEMO_ENTERPRISE_NAME = "柳州华信精密汽车零部件有限公司"  # the demo enterprise user's (qiye)


def load_policies(*, actor: Any = None) -> int:
    """Creates and publishes the demo policy, and registers demo loans, when they are not
    there; returns the number of policies created (0 or 1)."""
    if Policy.objects.filter(doc_number=DOC_NUMBER).exists():
        return 0
    _load_loans(actor)
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
    services.policy_set_status(policy=policy, status=Policy.Status.PUBLISHED, acting_user=actor)
    return 1


def _load_loans(actor: Any) -> None:
    """Deterministic loans for the first chain enterprises (the demo enterprise among them),
    so the 贷款贴息 measure has something to decide on."""
    from gaoxin.registry.models import Enterprise

    demo = Enterprise.objects.filter(name=DEMO_ENTERPRISE_NAME).first()
    others = Enterprise.objects.filter(chain__isnull=False).order_by("uscc")
    if demo is not None:
        others = others.exclude(pk=demo.pk)
    borrowers = ([demo] if demo is not None else []) + list(others[: LOANS - 1])
    for i, enterprise in enumerate(borrowers):
        principal_wan = 500 + 250 * (i % 8)
        rate_bp = 385 + 10 * (i % 6)
        loan = services.loan_register(
            enterprise=enterprise,
            bank=("中国工商银行柳州分行", "柳州银行", "广西北部湾银行")[i % 3],
            contract_no=f"LZGX-2019-{i + 1:03d}",
            principal_fen=principal_wan * WAN,
            annual_rate_bp=rate_bp,
            start_on=dt.date(2019, 1, 15),
            end_on=dt.date(2022, 1, 14),
            acting_user=actor,
        )
        half_year = principal_wan * WAN * rate_bp // 10_000 // 2
        for year in (2019, 2020, 2021):
            for month in (6, 12):
                services.interest_payment_record(
                    loan=loan,
                    paid_on=dt.date(year, month, 20),
                    amount_fen=half_year,
                    acting_user=actor,
                )
