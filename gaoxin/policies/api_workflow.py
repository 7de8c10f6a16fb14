"""Applications, their review and payment, proactive matching runs and the disbursement report,
as JSON: the same services and permissions as the pages. Money-moving requests (approve,
schedule, pay, fail, reverse, confirm matches) honour an `Idempotency-Key` header."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from gaoxin.accounts.roles import Cap
from gaoxin.core.access import applications_visible_to, get_application_for_user, require
from gaoxin.core.idempotency import once
from gaoxin.policies import selectors, services
from gaoxin.policies.models import Application, Match, MatchRun, Measure, Policy

applications_router = Router(tags=["policy applications"])
matching_router = Router(tags=["policy matching"])
disbursements_router = Router(tags=["policy disbursements"])

S = Application.Status


class EventOut(Schema):
    at: dt.datetime
    from_status: str
    to_status: str
    actor: str | None
    reason: str


class PaymentOut(Schema):
    attempt: int
    batch: str | None
    status: str
    amount_fen: int
    paid_on: dt.date | None
    bank_reference: str
    failure_reason: str


class ApplicationOut(Schema):
    id: int
    enterprise_id: int
    enterprise: str
    policy_id: int
    measure_id: int
    measure: str
    code: str
    year: int
    source: str
    status: str
    status_label: str
    version: int
    version_id: str
    facts: dict[str, Any]
    eligible: bool
    computed_fen: int
    amount_fen: int | None
    statement: str
    account_bank: str
    account_name: str
    account_no: str
    reason: str
    notice_id: int | None
    events: list[EventOut]
    payments: list[PaymentOut]


def _out(a: Application) -> ApplicationOut:
    return ApplicationOut(
        id=a.pk,
        enterprise_id=a.enterprise_id,
        enterprise=a.enterprise.name,
        policy_id=a.measure.policy_id,
        measure_id=a.measure_id,
        measure=a.measure.name,
        code=a.measure.code,
        year=a.year,
        source=a.source,
        status=a.status,
        status_label=str(a.get_status_display()),
        version=a.version.number,
        version_id=a.version.version,
        facts=a.facts,
        eligible=a.eligible,
        computed_fen=a.computed_fen,
        amount_fen=a.amount_fen,
        statement=a.statement,
        account_bank=a.account_bank,
        account_name=a.account_name,
        account_no=a.account_no,
        reason=a.reason,
        notice_id=a.notice_id,
        events=[
            EventOut(
                at=e.at,
                from_status=e.from_status,
                to_status=e.to_status,
                actor=str(e.actor) if e.actor else None,
                reason=e.reason,
            )
            for e in a.events.all()
        ],
        payments=[
            PaymentOut(
                attempt=p.attempt,
                batch=p.batch.number if p.batch else None,
                status=p.status,
                amount_fen=p.amount_fen,
                paid_on=p.paid_on,
                bank_reference=p.bank_reference,
                failure_reason=p.failure_reason,
            )
            for p in sorted(a.payments.all(), key=lambda p: p.attempt)
        ],
    )


def _fresh(request: HttpRequest, pk: int) -> ApplicationOut:
    return _out(get_application_for_user(request.user, pk))


class ListQuery(Schema):
    status: str | None = None
    year: int | None = None
    code: str | None = None
    limit: int = 100
    offset: int = 0


@applications_router.get("", response=list[ApplicationOut], summary="Applications (paged)")
def application_list(request: HttpRequest, q: Query[ListQuery]) -> list[ApplicationOut]:
    if not (request.user.can(Cap.POLICIES_VIEW) or request.user.can(Cap.POLICIES_OWN)):  # type: ignore[union-attr]
        raise Http404
    qs = applications_visible_to(request.user).select_related("enterprise", "measure", "version")
    if q.status:
        qs = qs.filter(status=q.status)
    if q.year:
        qs = qs.filter(year=q.year)
    if q.code:
        qs = qs.filter(measure__code=q.code)
    limit, offset = max(1, min(q.limit, 500)), max(0, q.offset)
    rows = qs.order_by("-pk").prefetch_related("events__actor", "payments__batch")[
        offset : offset + limit
    ]
    return [_out(a) for a in rows]


class StartIn(Schema):
    measure_id: int
    year: int


@applications_router.post(
    "",
    response={201: ApplicationOut},
    summary="For the calling enterprise: start an application, pre-filled from the zone's data",
)
def application_start(request: HttpRequest, payload: StartIn) -> Status:
    require(request.user, Cap.POLICIES_OWN)
    enterprise = getattr(request.user, "enterprise", None)
    if enterprise is None:
        raise Http404
    measure = get_object_or_404(
        Measure, pk=payload.measure_id, policy__status=Policy.Status.PUBLISHED
    )
    application = services.application_start(
        enterprise=enterprise, measure=measure, year=payload.year, acting_user=request.user
    )
    return Status(201, _fresh(request, application.pk))


@applications_router.get("/{application_id}", response=ApplicationOut, summary="One application")
def application_detail(request: HttpRequest, application_id: int) -> ApplicationOut:
    if not (request.user.can(Cap.POLICIES_VIEW) or request.user.can(Cap.POLICIES_OWN)):  # type: ignore[union-attr]
        raise Http404
    return _fresh(request, application_id)


def _own(request: HttpRequest, pk: int) -> Application:
    require(request.user, Cap.POLICIES_OWN)
    application = get_application_for_user(request.user, pk)
    if application.enterprise_id != getattr(request.user, "enterprise_id", None):
        raise Http404
    return application


class EditIn(Schema):
    statement: str | None = None
    account_bank: str | None = None
    account_name: str | None = None
    account_no: str | None = None


@applications_router.patch(
    "/{application_id}", response=ApplicationOut, summary="The enterprise edits its draft"
)
def application_edit(request: HttpRequest, application_id: int, payload: EditIn) -> ApplicationOut:
    application = _own(request, application_id)
    data = {k: v for k, v in payload.dict().items() if v is not None}
    services.application_update(application=application, data=data, acting_user=request.user)
    return _fresh(request, application_id)


@applications_router.post(
    "/{application_id}/submit",
    response=ApplicationOut,
    summary="The enterprise submits (for a match: confirms its receiving account)",
)
def application_submit(request: HttpRequest, application_id: int) -> ApplicationOut:
    application = _own(request, application_id)
    services.application_submit(application=application, acting_user=request.user)
    return _fresh(request, application_id)


class ReviewIn(Schema):
    decision: str  # pass | return | reject
    reason: str = ""
    amount_fen: int | None = None


@applications_router.post(
    "/{application_id}/review", response=ApplicationOut, summary="Department review"
)
def application_review(
    request: HttpRequest, application_id: int, payload: ReviewIn
) -> ApplicationOut:
    require(request.user, Cap.POLICIES_REVIEW)
    application = get_application_for_user(request.user, application_id)
    if payload.decision == "pass":
        services.application_pass(
            application=application,
            amount_fen=payload.amount_fen,
            reason=payload.reason,
            acting_user=request.user,
        )
    elif payload.decision == "return":
        services.application_return(
            application=application, reason=payload.reason, acting_user=request.user
        )
    elif payload.decision == "reject":
        services.application_reject(
            application=application, reason=payload.reason, acting_user=request.user
        )
    else:
        raise ValidationError({"decision": _("审核结果应为 pass、return 或 reject")})
    return _fresh(request, application_id)


class ObjectionIn(Schema):
    objector: str
    content: str
    received_on: dt.date


class ObjectionOut(Schema):
    id: int
    objector: str
    content: str
    received_on: dt.date
    upheld: bool | None
    resolution: str


@applications_router.post(
    "/{application_id}/objections",
    response={201: ObjectionOut},
    summary="Record an objection received during the public notice",
)
def objection_record(request: HttpRequest, application_id: int, payload: ObjectionIn) -> Status:
    require(request.user, Cap.POLICIES_APPROVE)
    application = get_application_for_user(request.user, application_id)
    objection = services.objection_record(
        application=application,
        objector=payload.objector,
        content=payload.content,
        received_on=payload.received_on,
        acting_user=request.user,
    )
    return Status(201, objection)


class ResolveIn(Schema):
    upheld: bool
    resolution: str


@applications_router.post(
    "/{application_id}/objections/{objection_id}/resolve",
    response=ObjectionOut,
    summary="Resolve an objection (upheld: the application is not supported)",
)
def objection_resolve(
    request: HttpRequest, application_id: int, objection_id: int, payload: ResolveIn
) -> Any:
    require(request.user, Cap.POLICIES_APPROVE)
    application = get_application_for_user(request.user, application_id)
    objection = get_object_or_404(application.objections, pk=objection_id)
    return services.objection_resolve(
        objection=objection,
        upheld=payload.upheld,
        resolution=payload.resolution,
        acting_user=request.user,
    )


def _money_step(request: HttpRequest, application_id: int, cap: str, step: Any) -> Status:
    """A money-moving step: capability, scoped fetch, the service, and the Idempotency-Key."""
    require(request.user, cap)
    application = get_application_for_user(request.user, application_id)

    def run() -> tuple[int, Any]:
        step(application)
        return 200, _fresh(request, application_id).model_dump(mode="json")

    status, body = once(request, run)
    return Status(status, body)


@applications_router.post(
    "/{application_id}/approve",
    response={200: ApplicationOut, 409: dict, 422: dict},
    summary="Approve after the notice ended: commits the amount against the budget",
)
def application_approve(request: HttpRequest, application_id: int) -> Status:
    return _money_step(
        request,
        application_id,
        Cap.POLICIES_APPROVE,
        lambda a: services.application_approve(application=a, acting_user=request.user),
    )


@applications_router.post(
    "/{application_id}/schedule",
    response={200: ApplicationOut, 409: dict, 422: dict},
    summary="Schedule an approved (or failed) application for payment, in a batch of its own",
)
def application_schedule(request: HttpRequest, application_id: int) -> Status:
    return _money_step(
        request,
        application_id,
        Cap.POLICIES_PAY,
        lambda a: services.payment_schedule(applications=[a], acting_user=request.user),
    )


class PayIn(Schema):
    paid_on: dt.date
    bank_reference: str = ""


@applications_router.post(
    "/{application_id}/pay",
    response={200: ApplicationOut, 409: dict, 422: dict},
    summary="Record that the bank paid a scheduled application (exactly once)",
)
def application_pay(request: HttpRequest, application_id: int, payload: PayIn) -> Status:
    key = (request.headers.get("Idempotency-Key") or "").strip() or None
    return _money_step(
        request,
        application_id,
        Cap.POLICIES_PAY,
        lambda a: services.payment_execute(
            application=a,
            paid_on=payload.paid_on,
            bank_reference=payload.bank_reference,
            idempotency_key=f"api:{request.user.pk}:{key}" if key else None,
            acting_user=request.user,
        ),
    )


class ReasonIn(Schema):
    reason: str


@applications_router.post(
    "/{application_id}/fail",
    response={200: ApplicationOut, 409: dict, 422: dict},
    summary="Record that the bank did not pay a scheduled application",
)
def application_fail(request: HttpRequest, application_id: int, payload: ReasonIn) -> Status:
    return _money_step(
        request,
        application_id,
        Cap.POLICIES_PAY,
        lambda a: services.payment_fail(
            application=a, reason=payload.reason, acting_user=request.user
        ),
    )


@applications_router.post(
    "/{application_id}/reverse",
    response={200: ApplicationOut, 409: dict, 422: dict},
    summary="Reverse a recorded payment (the money came back)",
)
def application_reverse(request: HttpRequest, application_id: int, payload: ReasonIn) -> Status:
    return _money_step(
        request,
        application_id,
        Cap.POLICIES_PAY,
        lambda a: services.payment_reverse(
            application=a, reason=payload.reason, acting_user=request.user
        ),
    )


@applications_router.post(
    "/{application_id}/cancel",
    response={200: ApplicationOut, 409: dict, 422: dict},
    summary="Cancel an approved (or failed) application: the commitment goes back to the budget",
)
def application_cancel(request: HttpRequest, application_id: int, payload: ReasonIn) -> Status:
    return _money_step(
        request,
        application_id,
        Cap.POLICIES_APPROVE,
        lambda a: services.application_cancel(
            application=a, reason=payload.reason, acting_user=request.user
        ),
    )


# --- matching runs --------------------------------------------------------------------------------


class RunIn(Schema):
    year: int
    measure_code: str | None = None


class RunOut(Schema):
    id: int
    year: int
    enterprises: int
    matches: int
    total_fen: int
    snapshot_sha256: str
    seconds: float
    versions: list[str]


class MatchOut(Schema):
    id: int
    enterprise_id: int
    enterprise: str
    measure_id: int
    code: str
    amount_fen: int
    facts: dict[str, Any]
    status: str
    note: str


def _run_out(run: MatchRun) -> RunOut:
    return RunOut(
        id=run.pk,
        year=run.year,
        enterprises=run.enterprises,
        matches=run.matches,
        total_fen=run.total_fen,
        snapshot_sha256=run.snapshot_sha256,
        seconds=run.seconds,
        versions=[v.version for v in run.versions.all()],
    )


@matching_router.get("", response=list[RunOut], summary="Recorded matching runs")
def run_list(request: HttpRequest) -> list[RunOut]:
    require(request.user, Cap.POLICIES_VIEW)
    return [_run_out(r) for r in MatchRun.objects.prefetch_related("versions")[:100]]


@matching_router.post(
    "", response={201: RunOut}, summary="Run proactive matching (免申即享) for a year and record it"
)
def run_create(request: HttpRequest, payload: RunIn) -> Status:
    require(request.user, Cap.POLICIES_APPROVE)
    run = services.match_run(year=payload.year, code=payload.measure_code, acting_user=request.user)
    return Status(201, _run_out(run))


class MatchQuery(Schema):
    status: str | None = None
    limit: int = 500
    offset: int = 0


@matching_router.get("/{run_id}/matches", response=list[MatchOut], summary="A run's matches")
def run_matches(request: HttpRequest, run_id: int, q: Query[MatchQuery]) -> list[MatchOut]:
    require(request.user, Cap.POLICIES_VIEW)
    run = get_object_or_404(MatchRun, pk=run_id)
    qs = run.results.select_related("enterprise", "measure").order_by("pk")
    if q.status:
        qs = qs.filter(status=q.status)
    limit, offset = max(1, min(q.limit, 5000)), max(0, q.offset)
    return [
        MatchOut(
            id=m.pk,
            enterprise_id=m.enterprise_id,
            enterprise=m.enterprise.name,
            measure_id=m.measure_id,
            code=m.measure.code,
            amount_fen=m.amount_fen,
            facts=m.facts,
            status=m.status,
            note=m.note,
        )
        for m in qs[offset : offset + limit]
    ]


class VerifyOut(Schema):
    same: bool
    snapshot_intact: bool
    missing: int
    extra: int
    changed: int


@matching_router.get(
    "/{run_id}/verify", response=VerifyOut, summary="Evaluate the run again on its snapshot"
)
def run_verify(request: HttpRequest, run_id: int) -> Any:
    require(request.user, Cap.POLICIES_VIEW)
    return services.match_run_verify(get_object_or_404(MatchRun, pk=run_id))


class DecideIn(Schema):
    match_ids: list[int]
    decision: str = "confirm"  # confirm | dismiss
    reason: str = ""


class DecideOut(Schema):
    applications: list[int]
    dismissed: int


@matching_router.post(
    "/{run_id}/decide",
    response={200: DecideOut, 409: dict, 422: dict},
    summary="Confirm matches (they become applications awaiting the enterprise) or dismiss",
)
def run_decide(request: HttpRequest, run_id: int, payload: DecideIn) -> Status:
    require(request.user, Cap.POLICIES_APPROVE)
    run = get_object_or_404(MatchRun, pk=run_id)
    chosen = list(
        Match.objects.filter(run=run, pk__in=payload.match_ids).select_related("enterprise", "run")
    )

    def act() -> tuple[int, Any]:
        if payload.decision == "dismiss":
            n = services.match_dismiss(
                matches=chosen, reason=payload.reason, acting_user=request.user
            )
            return 200, {"applications": [], "dismissed": n}
        created = services.match_confirm(matches=chosen, acting_user=request.user)
        return 200, {"applications": [a.pk for a in created], "dismissed": 0}

    status, body = once(request, act)
    return Status(status, body)


# --- what was paid out ----------------------------------------------------------------------------


class DisbursementOut(Schema):
    policy_id: int
    policy: str
    doc_number: str
    measure_id: int
    measure: str
    budget_year: int
    paid_fen: int
    count: int


class YearQuery(Schema):
    year: int


@disbursements_router.get(
    "",
    response=list[DisbursementOut],
    summary="Money paid out in a year (by payment date), per policy and measure, from the ledger",
)
def disbursements(request: HttpRequest, q: Query[YearQuery]) -> list[Any]:
    require(request.user, Cap.POLICIES_VIEW)
    return selectors.disbursements(q.year)  # type: ignore[return-value]
