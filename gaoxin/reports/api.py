"""The statistical reports JSON API: the pages' permissions and services behind JSON.

An enterprise system (bearer token of an enterprise user) lists its periods, opens the report for
one, saves a draft, checks and submits values keyed by field key in the form's units; staff list
a period's worklist and review. Access goes through gaoxin.reports.access (404 for anything out
of scope); bodies are parsed after the access check, as in the registry API; refusals use the
422 shape {"detail": ..., "errors": [{"field": ..., "message": ...}]}.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from gaoxin.accounts.roles import Cap
from gaoxin.core.access import require
from gaoxin.core.api_bodies import body_schema as _body
from gaoxin.core.api_bodies import fail as _fail
from gaoxin.core.api_bodies import parse_body as _payload
from gaoxin.reports import checks, period_services, selectors, services
from gaoxin.reports.access import (
    can_fill,
    get_period_for_user,
    get_report_for_user,
    own_enterprise,
)
from gaoxin.reports.forms import status_choices
from gaoxin.reports.models import Report, ReportField, ReportForm, ReportPeriod, ReportStatus
from gaoxin.reports.schemas import (
    CheckOut,
    DraftIn,
    ErrorOut,
    FormOut,
    MyReportOut,
    NotFoundOut,
    OpenIn,
    PeriodIn,
    PeriodOut,
    ReasonIn,
    ReportOut,
    SubmitIn,
    ValuesIn,
    WorklistRowOut,
)

router = Router(tags=["reports"])


def _require_reader(user: Any) -> None:
    if not (user.is_authenticated and (can_fill(user) or user.can(Cap.REPORTS_VIEW_ALL))):
        raise Http404


def _json_values(fields: list[ReportField], stored: dict[str, Any]) -> dict[str, Any]:
    """Stored values in form units; decimals as strings, booleans and text as they are."""
    return {
        key: format(value, "f") if isinstance(value, Decimal) else value
        for key, value in selectors.in_form_units(fields, stored).items()
    }


def _report_out(report: Report) -> dict[str, Any]:
    fields = list(report.form.fields.all())
    today = timezone.localdate()
    return {
        "id": report.pk,
        "enterprise": report.enterprise,
        "period": report.period,
        "form": report.form,
        "status": report.status,
        "status_label": str(report.get_status_display()),
        "late": selectors.is_late(report.period, report.status, report.revision, today),
        "values": _json_values(fields, report.values),
        "findings": list(report.findings),
        "explanation": report.explanation,
        "return_reason": report.return_reason,
        "correction_reason": report.correction_reason,
        "revision": report.revision,
        "submitted_at": report.submitted_at,
        "reviewed_at": report.reviewed_at,
        "revisions": [
            {
                "number": r.number,
                "values": _json_values(fields, r.values),
                "findings": list(r.findings),
                "explanation": r.explanation,
                "correction_reason": r.correction_reason,
                "accepted_at": r.accepted_at,
                "accepted_by": str(r.accepted_by) if r.accepted_by else None,
            }
            for r in selectors.revisions_of(report)
        ],
    }


def _entered(report: Report, values: dict[str, Any]) -> dict[str, Any]:
    """The values sent, refusing keys the report's form does not have (a typo would otherwise
    read as a blank field)."""
    keys = set(report.form.fields.values_list("key", flat=True))
    unknown = sorted(set(values) - keys)
    if unknown:
        raise _fail(
            [
                {
                    "field": f"values.{k}",
                    "message": _("报表“%(form)s”没有此字段") % {"form": report.form.name},
                }
                for k in unknown
            ]
        )
    return {k: (str(v) if isinstance(v, float) else v) for k, v in values.items()}


def _for_fill(request: HttpRequest, report_id: int) -> Report:
    require(request.user, Cap.REPORTS_FILL)
    return get_report_for_user(request.user, report_id, for_fill=True)


# --- Reference: forms and periods --------------------------------------------------------------


@router.get("/forms", response={200: list[FormOut], 404: NotFoundOut}, summary="报表表式及字段")
def list_forms(request: HttpRequest) -> Any:
    """Every version of every form, with its fields (key, label with unit, kind, required)."""
    _require_reader(request.user)
    return list(ReportForm.objects.prefetch_related("fields").order_by("code", "version"))


@router.get("/periods", response={200: list[PeriodOut], 404: NotFoundOut}, summary="报告期列表")
def list_periods(request: HttpRequest, form_code: str = "") -> Any:
    _require_reader(request.user)
    if form_code:
        return list(selectors.periods_of(form_code))
    return list(ReportPeriod.objects.order_by("form_code", "-year", "-month"))


@router.post(
    "/periods",
    response={201: PeriodOut, 404: NotFoundOut, 422: ErrorOut},
    summary="新增报告期",
    openapi_extra=_body(PeriodIn),
)
def create_period(request: HttpRequest) -> Any:
    require(request.user, Cap.REPORTS_CONFIGURE)
    payload = _payload(request, PeriodIn)
    period = period_services.period_create(
        form_code=payload.form_code,
        year=payload.year,
        month=payload.month,
        due_on=payload.due_on,
        acting_user=request.user,
    )
    return Status(201, period)


# --- Staff: a period's worklist -----------------------------------------------------------------


class WorklistPage(Schema):
    items: list[WorklistRowOut]
    count: int


@router.get(
    "/periods/{int:period_id}/reports",
    response={200: WorklistPage, 404: NotFoundOut},
    summary="某报告期应报企业及报送状态(催报清单)",
)
def period_worklist(
    request: HttpRequest, period_id: int, status: str = "", page: int = 1, page_size: int = 50
) -> Any:
    """status: not_submitted/draft/submitted/returned/accepted, late (逾期未报) or empty."""
    require(request.user, Cap.REPORTS_VIEW_ALL)
    period = get_period_for_user(request.user, period_id)
    if status not in {value for value, _label in status_choices()}:
        raise _fail([{"field": "status", "message": _("状态取值无效")}])
    today = timezone.localdate()
    rows = selectors.worklist_filter(selectors.worklist(period), period, status, today)
    paginator = Paginator(rows, max(1, min(page_size, 200)))
    if page < 1 or page > paginator.num_pages or not paginator.count:
        return {"items": [], "count": paginator.count}
    items = [
        {
            "enterprise": e,
            "report_id": e.report_id,
            "status": e.report_status,
            "status_label": str(ReportStatus(e.report_status).label),
            "late": selectors.is_late(period, e.report_status, e.report_revision, today),
            "submitted_at": e.report_submitted_at,
            "contact_name": e.contact_name,
            "contact_phone": e.contact_phone,
        }
        for e in paginator.page(page).object_list
    ]
    return {"items": items, "count": paginator.count}


# --- The enterprise: my periods, open, draft, check, submit, correct ----------------------------


@router.get("/mine", response={200: list[MyReportOut], 404: NotFoundOut}, summary="本企业各期报表")
def my_reports(request: HttpRequest) -> Any:
    enterprise = own_enterprise(request.user)
    names = selectors.form_names()
    rows = selectors.enterprise_periods(enterprise.pk, timezone.localdate())
    return [
        {
            "period": row.period,
            "form_name": names.get(code, code),
            "report_id": row.report.pk if row.report else None,
            "status": row.status,
            "status_label": row.status_label,
            "late": row.late,
        }
        for code in names
        for row in rows.get(code, [])
    ]


@router.post(
    "/mine",
    response={200: ReportOut, 201: ReportOut, 404: NotFoundOut, 422: ErrorOut},
    summary="打开本企业某报告期的报表(首次打开时新建草稿)",
    openapi_extra=_body(OpenIn),
)
def open_report(request: HttpRequest) -> Any:
    enterprise = own_enterprise(request.user)
    payload = _payload(request, OpenIn)
    period = get_period_for_user(request.user, payload.period_id)
    existed = Report.objects.filter(enterprise=enterprise, period=period).exists()
    try:
        report = services.report_open(
            enterprise=enterprise, period=period, acting_user=request.user
        )
    except ReportForm.DoesNotExist as exc:
        raise Http404 from exc
    report = get_report_for_user(request.user, report.pk, for_fill=True)
    return Status(200 if existed else 201, _report_out(report))


@router.get(
    "/{int:report_id}",
    response={200: ReportOut, 404: NotFoundOut},
    summary="报表详情(数值按表式单位,含校验结果和历次修订)",
)
def get_report(request: HttpRequest, report_id: int) -> Any:
    return _report_out(get_report_for_user(request.user, report_id))


@router.put(
    "/{int:report_id}/draft",
    response={200: ReportOut, 404: NotFoundOut, 422: ErrorOut},
    summary="保存草稿(可含错误,报送时才拦截)",
    openapi_extra=_body(DraftIn),
)
def save_draft(request: HttpRequest, report_id: int) -> Any:
    report = _for_fill(request, report_id)
    payload = _payload(request, DraftIn)
    services.report_save(
        report=report,
        entered=_entered(report, payload.values),
        acting_user=request.user,
        explanation=payload.explanation,
    )
    return _report_out(report)


@router.post(
    "/{int:report_id}/check",
    response={200: CheckOut, 404: NotFoundOut, 422: ErrorOut},
    summary="校验数据(不保存)",
    openapi_extra=_body(ValuesIn),
)
def check_values(request: HttpRequest, report_id: int) -> Any:
    report = _for_fill(request, report_id)
    payload = _payload(request, ValuesIn)
    history = selectors.history_for(report)
    _values, findings = checks.check(
        report.form.fields.all(),
        _entered(report, payload.values),
        last_year=history.last_year,
        last_period=history.last_period,
        last_period_same_year=history.last_period_same_year,
    )
    return {
        "findings": [f.as_dict() for f in findings],
        "can_submit": not checks.has_hard(findings),
        "needs_explanation": checks.has_soft(findings),
    }


def _refusal(report: Report) -> list[dict[str, str]]:
    """Why a submission was refused, field by field, from the findings the service stored."""
    hard = [f for f in report.findings if f.get("level") == checks.HARD]
    if hard:
        return [{"field": f"values.{f['field']}", "message": f["message"]} for f in hard]
    errors = [
        {"field": f"values.{f['field']}", "message": f["message"]}
        for f in report.findings
        if f.get("level") == checks.SOFT
    ]
    errors.append({"field": "explanation", "message": _("数据波动较大,请填写情况说明后再报送")})
    return errors


@router.post(
    "/{int:report_id}/submit",
    response={200: ReportOut, 404: NotFoundOut, 422: ErrorOut},
    summary="报送(有错误或缺少必要的情况说明时拒绝,并保存为草稿)",
    openapi_extra=_body(SubmitIn),
)
def submit_report(request: HttpRequest, report_id: int) -> Any:
    report = _for_fill(request, report_id)
    payload = _payload(request, SubmitIn)
    entered = _entered(report, payload.values) if payload.values is not None else None
    try:
        services.report_submit(
            report=report,
            acting_user=request.user,
            entered=entered,
            explanation=payload.explanation,
        )
    except ValidationError as exc:
        if str(getattr(exc, "code", "") or "").startswith("bad_status"):
            raise
        raise _fail(_refusal(report)) from exc
    return _report_out(report)


@router.post(
    "/{int:report_id}/correct",
    response={200: ReportOut, 404: NotFoundOut, 422: ErrorOut},
    summary="申请更正已审核通过的报表(重新打开为草稿)",
    openapi_extra=_body(ReasonIn),
)
def correct_report(request: HttpRequest, report_id: int) -> Any:
    report = _for_fill(request, report_id)
    payload = _payload(request, ReasonIn)
    services.report_correct(report=report, acting_user=request.user, reason=payload.reason)
    return _report_out(report)


# --- Review -------------------------------------------------------------------------------------


@router.post(
    "/{int:report_id}/accept",
    response={200: ReportOut, 404: NotFoundOut, 422: ErrorOut},
    summary="审核通过",
)
def accept_report(request: HttpRequest, report_id: int) -> Any:
    report = get_report_for_user(request.user, report_id, for_review=True)
    services.report_accept(report=report, acting_user=request.user)
    return _report_out(report)


@router.post(
    "/{int:report_id}/return",
    response={200: ReportOut, 404: NotFoundOut, 422: ErrorOut},
    summary="退回修改(须填写原因)",
    openapi_extra=_body(ReasonIn),
)
def return_report(request: HttpRequest, report_id: int) -> Any:
    report = get_report_for_user(request.user, report_id, for_review=True)
    payload = _payload(request, ReasonIn)
    services.report_return(report=report, acting_user=request.user, reason=payload.reason)
    return _report_out(report)
