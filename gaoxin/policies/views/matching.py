"""Proactive matching (免申即享) pages: start a run, read its results per measure, confirm or
dismiss matches, and check that the run reproduces from its snapshot."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gaoxin.accounts.roles import Cap
from gaoxin.policies import services
from gaoxin.policies.measures import SHIPPED
from gaoxin.policies.models import Match, MatchRun
from gaoxin.policies.views.setup import _fail, _require, shown_facts

PAGE = 100


@login_required
def runs(request: HttpRequest) -> HttpResponse:
    _require(request, Cap.POLICIES_VIEW)
    if request.method == "POST":
        _require(request, Cap.POLICIES_APPROVE)
        try:
            year = int(request.POST.get("year", ""))
            run = services.match_run(
                year=year, code=request.POST.get("measure") or None, acting_user=request.user
            )
        except ValueError:
            messages.error(request, _("年度应为四位数字"))
        except ValidationError as exc:
            _fail(request, exc)
        else:
            messages.success(
                request,
                _("匹配完成:%(e)s家企业,%(m)s项符合条件")
                % {"e": run.enterprises, "m": run.matches},
            )
            return redirect("policies:match_run", pk=run.pk)
        return redirect("policies:match_runs")
    return render(
        request,
        "policies/matching/runs.html",
        {
            "runs": MatchRun.objects.select_related("measure", "started_by")[:50],
            "measures": [(code, spec.name) for code, spec in SHIPPED.items()],
            "year": timezone.localdate().year - 1,
            "can_run": request.user.can(Cap.POLICIES_APPROVE),  # type: ignore[union-attr]
        },
    )


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Cap.POLICIES_VIEW)
    run = get_object_or_404(MatchRun.objects.select_related("started_by"), pk=pk)
    summary = (
        run.results.values("measure_id", "measure__name", "status")
        .annotate(n=Count("id"), total=Sum("amount_fen"))
        .order_by("measure__order", "measure_id", "status")
    )
    qs = run.results.select_related("enterprise", "measure", "version", "application")
    measure = request.GET.get("measure", "")
    if measure.isdigit():
        qs = qs.filter(measure_id=int(measure))
    status = request.GET.get("status", Match.Status.PROPOSED)
    if status in Match.Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("measure__order", "-amount_fen", "enterprise__name"), PAGE)
    current = page.get_page(request.GET.get("page"))
    for match in current:
        match.shown = shown_facts(match.facts)  # type: ignore[attr-defined]
    return render(
        request,
        "policies/matching/run.html",
        {
            "run": run,
            "summary": summary,
            "page": current,
            "versions": run.versions.select_related("measure"),
            "statuses": Match.Status.choices,
            "filters": {"measure": measure, "status": status},
            "check": services.match_run_verify(run) if request.GET.get("verify") else None,
            "can_decide": request.user.can(Cap.POLICIES_APPROVE),  # type: ignore[union-attr]
        },
    )


@login_required
@require_POST
def run_decide(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Cap.POLICIES_APPROVE)
    run = get_object_or_404(MatchRun, pk=pk)
    ids = [i for i in request.POST.getlist("matches") if i.isdigit()]
    chosen = list(run.results.filter(pk__in=ids).select_related("enterprise", "run"))
    if not chosen:
        messages.error(request, _("请选择匹配结果"))
        return redirect("policies:match_run", pk=run.pk)
    try:
        if request.POST.get("decision") == "dismiss":
            n = services.match_dismiss(
                matches=chosen, reason=request.POST.get("reason", ""), acting_user=request.user
            )
            messages.success(request, _("已标记 %(n)s 项不予推送") % {"n": n})
        else:
            created = services.match_confirm(matches=chosen, acting_user=request.user)
            messages.success(
                request,
                _("已确认 %(n)s 项,已推送企业确认收款账户") % {"n": len(created)},
            )
    except ValidationError as exc:
        _fail(request, exc)
    return redirect("policies:match_run", pk=run.pk)
