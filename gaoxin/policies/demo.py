"""The demo zone's support policy and its money, written through the services (so with audit
rows and ledger entries). Idempotent: an existing policy of the same document number is left
as it is.

The policy (issued in 2019, applying from 2018) has the shipped measures with their default
parameters and yearly budgets. Its 2018 round is complete: a proactive matching run over the
2018 records, every match confirmed, reviewed, publicly noticed in March 2019, approved and
paid in April-June 2019, with the high-level innovation teams recognised in 2018 granted
amounts by the reviewer. What the ledger paid out in 2019 is the source figure F10
("2019年兑现科技创新扶持资金1亿多元"). The 2019 round is in progress, so every step of the
workflow has something to show: matched, awaiting the enterprises, in review, in notice."""

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
    "innovation_voucher": 300,
}
CAPS_WAN = {"gazelle": 50, "innovation_team": 500}
# 2018 was the year of the high-level innovation teams (高层次人才创新创业团队).
BUDGETS_2018_WAN = {"innovation_team": 10_000}
# The support the reviewer set for each innovation team recognised in 2018 (the registry
# demo's plan recognises them), in 万元.
TEAM_GRANTS_WAN = (500, 500, 500, 500, 500, 480, 480, 460, 450, 450, 450)  # fmt: skip
TEAM_GRANTS_WAN += (420, 400, 400, 380, 360, 350, 350, 320, 300, 300, 250)  # fmt: skip


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
            "effective_from": dt.date(2018, 1, 1),
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
        for year in (2018, 2019, 2020, 2021):
            amount = BUDGETS_2018_WAN.get(code, budget) if year == 2018 else budget
            services.budget_set(
                measure=measure,
                year=year,
                amount_fen=amount * WAN,
                acting_user=actor,
                posted_on=dt.date(year, 1, 1),
            )
    services.policy_set_status(policy=policy, status=Policy.Status.PUBLISHED, acting_user=actor)
    _round_2018(policy, actor)
    _round_2019(policy, actor)
    _vouchers_2019(policy)
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


def _user(username: str) -> Any:
    from gaoxin.accounts.models import User

    return User.objects.filter(username=username).first()


def _confirm_accounts(applications: list[Any]) -> None:
    """The enterprises confirm their receiving accounts (the demo enterprise's clerk for its
    own; the others have no demo account, so the confirmation is the system's)."""
    qiye = _user("qiye")
    for i, application in enumerate(applications):
        clerk = (
            qiye if qiye is not None and qiye.enterprise_id == application.enterprise_id else None
        )
        services.application_update(
            application=application,
            data={
                "account_bank": (
                    "中国工商银行柳州分行",
                    "柳州银行高新支行",
                    "广西北部湾银行柳州分行",
                )[i % 3],
                "account_name": application.enterprise.name,
                "account_no": f"622205{i % 10}{(i * 7) % 10}{application.enterprise_id:08d}",
            },
            acting_user=clerk,
        )
        services.application_submit(application=application, acting_user=clerk)


def _review(applications: list[Any], reviewer: Any) -> None:
    teams = iter(TEAM_GRANTS_WAN)
    for application in applications:
        application.refresh_from_db()
        amount = None
        if application.measure.code == "innovation_team":
            amount = next(teams, 300) * WAN
        elif application.measure.code == "gazelle":
            amount = application.computed_fen
        services.application_pass(application=application, amount_fen=amount, acting_user=reviewer)


def _round_2018(policy: Policy, actor: Any) -> None:
    """2018's records matched in February 2019, noticed in March, paid April to June 2019."""
    keji, reviewer, payer = _user("keji"), _user("reviewer"), _user("caizheng")
    run = services.match_run(year=2018, acting_user=keji)
    applications = services.match_confirm(
        matches=run.results.filter(status="proposed").select_related("enterprise", "run"),
        acting_user=keji,
    )
    if not applications:  # a zone too small to match anything in 2018
        return
    _confirm_accounts(applications)
    _review(applications, reviewer)
    for application in applications:
        application.refresh_from_db()
    notice = services.notice_publish(
        policy=policy,
        year=2018,
        applications=applications,
        published_on=dt.date(2019, 3, 4),
        today=dt.date(2019, 3, 4),
        contact="柳州高新区科技局 0772-2655000",
        acting_user=keji,
    )
    approve_on = notice.ends_on + dt.timedelta(days=3)
    for application in applications:
        application.refresh_from_db()
        services.application_approve(application=application, acting_user=keji, today=approve_on)
    pay_days = (dt.date(2019, 4, 18), dt.date(2019, 5, 16), dt.date(2019, 6, 20))
    by_measure: dict[str, list[Any]] = {}
    for application in applications:
        application.refresh_from_db()
        by_measure.setdefault(application.measure.code, []).append(application)
    for i, (_code, group) in enumerate(sorted(by_measure.items())):
        batch = services.payment_schedule(
            applications=group, acting_user=payer, number=f"ZF2019-{i + 1:03d}"
        )
        for payment in batch.payments.select_related("application"):
            services.payment_execute(
                application=payment.application,
                paid_on=pay_days[i % len(pay_days)],
                bank_reference=f"LZ2019{payment.pk:06d}",
                acting_user=payer,
            )


def _round_2019(policy: Policy, actor: Any) -> None:
    """2019's round under way: matched in 2020; some awaiting the enterprise's account (the
    demo enterprise among them), some in review, some in notice."""
    keji, reviewer = _user("keji"), _user("reviewer")
    run = services.match_run(year=2019, acting_user=keji)
    proposed = list(
        run.results.filter(status="proposed")
        .select_related("enterprise", "run", "measure")
        .order_by("measure__order", "enterprise__uscc")
    )
    applications = services.match_confirm(
        matches=proposed[: len(proposed) * 2 // 3], acting_user=keji
    )
    # The demo enterprise's and ten others stay drafts awaiting the enterprise's account.
    rest = [a for a in applications if a.enterprise.name != DEMO_ENTERPRISE_NAME][10:]
    _confirm_accounts(rest)
    in_notice = [a for a in rest if a.measure.code in ("new_above_scale", "hte_recognition")]
    _review(in_notice, reviewer)
    for application in in_notice:
        application.refresh_from_db()
    if in_notice:
        services.notice_publish(
            policy=policy,
            year=2019,
            applications=in_notice,
            published_on=dt.date(2020, 4, 1),
            today=dt.date(2020, 4, 1),
            contact="柳州高新区科技局 0772-2655000",
            acting_user=keji,
        )


PROVIDERS = (
    ("广西柳州检验检测研究院有限公司", "91450200MA5K00014X", "检验检测、计量校准"),
    ("柳州市科技情报与知识产权服务中心", "12450200MB1D000251", "知识产权、科技查新"),
    ("广西智造工业设计有限公司", "91450200MA5K000366", "工业设计、研发设计"),
)
VOUCHERS_2019 = 20


def _vouchers_2019(policy: Policy) -> None:
    """Innovation vouchers of 2019: issued in March to tech-based SMEs and high-tech
    enterprises, most used at the three registered providers, settled in December."""
    from django.core.exceptions import ValidationError

    from gaoxin.policies.models import ServiceProvider
    from gaoxin.registry.models import Enterprise, Qualification

    keji, payer = _user("keji"), _user("caizheng")
    measure = policy.measures.filter(code="innovation_voucher").first()
    if measure is None:
        return
    providers = []
    for i, (name, uscc, scope) in enumerate(PROVIDERS):
        existing = ServiceProvider.objects.filter(uscc=uscc).first()
        providers.append(
            existing
            or services.provider_register(
                name=name,
                uscc=uscc,
                account_bank="柳州银行高新支行",
                account_name=name,
                account_no=f"62284502{i + 1:08d}",
                services=scope,
                acting_user=keji,
            )
        )
    candidates = (
        Enterprise.objects.filter(
            qualifications__kind__in=(Qualification.Kind.TECH_SME, Qualification.Kind.HIGH_TECH),
            qualifications__recognised_on__lte=dt.date(2019, 12, 31),
            qualifications__valid_until__gte=dt.date(2019, 1, 1),
        )
        .distinct()
        .order_by("uscc")
    )
    issued = []
    for enterprise in candidates:
        if len(issued) == VOUCHERS_2019:
            break
        try:
            issued.append(
                services.voucher_issue(
                    enterprise=enterprise,
                    measure=measure,
                    year=2019,
                    amount_fen=10 * WAN,
                    valid_from=dt.date(2019, 3, 1),
                    valid_to=dt.date(2019, 12, 31),
                    acting_user=keji,
                )
            )
        except ValidationError:
            continue  # the rule does not grant this one a voucher
    for i, voucher in enumerate(issued[: VOUCHERS_2019 * 7 // 10]):
        services.voucher_redeem(
            voucher=voucher,
            provider=providers[i % len(providers)],
            contract_no=f"FW-2019-{i + 1:03d}",
            service=PROVIDERS[i % len(PROVIDERS)][2].split("、")[0],
            amount_fen=(6 + i % 5) * WAN,
            redeemed_on=dt.date(2019, 6 + i % 5, 10),
            acting_user=keji,
        )
    for provider in providers:
        if provider.redemptions.filter(settlement__isnull=True).exists():
            services.settlement_create(
                provider=provider,
                paid_on=dt.date(2019, 12, 20),
                bank_reference=f"LZ2019JS{provider.pk:04d}",
                acting_user=payer,
            )
