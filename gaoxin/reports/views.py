"""Statistical report pages: the enterprise fills in and submits, staff follow up and review.

Access goes through gaoxin.reports.access (404 for anything out of scope); writes go through
the services, which validate, keep the audit trail and refuse a wrong status transition.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.forms import BoundField
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gaoxin.accounts.roles import Cap
from gaoxin.core.access import require
from gaoxin.registry.models import Enterprise
from gaoxin.reports import checks, period_services, selectors, services
from gaoxin.reports.access import get_period_for_user, get_report_for_user, own_enterprise
from gaoxin.reports.exports import write_worklist
from gaoxin.reports.forms import (
    CorrectForm,
    PeriodForm,
    ReportValuesForm,
    ReturnForm,
    due_label,
    initial_values,
    pretty,
    status_choices,
)
from gaoxin.reports.models import (
    Frequency,
    Report,
    ReportField,
    ReportForm,
    ReportPeriod,
    ReportStatus,
)

WORKLIST_PAGE_SIZE = 50
RECENT_PERIODS = 12  # per form on "my reports" unless one form is chosen
EDITABLE = frozenset({ReportStatus.DRAFT, ReportStatus.RETURNED})


@dataclass
class FieldRow:
    """One report field on a page: its input or value, history, and findings."""

    field: ReportField
    value: str = "—"
    input: BoundField | None = None
    last_period: str = "—"
    last_year: str = "—"
    findings: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def hard(self) -> bool:
        return any(f.get("level") == checks.HARD for f in self.findings)


def _findings_by_field(findings: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for finding in findings:
        grouped[str(finding.get("field", ""))].append(finding)
    return grouped


def _field_rows(
    fields: list[ReportField],
    values: dict[str, Any],
    history: selectors.History,
    findings: list[dict[str, Any]],
    form: ReportValuesForm | None = None,
) -> list[FieldRow]:
    """`values` in form units (selectors.in_form_units); history in stored units."""
    last_period = selectors.in_form_units(fields, history.last_period)
    last_year = selectors.in_form_units(fields, history.last_year)
    grouped = _findings_by_field(findings)
    return [
        FieldRow(
            field=f,
            value=pretty(values.get(f.key)),
            input=form[form.name_for(f)] if form is not None else None,
            last_period=pretty(last_period.get(f.key)),
            last_year=pretty(last_year.get(f.key)),
            findings=grouped.get(f.key, []),
        )
        for f in fields
    ]


_BADGES: dict[str, str] = {
    ReportStatus.ACCEPTED: "ok",
    ReportStatus.SUBMITTED: "",
    ReportStatus.RETURNED: "warn",
}


def _status_badge(status: str) -> str:
    return _BADGES.get(status, "off")


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """/reports/: the enterprise's own reports, or the staff worklist."""
    user = request.user
    if user.can(Cap.REPORTS_FILL) and user.enterprise_id:
        return redirect("reports:mine")
    require(user, Cap.REPORTS_VIEW_ALL)
    return redirect("reports:worklist")


# --- The enterprise: my reports, fill in, check, correct ----------------------------------------


@login_required
def my_reports(request: HttpRequest) -> HttpResponse:
    enterprise = own_enterprise(request.user)
    today = timezone.localdate()
    names = selectors.form_names()
    by_form = selectors.enterprise_periods(enterprise.pk, today)
    chosen = request.GET.get("form", "")
    sections = []
    for code, name in names.items():
        if chosen and code != chosen:
            continue
        rows = by_form.get(code, [])
        shown = rows if chosen else rows[:RECENT_PERIODS]
        for row in shown:
            row.badge = _status_badge(row.status)  # type: ignore[attr-defined]
            row.due = due_label(row.period.due_on, today)  # type: ignore[attr-defined]
        sections.append(
            {
                "code": code,
                "name": name,
                "rows": shown,
                "more": len(rows) - len(shown),
                "late": sum(1 for r in rows if r.late),
            }
        )
    return render(
        request,
        "reports/mine.html",
        {"enterprise": enterprise, "sections": sections, "chosen": chosen, "today": today},
    )


@dataclass
class FillContext:
    enterprise: Enterprise
    period: ReportPeriod
    report: Report | None
    form_def: ReportForm
    fields: list[ReportField]
    history: selectors.History


def _load_fill(request: HttpRequest, period_pk: int) -> FillContext:
    enterprise = own_enterprise(request.user)
    period = get_period_for_user(request.user, period_pk)
    report = (
        Report.objects.filter(enterprise=enterprise, period=period)
        .select_related("form", "period", "enterprise")
        .first()
    )
    try:
        form_def = report.form if report else period.form()
    except ReportForm.DoesNotExist as exc:
        raise Http404 from exc
    fields = list(form_def.fields.all())
    # history_for reads only the period and the enterprise: an unsaved report will do before the
    # first save, so opening the page writes nothing.
    probe = report or Report(enterprise=enterprise, period=period, form=form_def)
    return FillContext(enterprise, period, report, form_def, fields, selectors.history_for(probe))


def _values_form(ctx: FillContext, data: Any = None) -> ReportValuesForm:
    check_url = reverse("reports:check", args=[ctx.period.pk])
    if data is not None:
        form = ReportValuesForm(data, report_fields=ctx.fields)
    else:
        shown = (
            selectors.in_form_units(ctx.fields, ctx.report.values) if ctx.report is not None else {}
        )
        initial = initial_values(ctx.fields, shown)
        initial["explanation"] = ctx.report.explanation if ctx.report is not None else ""
        form = ReportValuesForm(initial=initial, report_fields=ctx.fields)
    for f in ctx.fields:
        form.fields[form.name_for(f)].widget.attrs.update(
            {
                "hx-post": check_url,
                "hx-trigger": "input changed delay:600ms, change",
                "hx-target": "#report-findings",
                "hx-swap": "outerHTML",
                "hx-sync": "closest form:replace",
            }
        )
    return form


def _run_checks(ctx: FillContext, entered: dict[str, Any]) -> list[dict[str, Any]]:
    _values, findings = checks.check(
        ctx.fields,
        entered,
        last_year=ctx.history.last_year,
        last_period=ctx.history.last_period,
        last_period_same_year=ctx.history.last_period_same_year,
    )
    return [f.as_dict() for f in findings]


def _fill_context(
    request: HttpRequest,
    ctx: FillContext,
    form: ReportValuesForm,
    findings: list[dict[str, Any]],
    *,
    errors: list[str] | None = None,
    checked: bool = False,
) -> dict[str, Any]:
    report = ctx.report
    status = report.status if report else ReportStatus.NOT_SUBMITTED
    today = timezone.localdate()
    editable = report is None or report.status in EDITABLE
    shown = selectors.in_form_units(ctx.fields, report.values) if report is not None else {}
    rows = _field_rows(ctx.fields, shown, ctx.history, findings, form if editable else None)
    explanation = form["explanation"].value() or ""
    soft = checks.has_soft(findings)
    return {
        "enterprise": ctx.enterprise,
        "period": ctx.period,
        "report": report,
        "report_form": ctx.form_def,
        "monthly": ctx.form_def.frequency == Frequency.MONTHLY,
        "status": status,
        "status_label": ReportStatus(status).label,
        "badge": _status_badge(status),
        "late": selectors.is_late(ctx.period, status, report.revision if report else 0, today),
        "due": due_label(ctx.period.due_on, today),
        "form": form,
        "rows": rows,
        "findings": findings,
        "hard_count": sum(1 for f in findings if f.get("level") == checks.HARD),
        "soft_count": sum(1 for f in findings if f.get("level") == checks.SOFT),
        "show_explanation": soft or bool(explanation.strip()),
        "needs_explanation": soft and not explanation.strip(),
        "errors": errors or [],
        "checked": checked,
        "editable": editable,
        "correct_form": CorrectForm() if status == ReportStatus.ACCEPTED else None,
    }


@login_required
def fill(request: HttpRequest, period_pk: int) -> HttpResponse:
    """GET shows the form (nothing is written until the first save). POST saves a draft,
    submits, or (action=check, the no-JavaScript path) checks without saving."""
    ctx = _load_fill(request, period_pk)
    user = request.user
    if request.method != "POST":
        form = _values_form(ctx)
        findings = list(ctx.report.findings) if ctx.report is not None else []
        return render(request, "reports/fill.html", _fill_context(request, ctx, form, findings))

    if ctx.report is not None and ctx.report.status not in EDITABLE:
        messages.error(
            request,
            _("报表当前状态为“%(status)s”,不能修改") % {"status": ctx.report.get_status_display()},
        )
        return redirect("reports:fill", period_pk=ctx.period.pk)
    form = _values_form(ctx, request.POST)
    form.is_valid()  # the checks judge the values; this only bounds their length
    entered = form.entered()
    action = request.POST.get("action", "save")
    if action == "check":
        findings = _run_checks(ctx, entered)
        return render(
            request, "reports/fill.html", _fill_context(request, ctx, form, findings, checked=True)
        )
    report = ctx.report or services.report_open(
        enterprise=ctx.enterprise, period=ctx.period, acting_user=user
    )
    ctx.report = report
    if action == "submit":
        try:
            services.report_submit(
                report=report,
                acting_user=user,
                entered=entered,
                explanation=form.explanation_text(),
            )
        except ValidationError as exc:
            # The service kept what was typed as a draft with its findings; show both again.
            context = _fill_context(request, ctx, form, list(report.findings), errors=exc.messages)
            return render(request, "reports/fill.html", context)
        messages.success(
            request,
            _("已报送%(period)s“%(form)s”,等待审核")
            % {"period": ctx.period, "form": ctx.form_def.name},
        )
        return redirect("reports:mine")
    services.report_save(
        report=report, entered=entered, acting_user=user, explanation=form.explanation_text()
    )
    hard = checks.has_hard(report.findings)
    if hard:
        messages.warning(request, _("草稿已保存。数据尚有错误,改正后才能报送。"))
    else:
        messages.success(request, _("草稿已保存"))
    return redirect("reports:fill", period_pk=ctx.period.pk)


@login_required
@require_POST
def check(request: HttpRequest, period_pk: int) -> HttpResponse:
    """Runs the checks on the posted values with the history, saving nothing. htmx gets the
    findings fragment; a plain POST gets the whole page."""
    ctx = _load_fill(request, period_pk)
    form = _values_form(ctx, request.POST)
    form.is_valid()
    findings = _run_checks(ctx, form.entered())
    context = _fill_context(request, ctx, form, findings, checked=True)
    if request.headers.get("HX-Request") == "true":
        return render(request, "reports/_check.html", context)
    return render(request, "reports/fill.html", context)


@login_required
@require_POST
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_report_for_user(request.user, pk, for_fill=True)
    form = CorrectForm(request.POST)
    if form.is_valid():
        try:
            services.report_correct(
                report=report, acting_user=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("已申请更正,请修改数据后重新报送"))
    else:
        messages.error(request, " ".join(m for msgs in form.errors.values() for m in msgs))
    return redirect("reports:fill", period_pk=report.period_id)


# --- Staff: worklist, export, review, periods ---------------------------------------------------


@dataclass
class Worklist:
    names: dict[str, str]
    code: str
    periods: list[ReportPeriod]
    period: ReportPeriod | None
    status: str


def _worklist_choice(request: HttpRequest) -> Worklist:
    require(request.user, Cap.REPORTS_VIEW_ALL)
    names = selectors.form_names()
    code = request.GET.get("form", "")
    if code not in names:
        code = next(iter(names), "")
    periods = list(selectors.periods_of(code)) if code else []
    period = next((p for p in periods if str(p.pk) == request.GET.get("period", "")), None)
    if period is None:
        period = selectors.default_period(periods, timezone.localdate())
    status = request.GET.get("status", "")
    if status not in {value for value, _label in status_choices()}:
        status = ""
    return Worklist(names, code, periods, period, status)


@login_required
def worklist(request: HttpRequest) -> HttpResponse:
    choice = _worklist_choice(request)
    today = timezone.localdate()
    page = counts = None
    if choice.period is not None:
        base = selectors.worklist(choice.period)
        counts = selectors.worklist_counts(base, choice.period, today)
        rows = selectors.worklist_filter(base, choice.period, choice.status, today)
        page = Paginator(rows, WORKLIST_PAGE_SIZE).get_page(request.GET.get("page"))
        for e in page:
            e.status_label = ReportStatus(e.report_status).label
            e.badge = _status_badge(e.report_status)
            e.late = selectors.is_late(choice.period, e.report_status, e.report_revision, today)
    query = {"form": choice.code, "period": choice.period.pk if choice.period else ""}
    status_tabs = [
        {
            "value": value,
            "label": label,
            "count": (counts or {}).get(value or "total", 0),
            "active": value == choice.status,
            "query": urlencode({**query, "status": value}),
        }
        for value, label in status_choices()
    ]
    return render(
        request,
        "reports/worklist.html",
        {
            "choice": choice,
            "form_name": choice.names.get(choice.code, ""),
            "page": page,
            "counts": counts,
            "status_tabs": status_tabs,
            "due": due_label(choice.period.due_on, today) if choice.period else "",
            "export_query": urlencode({**query, "status": choice.status}),
            "can_configure": request.user.can(Cap.REPORTS_CONFIGURE),
            "can_review": request.user.can(Cap.REPORTS_REVIEW),
        },
    )


@login_required
def worklist_export(request: HttpRequest) -> HttpResponseBase:
    """Exactly the list the page shows (same choice, same status filter), every page, as .xlsx."""
    choice = _worklist_choice(request)
    if choice.period is None:
        raise Http404
    today = timezone.localdate()
    rows = selectors.worklist_filter(
        selectors.worklist(choice.period), choice.period, choice.status, today
    )
    fd, path = tempfile.mkstemp(prefix="gaoxin-worklist-", suffix=".xlsx")
    os.close(fd)
    try:
        n = write_worklist(
            rows,
            path,
            period=choice.period,
            form_name=choice.names.get(choice.code, choice.code),
            today=today,
        )
        period_services.worklist_export_record(
            period=choice.period,
            filters={"form": choice.code, "period": choice.period.pk, "status": choice.status},
            rows=n,
            acting_user=request.user,
        )
        handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    finally:
        try:
            os.unlink(path)  # the open handle keeps the data until the response is sent
        except OSError:
            pass
    period = choice.period
    filename = _("催报清单_%(code)s_%(year)s%(month)s.xlsx") % {
        "code": choice.code,
        "year": period.year,
        "month": f"{period.month:02d}" if period.month else "",
    }
    return FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _detail_context(request: HttpRequest, report: Report, **extra: Any) -> dict[str, Any]:
    user = request.user
    fields = list(report.form.fields.all())
    history = selectors.history_for(report)
    shown = selectors.in_form_units(fields, report.values)
    revisions = []
    for revision in selectors.revisions_of(report):
        values = selectors.in_form_units(fields, revision.values)
        revision.rows = _field_rows(  # type: ignore[attr-defined]
            fields, values, selectors.History(), list(revision.findings)
        )
        revisions.append(revision)
    today = timezone.localdate()
    can_review = user.can(Cap.REPORTS_REVIEW) and report.status == ReportStatus.SUBMITTED
    return {
        "report": report,
        "period": report.period,
        "report_form": report.form,
        "monthly": report.form.frequency == Frequency.MONTHLY,
        "badge": _status_badge(report.status),
        "late": selectors.is_late(report.period, report.status, report.revision, today),
        "rows": _field_rows(fields, shown, history, list(report.findings)),
        "findings": list(report.findings),
        "revisions": revisions,
        "can_review": can_review,
        "return_form": extra.pop("return_form", None) or (ReturnForm() if can_review else None),
        "is_own": user.can(Cap.REPORTS_FILL) and user.enterprise_id == report.enterprise_id,
        "worklist_query": urlencode({"form": report.period.form_code, "period": report.period_id}),
        "can_view_all": user.can(Cap.REPORTS_VIEW_ALL),
        **extra,
    }


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One report with its findings, explanation and every accepted revision; reviewers accept
    or return it here."""
    report = get_report_for_user(request.user, pk)
    return render(request, "reports/detail.html", _detail_context(request, report))


def _back_to_worklist(report: Report) -> HttpResponse:
    query = urlencode(
        {"form": report.period.form_code, "period": report.period_id, "status": "submitted"}
    )
    return redirect(f"{reverse('reports:worklist')}?{query}")


@login_required
@require_POST
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_report_for_user(request.user, pk, for_review=True)
    try:
        revision = services.report_accept(report=report, acting_user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("reports:detail", pk=report.pk)
    messages.success(
        request,
        _("已审核通过“%(name)s”%(period)s的报表(第%(n)s版)")
        % {"name": report.enterprise.name, "period": report.period, "n": revision.number},
    )
    return _back_to_worklist(report)


@login_required
@require_POST
def return_report(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_report_for_user(request.user, pk, for_review=True)
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            services.report_return(
                report=report, acting_user=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("已退回“%(name)s”%(period)s的报表")
                % {"name": report.enterprise.name, "period": report.period},
            )
            return _back_to_worklist(report)
    context = _detail_context(request, report, return_form=form)
    return render(request, "reports/detail.html", context)


@login_required
def periods(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.REPORTS_CONFIGURE)
    names = selectors.form_names()
    form = PeriodForm(request.POST or None, form_names=names)
    if request.method == "POST" and form.is_valid():
        try:
            period = period_services.period_create(**form.service_data(), acting_user=request.user)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("已新增“%(form)s”%(period)s的报告期")
                % {"form": names.get(period.form_code, period.form_code), "period": period},
            )
            return redirect("reports:periods")
    rows = ReportPeriod.objects.annotate(
        report_count=Count("reports"),
        submitted_count=Count(
            "reports",
            filter=Q(reports__status__in=[ReportStatus.SUBMITTED, ReportStatus.ACCEPTED]),
        ),
    ).order_by("form_code", "-year", F("month").desc(nulls_last=True))
    grouped: dict[str, list[ReportPeriod]] = defaultdict(list)
    for period in rows:
        grouped[period.form_code].append(period)
    sections = [{"code": c, "name": n, "periods": grouped.get(c, [])} for c, n in names.items()]
    return render(
        request,
        "reports/periods.html",
        {"sections": sections, "form": form, "today": timezone.localdate()},
    )
