"""Public notices (公示): publishing the passed applications of a policy and year, the notice
with its objections and downloads, the public page anyone may read, and the zone's holiday
calendar the notice periods are counted on."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gaoxin.accounts.roles import Cap
from gaoxin.core import audit
from gaoxin.policies import exports, services
from gaoxin.policies.models import Application, Holiday, Notice, Policy
from gaoxin.policies.views.setup import _can, _day, _fail, _require

S = Application.Status
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def notice_list(request: HttpRequest) -> HttpResponse:
    _require(request, Cap.POLICIES_VIEW)
    notices = Paginator(
        Notice.objects.select_related("policy")
        .annotate(n=Count("applications"))
        .order_by("-published_on", "-pk"),
        50,
    ).get_page(request.GET.get("page"))
    passed = (
        Application.objects.filter(status=S.PASSED)
        .values("measure__policy_id", "measure__policy__title", "year")
        .order_by("measure__policy_id", "year")
        .distinct()
    )
    return render(
        request,
        "policies/notices/list.html",
        {
            "notices": notices,
            "waiting": list(passed),
            "can_publish": _can(request, Cap.POLICIES_APPROVE),
            "today": timezone.localdate(),
        },
    )


@login_required
def notice_create(request: HttpRequest) -> HttpResponse:
    """Choose the passed applications of a policy and year and publish them."""
    _require(request, Cap.POLICIES_APPROVE)
    chosen_policy = request.GET.get("policy") or request.POST.get("policy") or ""
    if not chosen_policy.isdigit():
        return redirect("policies:notices")  # chosen from the list of what waits for notice
    policy = get_object_or_404(Policy, pk=chosen_policy)
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or "")
    except ValueError:
        year = timezone.localdate().year
    passed = (
        Application.objects.filter(measure__policy=policy, year=year, status=S.PASSED)
        .select_related("enterprise", "measure")
        .order_by("measure__order", "enterprise__name")
    )
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        chosen = [a for a in passed if str(a.pk) in request.POST.getlist("applications")]
        try:
            published_on = _day(request.POST.get("published_on", ""), "published_on")
            try:
                days = int(request.POST.get("working_days", "5"))
            except ValueError as exc:
                raise ValidationError({"working_days": _("公示期应为整数个工作日")}) from exc
            notice = services.notice_publish(
                policy=policy,
                year=year,
                applications=chosen,
                published_on=published_on,
                working_days=days,
                title=request.POST.get("title", ""),
                contact=request.POST.get("contact", ""),
                acting_user=request.user,
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(
                request,
                _("已发布公示,公示期至%(end)s") % {"end": notice.ends_on.isoformat()},
            )
            return redirect("policies:notice", pk=notice.pk)
    return render(
        request,
        "policies/notices/form.html",
        {
            "policy": policy,
            "year": year,
            "passed": passed,
            "errors": errors,
            "posted": request.POST,
            "today": timezone.localdate(),
        },
    )


@login_required
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Cap.POLICIES_VIEW)
    notice = get_object_or_404(Notice.objects.select_related("policy"), pk=pk)
    applications = notice.applications.select_related("enterprise", "measure").order_by(
        "measure__order", "enterprise__name"
    )
    return render(
        request,
        "policies/notices/detail.html",
        {
            "notice": notice,
            "applications": applications,
            "objections": notice.objections.select_related("application__enterprise"),
            "total": sum(a.amount_fen or 0 for a in applications),
            "over": notice.is_over(timezone.localdate()),
            "can_approve": _can(request, Cap.POLICIES_APPROVE),
        },
    )


@login_required
@require_POST
def notice_approve_all(request: HttpRequest, pk: int) -> HttpResponse:
    """Approves every application of an ended notice that has no open objection; reports the
    ones refused (budget, objections) by name."""
    _require(request, Cap.POLICIES_APPROVE)
    notice = get_object_or_404(Notice, pk=pk)
    approved = 0
    for application in notice.applications.filter(status=S.NOTICE).select_related(
        "enterprise", "measure", "notice"
    ):
        try:
            services.application_approve(application=application, acting_user=request.user)
        except ValidationError as exc:
            messages.error(request, f"{application.enterprise.name}: {' '.join(exc.messages)}")
        else:
            approved += 1
    if approved:
        messages.success(request, _("已批准 %(n)s 件") % {"n": approved})
    return redirect("policies:notice", pk=notice.pk)


def public_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """The notice as the public reads it (no sign-in): names, credit codes, measures and
    amounts; no account numbers."""
    notice = get_object_or_404(Notice.objects.select_related("policy"), pk=pk)
    return render(
        request,
        "policies/notices/public.html",
        {"notice": notice, "rows": exports.notice_rows(notice)},
    )


def notice_download(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The public list as .xlsx or a printable PDF (public, like the page)."""
    if fmt not in ("pdf", "xlsx"):
        raise Http404
    notice = get_object_or_404(Notice.objects.select_related("policy"), pk=pk)
    if fmt == "pdf":
        response = HttpResponse(exports.notice_pdf(notice), content_type="application/pdf")
        name = f"notice-{notice.pk}.pdf"
    else:
        response = HttpResponse(exports.notice_xlsx(notice), content_type=XLSX)
        name = f"notice-{notice.pk}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
def holidays(request: HttpRequest) -> HttpResponse:
    """The zone's own calendar entries, which override the national one."""
    _require(request, Cap.POLICIES_APPROVE)
    if request.method == "POST":
        try:
            _holiday_write(request)
        except ValidationError as exc:
            _fail(request, exc)
        return redirect("policies:holidays")
    return render(
        request,
        "policies/notices/holidays.html",
        {"holidays": Holiday.objects.all(), "today": timezone.localdate()},
    )


def _holiday_write(request: HttpRequest) -> None:
    day = _day(request.POST.get("day", ""), "day")
    existing = Holiday.objects.filter(day=day).first()
    if request.POST.get("remove"):
        if existing is not None:
            audit.record(
                actor=request.user,
                action=audit.AuditEntry.Action.DELETE,
                obj=existing,
                changes={"day": [day.isoformat(), None]},
            )
            existing.delete()
            messages.success(request, _("已删除"))
        return
    is_workday = request.POST.get("is_workday") == "1"
    name = request.POST.get("name", "").strip()[:40]
    before = {"is_workday": existing.is_workday, "name": existing.name} if existing else {}
    holiday, _created = Holiday.objects.update_or_create(
        day=day, defaults={"is_workday": is_workday, "name": name}
    )
    audit.record(
        actor=request.user,
        action=audit.AuditEntry.Action.UPDATE if existing else audit.AuditEntry.Action.CREATE,
        obj=holiday,
        changes=audit.diff(before, {"is_workday": is_workday, "name": name}),
    )
    messages.success(
        request,
        _("%(day)s 已设为%(kind)s")
        % {"day": day.isoformat(), "kind": _("工作日") if is_workday else _("休息日")},
    )
