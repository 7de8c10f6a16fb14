"""Policies, their measures (current rule version, parameters, budgets) and the what-if, as
JSON. Same permissions as the pages: staff who may read policies (the what-if writes nothing,
so readers may run it too). Everything else answers 404."""

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from gaoxin.accounts.roles import Cap
from gaoxin.core.access import require
from gaoxin.policies import selectors
from gaoxin.policies.models import Policy

router = Router(tags=["policies"])


class BudgetOut(Schema):
    year: int
    amount_fen: int


class MeasureOut(Schema):
    id: int
    code: str
    name: str
    cap_fen: int | None
    version: int
    version_id: str
    rule: str
    params: dict[str, int]
    budgets: list[BudgetOut]


class PolicyOut(Schema):
    id: int
    title: str
    issuer: str
    doc_number: str
    effective_from: str
    effective_to: str | None
    status: str
    measures: list[MeasureOut]


class WhatIfQuery(Schema):
    year: int


class WhatIfOut(Schema):
    measure_id: int
    code: str
    name: str
    version: int
    beneficiaries: int
    total_fen: int
    budget_fen: int | None
    remaining_fen: int | None
    over_budget: bool
    amount_set_by_reviewer: bool


def _out(policy: Policy) -> PolicyOut:
    measures = []
    for m in policy.measures.all():
        version = m.current()
        measures.append(
            MeasureOut(
                id=m.pk,
                code=m.code,
                name=m.name,
                cap_fen=m.cap_fen,
                version=version.number,
                version_id=version.version,
                rule=version.rule,
                params=version.params,
                budgets=[BudgetOut(year=b.year, amount_fen=b.amount_fen) for b in m.budgets.all()],
            )
        )
    return PolicyOut(
        id=policy.pk,
        title=policy.title,
        issuer=policy.issuer,
        doc_number=policy.doc_number,
        effective_from=policy.effective_from.isoformat(),
        effective_to=policy.effective_to.isoformat() if policy.effective_to else None,
        status=policy.status,
        measures=measures,
    )


def _policies() -> object:
    return Policy.objects.prefetch_related("measures__versions", "measures__budgets")


@router.get("", response=list[PolicyOut], summary="Policies with their measures")
def policy_list(request: HttpRequest) -> list[PolicyOut]:
    require(request.user, Cap.POLICIES_VIEW)
    return [_out(p) for p in _policies().all()]  # type: ignore[attr-defined]


class PreviewOut(Schema):
    policy_id: int
    policy: str
    measure_id: int
    measure: str
    code: str
    version: int
    eligible: bool
    amount_fen: int
    amount_set_by_reviewer: bool
    inputs: dict[str, int | bool | None]


@router.get(
    "/preview",
    response=list[PreviewOut],
    summary="For the calling enterprise: each published measure, whether it qualifies, the "
    "amount the rule computes and the facts used",
)
def preview(request: HttpRequest, q: Query[WhatIfQuery]) -> list[PreviewOut]:
    from gaoxin.core.access import get_enterprise_for_user

    require(request.user, Cap.POLICIES_OWN)
    enterprise_id = getattr(request.user, "enterprise_id", None)
    if not enterprise_id:
        raise Http404
    enterprise = get_enterprise_for_user(request.user, enterprise_id)
    return [
        PreviewOut(
            policy_id=r.policy.pk,
            policy=r.policy.title,
            measure_id=r.measure.pk,
            measure=r.measure.name,
            code=r.measure.code,
            version=r.version.number,
            eligible=r.eligible,
            amount_fen=r.amount_fen,
            amount_set_by_reviewer=r.reviewer_sets_amount,
            inputs=r.inputs,  # type: ignore[arg-type]
        )
        for r in selectors.preview_for(enterprise, q.year)
    ]


@router.get("/{policy_id}", response=PolicyOut, summary="One policy with its measures")
def policy_detail(request: HttpRequest, policy_id: int) -> PolicyOut:
    require(request.user, Cap.POLICIES_VIEW)
    return _out(get_object_or_404(_policies(), pk=policy_id))  # type: ignore[arg-type]


@router.get(
    "/{policy_id}/what-if",
    response=list[WhatIfOut],
    summary="Each measure over every enterprise with current data, against its budget",
)
def what_if(request: HttpRequest, policy_id: int, q: Query[WhatIfQuery]) -> list[WhatIfOut]:
    require(request.user, Cap.POLICIES_VIEW)  # a read, as on the policy page
    policy = get_object_or_404(Policy, pk=policy_id)
    return [
        WhatIfOut(
            measure_id=r.measure.pk,
            code=r.measure.code,
            name=r.measure.name,
            version=r.version.number,
            beneficiaries=r.beneficiaries,
            total_fen=r.total_fen,
            budget_fen=r.budget_fen,
            remaining_fen=r.remaining_fen,
            over_budget=r.over_budget,
            amount_set_by_reviewer=r.reviewer_sets_amount,
        )
        for r in selectors.what_if(policy, q.year)
    ]
