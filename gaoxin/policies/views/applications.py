"""Application pages: the enterprise starts, fills in and submits its applications (or confirms
its account for a proactive match); staff follow the worklist, review, record objections,
approve; the payer schedules, pays, records failures and reversals. Every action is a POST to
one service; errors come back as messages naming the field."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gaoxin.accounts.roles import Cap
from gaoxin.core.access import applications_visible_to, get_application_for_user
from gaoxin.policies import services
from gaoxin.policies.measures import SHIPPED
from gaoxin.policies.models import Application, Measure, Policy
from gaoxin.policies.services.applications import EDITABLE
from gaoxin.policies.views.setup import _can, _day, _fail, _require, shown_facts, yuan_to_fen

S = Application.Status
PAGE = 50


@login_required
@require_POST
def application_start(request: HttpRequest) -> HttpResponse:
    """An enterprise user starts an application for a measure and year (from 可享政策)."""
    _require(request, Cap.POLICIES_OWN)
    enterprise = request.user.enterprise  # type: ignore[union-attr]
    if enterprise is None:
        raise Http404
    chosen = request.POST.get("measure", "")
    if not chosen.isdigit():
        raise Http404
    measure = get_object_or_404(
        Measure.objects.select_related("policy"), pk=chosen, policy__status=Policy.Status.PUBLISHED
    )
    try:
        year = int(request.POST.get("year", ""))
        application = services.application_start(
            enterprise=enterprise, measure=measure, year=year, acting_user=request.user
        )
    except (ValueError, ValidationError) as exc:
        if isinstance(exc, ValidationError):
            _fail(request, exc)
        else:
            messages.error(request, _("年度应为四位数字"))
        return redirect("policies:mine")
    messages.success(request, _("申请已创建。金额已按园区掌握的数据测算,请填写收款账户后提交。"))
    return redirect("policies:application", pk=application.pk)


@login_required
def application_list(request: HttpRequest) -> HttpResponse:
    """Staff: the worklist of every application, filtered. An enterprise user: its own."""
    if not (_can(request, Cap.POLICIES_VIEW) or _can(request, Cap.POLICIES_OWN)):
        raise Http404
    qs = applications_visible_to(request.user).select_related("enterprise", "measure__policy")
    status = request.GET.get("status", "")
    if status in S.values:
        qs = qs.filter(status=status)
    elif status == "todo":
        qs = qs.filter(status__in=_todo_statuses(request))
    source = request.GET.get("source", "")
    if source in Application.Source.values:
        qs = qs.filter(source=source)
    q = request.GET.get("q", "").strip()
    if q:
        qs = qs.filter(Q(enterprise__name__icontains=q) | Q(enterprise__uscc__iexact=q))
    year = request.GET.get("year", "").strip()
    if year.isdigit():
        qs = qs.filter(year=int(year))
    measure = request.GET.get("measure", "").strip()
    if measure:
        qs = qs.filter(measure__code=measure)
    page = Paginator(qs.order_by("-updated_at", "-pk"), PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "policies/applications/list.html",
        {
            "page": page,
            "statuses": S.choices,
            "sources": Application.Source.choices,
            "measures": [(code, spec.name) for code, spec in SHIPPED.items()],
            "filters": {
                "status": status,
                "source": source,
                "q": q,
                "year": year,
                "measure": measure,
            },
            "staff": _can(request, Cap.POLICIES_VIEW),
        },
    )


def _todo_statuses(request: HttpRequest) -> list[str]:
    """What waits for the signed-in person: reviewers the submitted ones, approvers those in
    notice, payers the approved, scheduled and failed ones; an enterprise its drafts."""
    todo: list[str] = []
    if _can(request, Cap.POLICIES_REVIEW):
        todo.append(S.SUBMITTED)
    if _can(request, Cap.POLICIES_APPROVE):
        todo += [S.PASSED, S.NOTICE]
    if _can(request, Cap.POLICIES_PAY):
        todo += [S.APPROVED, S.SCHEDULED, S.FAILED]
    if _can(request, Cap.POLICIES_OWN):
        todo += [S.DRAFT, S.RETURNED]
    return todo


@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = get_application_for_user(request.user, pk)
    user = request.user
    own = bool(
        _can(request, Cap.POLICIES_OWN)
        and getattr(user, "enterprise_id", None) == application.enterprise_id
    )
    spec = SHIPPED.get(application.measure.code)
    params = application.version.params
    staff = _can(request, Cap.POLICIES_VIEW)
    return render(
        request,
        "policies/applications/detail.html",
        {
            "a": application,
            "facts": shown_facts(application.facts),
            "events": application.events.select_related("actor"),
            "attachments": application.attachments.all(),
            "objections": application.objections.select_related("recorded_by", "resolved_by"),
            "payments": application.payments.select_related("batch", "entry"),
            "entries": application.entries.prefetch_related("postings") if staff else [],
            "editable": own and application.status in EDITABLE,
            # After a failed payment the enterprise corrects its receiving account.
            "account_editable": own and application.status == S.FAILED,
            "can_cancel": _can(request, Cap.POLICIES_APPROVE)
            and application.status in (S.APPROVED, S.FAILED),
            "reviewer_sets_amount": bool(spec and spec.reviewer_sets_amount),
            "range": (params.get("min_fen"), params.get("max_fen")),
            "can_review": _can(request, Cap.POLICIES_REVIEW) and application.status == S.SUBMITTED,
            "can_object": _can(request, Cap.POLICIES_APPROVE) and application.status == S.NOTICE,
            "can_approve": _can(request, Cap.POLICIES_APPROVE) and application.status == S.NOTICE,
            "can_pay": _can(request, Cap.POLICIES_PAY),
            "staff": staff,
            "today": timezone.localdate(),
            # A double-clicked "paid" button sends the same key twice and pays once.
            "pay_key": uuid.uuid4().hex,
        },
    )


def _act(
    request: HttpRequest, pk: int, cap: str | None, action: Callable[[Application], Any], ok: str
) -> HttpResponse:
    """Runs one service on an application the user may see, with the capability the step
    needs, and comes back to the application with a message."""
    if cap is not None:
        _require(request, cap)
    application = get_application_for_user(request.user, pk)
    try:
        action(application)
    except ValidationError as exc:
        _fail(request, exc)
    else:
        messages.success(request, ok)
    return redirect("policies:application", pk=application.pk)


def _own(request: HttpRequest, pk: int) -> Application:
    """The enterprise user's own application (staff may read it, only the enterprise edits)."""
    _require(request, Cap.POLICIES_OWN)
    application = get_application_for_user(request.user, pk)
    if application.enterprise_id != getattr(request.user, "enterprise_id", None):
        raise Http404
    return application


@login_required
@require_POST
def application_edit(request: HttpRequest, pk: int) -> HttpResponse:
    application = _own(request, pk)
    data = {
        k: request.POST.get(k, "")
        for k in ("statement", "account_bank", "account_name", "account_no")
    }
    try:
        with transaction.atomic():  # a refused file or submission keeps nothing of this post
            services.application_update(
                application=application, data=data, acting_user=request.user
            )
            for upload in request.FILES.getlist("files"):
                services.application_attach(
                    application=application, upload=upload, acting_user=request.user
                )
            if request.POST.get("submit"):
                services.application_submit(application=application, acting_user=request.user)
    except ValidationError as exc:
        application.refresh_from_db()
        _fail(request, exc)
    else:
        if request.POST.get("submit"):
            messages.success(request, _("申请已提交,等待部门审核"))
        else:
            messages.success(request, _("已保存"))
    return redirect("policies:application", pk=application.pk)


@login_required
def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    application = get_application_for_user(request.user, pk)
    attachment = get_object_or_404(application.attachments, pk=attachment_pk)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


@login_required
@require_POST
def attachment_delete(request: HttpRequest, pk: int, attachment_pk: int) -> HttpResponse:
    application = _own(request, pk)
    attachment = get_object_or_404(application.attachments, pk=attachment_pk)
    try:
        services.attachment_remove(attachment=attachment, acting_user=request.user)
    except ValidationError as exc:
        _fail(request, exc)
    return redirect("policies:application", pk=application.pk)


@login_required
@require_POST
def application_review(request: HttpRequest, pk: int) -> HttpResponse:
    decision = request.POST.get("decision", "")
    reason = request.POST.get("reason", "")

    def act(application: Application) -> None:
        if decision == "pass":
            amount = yuan_to_fen(request.POST.get("amount", ""), "amount_fen", blank=True)
            services.application_pass(
                application=application, amount_fen=amount, reason=reason, acting_user=request.user
            )
        elif decision == "return":
            services.application_return(
                application=application, reason=reason, acting_user=request.user
            )
        elif decision == "reject":
            services.application_reject(
                application=application, reason=reason, acting_user=request.user
            )
        else:
            raise ValidationError({"decision": _("请选择审核结果")})

    return _act(request, pk, Cap.POLICIES_REVIEW, act, _("审核意见已保存"))


@login_required
@require_POST
def objection_record(request: HttpRequest, pk: int) -> HttpResponse:
    def act(application: Application) -> None:
        received = _day(request.POST.get("received_on", ""), "received_on")
        services.objection_record(
            application=application,
            objector=request.POST.get("objector", ""),
            content=request.POST.get("content", ""),
            received_on=received,
            acting_user=request.user,
        )

    return _act(request, pk, Cap.POLICIES_APPROVE, act, _("异议已登记"))


@login_required
@require_POST
def objection_resolve(request: HttpRequest, pk: int, objection_pk: int) -> HttpResponse:
    def act(application: Application) -> None:
        objection = get_object_or_404(application.objections, pk=objection_pk)
        services.objection_resolve(
            objection=objection,
            upheld=request.POST.get("upheld") == "yes",
            resolution=request.POST.get("resolution", ""),
            acting_user=request.user,
        )

    return _act(request, pk, Cap.POLICIES_APPROVE, act, _("异议已处理"))


@login_required
@require_POST
def application_approve(request: HttpRequest, pk: int) -> HttpResponse:
    def act(application: Application) -> None:
        services.application_approve(application=application, acting_user=request.user)

    return _act(request, pk, Cap.POLICIES_APPROVE, act, _("已批准,资金已在台账中锁定"))


@login_required
@require_POST
def application_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    def act(application: Application) -> None:
        services.application_cancel(
            application=application,
            reason=request.POST.get("reason", ""),
            acting_user=request.user,
        )

    return _act(request, pk, Cap.POLICIES_APPROVE, act, _("已撤销,资金已退回可用预算"))


@login_required
@require_POST
def payment_action(request: HttpRequest, pk: int) -> HttpResponse:
    """The payer's steps on one application: schedule (a batch of one), paid, failed, reverse."""
    step = request.POST.get("step", "")

    def act(application: Application) -> None:
        if step == "schedule":
            services.payment_schedule(applications=[application], acting_user=request.user)
        elif step == "paid":
            paid_on = _day(request.POST.get("paid_on", ""), "paid_on")
            services.payment_execute(
                application=application,
                paid_on=paid_on,
                bank_reference=request.POST.get("bank_reference", ""),
                idempotency_key=request.POST.get("idempotency_key") or None,
                acting_user=request.user,
            )
        elif step == "failed":
            services.payment_fail(
                application=application,
                reason=request.POST.get("reason", ""),
                acting_user=request.user,
            )
        elif step == "reverse":
            services.payment_reverse(
                application=application,
                reason=request.POST.get("reason", ""),
                acting_user=request.user,
            )
        else:
            raise ValidationError({"step": _("未知的支付操作")})

    return _act(request, pk, Cap.POLICIES_PAY, act, _("支付信息已登记"))


@login_required
def enterprise_funds(request: HttpRequest, pk: int) -> HttpResponse:
    """An enterprise's applications, proactive matches, payments and vouchers: a fragment for
    the profile page (htmx), or a page of its own. Staff who read policies, and the
    enterprise's own users (who do not see the zone's internal match worklist)."""
    from gaoxin.core.access import get_enterprise_for_user, vouchers_visible_to
    from gaoxin.policies.models import Match, Payment

    enterprise = get_enterprise_for_user(request.user, pk)
    staff = _can(request, Cap.POLICIES_VIEW)
    own = _can(request, Cap.POLICIES_OWN) and getattr(request.user, "enterprise_id", None) == pk
    if not (staff or own):
        raise Http404
    applications = enterprise.applications.select_related("measure__policy").order_by(
        "-year", "-pk"
    )
    payments = (
        Payment.objects.filter(application__enterprise=enterprise)
        .select_related("application__measure")
        .order_by("-paid_on", "-pk")
    )
    matches = (
        Match.objects.filter(enterprise=enterprise)
        .select_related("measure", "run")
        .order_by("-run__started_at", "-pk")[:50]
        if staff
        else []
    )
    vouchers = vouchers_visible_to(request.user).filter(enterprise=enterprise)
    paid_total = sum(p.amount_fen for p in payments if p.status == Payment.Status.PAID)
    template = (
        "policies/_enterprise.html"
        if request.headers.get("HX-Request")
        else "policies/enterprise.html"
    )
    return render(
        request,
        template,
        {
            "e": enterprise,
            "applications": applications,
            "payments": payments,
            "matches": matches,
            "vouchers": vouchers.select_related("measure"),
            "paid_total": paid_total,
            "staff": staff,
        },
    )
