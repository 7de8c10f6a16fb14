"""Indicator pages (values with definitions, breakdowns, trend and lineage), targets, and the
zone dashboards. Staff with the indicator capability only; figures are computed, never typed."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods

from gaoxin.accounts.roles import Cap
from gaoxin.core import audit
from gaoxin.indicators import exports, selectors, services
from gaoxin.indicators.engine import (
    BREAKDOWNS,
    FIRST,
    REVISED,
    Scope,
    all_indicators,
    compute,
    indicator_by_code,
    summary,
)
from gaoxin.indicators.models import Target
from gaoxin.registry.models import Enterprise

LINEAGE_SHOWN = 500  # on the page; the .xlsx has every member
BIGSCREEN_REFRESH_SECONDS = 300
MIN_PEERS_SHOWN = 5  # an enterprise sees its place in its chain only among at least this many

BREAKDOWN_LABELS = {
    "chain": gettext_noop("产业链"),
    "sei": gettext_noop("战略性新兴产业类别"),
    "industry": gettext_noop("国民经济行业门类"),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _require(request: HttpRequest, cap: str) -> None:
    if not request.user.can(cap):  # type: ignore[union-attr]
        raise Http404


def _int(value: Any, default: int | None, low: int, high: int) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return default
    return number if low <= number <= high else default


def _scope(request: HttpRequest) -> Scope:
    years = selectors.data_years()
    year = _int(request.GET.get("year"), years[0], 2000, 2100) or years[0]
    month = _int(request.GET.get("month"), None, 1, 12)
    basis = FIRST if request.GET.get("basis") == FIRST else REVISED
    return Scope(year=year, month=month, basis=basis)


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response


@login_required
def indicator_list(request: HttpRequest) -> HttpResponse:
    _require(request, Cap.INDICATORS_VIEW)
    scope = _scope(request)
    return render(
        request,
        "indicators/list.html",
        {
            "scope": scope,
            "years": selectors.data_years(),
            "months": range(1, 13),
            "rows": selectors.indicator_rows(scope),
            "can_set_targets": request.user.can(Cap.INDICATORS_TARGETS),  # type: ignore[union-attr]
        },
    )


@login_required
def indicator_detail(request: HttpRequest, code: str) -> HttpResponse:
    _require(request, Cap.INDICATORS_VIEW)
    indicator = indicator_by_code(code)
    if indicator is None:
        raise Http404
    scope = _scope(request)
    by = request.GET.get("by") if request.GET.get("by") in BREAKDOWNS else "chain"
    found = summary(code, scope)
    result = compute(code, scope)
    shown = sorted(result.members, key=lambda m: m.numerator, reverse=True)[:LINEAGE_SHOWN]
    names = dict(
        Enterprise.objects.filter(pk__in=[m.enterprise_id for m in shown]).values_list("pk", "name")
    )
    members = [
        {"pk": m.enterprise_id, "name": names.get(m.enterprise_id, ""), "m": m} for m in shown
    ]
    years = selectors.data_years()
    return render(
        request,
        "indicators/detail.html",
        {
            "indicator": indicator,
            "scope": scope,
            "years": years,
            "months": range(1, 13),
            "summary": found,
            "by": by,
            "by_label": _(BREAKDOWN_LABELS[by]),
            "breakdown_labels": {k: _(v) for k, v in BREAKDOWN_LABELS.items()},
            "parts": found.breakdowns[by],
            "trend": selectors.trend(code, years, scope.basis),
            "target": selectors.targets_for(scope.year).get(code),
            "members": members,
            "member_total": len(result.members),
        },
    )


@login_required
def indicator_lineage(request: HttpRequest, code: str) -> HttpResponse:
    _require(request, Cap.INDICATORS_VIEW)
    indicator = indicator_by_code(code)
    if indicator is None:
        raise Http404
    scope = _scope(request)
    result = compute(code, scope)
    services.lineage_export_record(code=code, scope=scope, acting_user=request.user)
    return _xlsx(exports.lineage_xlsx(indicator, result), f"{code}-{scope.year}.xlsx")


@login_required
@require_http_methods(["GET", "POST"])
def targets(request: HttpRequest) -> HttpResponse:
    _require(request, Cap.INDICATORS_VIEW)
    can_edit = request.user.can(Cap.INDICATORS_TARGETS)  # type: ignore[union-attr]
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not can_edit:
            raise Http404
        try:
            services.target_set(
                code=request.POST.get("code", ""),
                year=_int(request.POST.get("year"), 0, 0, 9999) or 0,
                value=request.POST.get("value", ""),
                note=request.POST.get("note", ""),
                acting_user=request.user,
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, _("目标已保存"))
            return redirect("indicators:targets")
    indicators = {i.code: i for i in all_indicators()}
    rows = [(t, indicators.get(t.code)) for t in Target.objects.all()]
    return render(
        request,
        "indicators/targets.html",
        {
            "rows": rows,
            "indicators": indicators.values(),
            "can_edit": can_edit,
            "errors": errors,
            "posted": request.POST,
        },
    )


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _require(request, Cap.INDICATORS_VIEW)
    scope = _scope(request)
    board = selectors.dashboard(scope.year)
    return render(request, "indicators/dashboard.html", _board_context(board, scope))


@login_required
def bigscreen(request: HttpRequest) -> HttpResponse:
    _require(request, Cap.INDICATORS_VIEW)
    scope = _scope(request)
    board = selectors.dashboard(scope.year)
    context = _board_context(board, scope)
    context["refresh_seconds"] = BIGSCREEN_REFRESH_SECONDS
    return render(request, "indicators/bigscreen.html", context)


def _board_context(board: selectors.Dashboard, scope: Scope) -> dict[str, Any]:
    return {
        "board": board,
        "scope": scope,
        "tables": selectors.chart_tables(board),
        "titles": {k: _(v) for k, v in CHART_TITLES.items()},
        "chart_data": selectors.chart_payload(board),
    }


CHART_TITLES = {
    "monthly": gettext_noop("规上工业总产值月度走势"),
    "chain": gettext_noop("按产业链构成"),
    "sei": gettext_noop("按战略性新兴产业类别构成"),
    "top": gettext_noop("产值前十企业"),
    "qualified": gettext_noop("资质企业数"),
    "gauges": gettext_noop("目标完成情况"),
    "progress": gettext_noop("本期报表报送进度"),
}


@login_required
def chart_export(request: HttpRequest, chart: str) -> HttpResponse:
    _require(request, Cap.INDICATORS_VIEW)
    if chart not in CHART_TITLES:
        raise Http404
    scope = _scope(request)
    board = selectors.dashboard(scope.year)
    headers, rows = selectors.chart_tables(board)[chart]
    title = _(CHART_TITLES[chart])
    audit.record(
        actor=request.user,
        action=audit.AuditEntry.Action.EXPORT,
        model="indicators.chart",
        object_id=chart,
        object_repr=f"{title} {scope.year}",
        changes={"rows": [None, len(rows)]},
    )
    return _xlsx(exports.table_xlsx(title, headers, rows), f"{chart}-{scope.year}.xlsx")


@login_required
def enterprise_figures(request: HttpRequest, pk: int) -> HttpResponse:
    """An enterprise's reported series and chain position: its own users and staff who read
    reports; a fragment for the profile page, or a page of its own without htmx."""
    from gaoxin.core.access import get_enterprise_for_user

    enterprise = get_enterprise_for_user(request.user, pk)
    user = request.user
    if not (user.can(Cap.REPORTS_VIEW_ALL) or user.can(Cap.REPORTS_FILL)):  # type: ignore[union-attr]
        raise Http404
    figures = selectors.enterprise_figures(enterprise)
    if not user.can(Cap.REPORTS_VIEW_ALL) and figures.chain_size < MIN_PEERS_SHOWN:  # type: ignore[union-attr]
        # With few peers, rank and share would let an enterprise work out another's output.
        figures.chain_rank = figures.chain_share = None
    template = (
        "indicators/_enterprise.html"
        if request.headers.get("HX-Request")
        else "indicators/enterprise.html"
    )
    return render(request, template, {"e": enterprise, "f": figures})
