"""Policy pages: the list, a new policy, and a policy with its measures, parameters, budgets
and the what-if over the zone. Staff with the policy capabilities only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gaoxin.accounts.roles import Cap
from gaoxin.policies import selectors, services
from gaoxin.policies.facts import AMOUNTS as MONEY_FACTS
from gaoxin.policies.facts import LABELS
from gaoxin.policies.measures import SHIPPED
from gaoxin.policies.models import Application, Measure, Policy


def _can(request: HttpRequest, cap: str) -> bool:
    return bool(request.user.can(cap))  # type: ignore[union-attr]


def _require(request: HttpRequest, cap: str) -> None:
    if not _can(request, cap):
        raise Http404


def shown_facts(facts: Mapping[str, Any]) -> list[tuple[str, Any, bool]]:
    """(label, value, is money) for the facts a decision used, as the pages print them."""
    return [(str(LABELS.get(k, k)), v, k in MONEY_FACTS) for k, v in facts.items()]


def yuan_to_fen(text: str, field: str, *, blank: bool = False) -> int | None:
    """An amount typed in 元 ("1,234.5") as fen; a clear error naming the field otherwise."""
    cleaned = (text or "").strip().replace(",", "").replace(",", "")
    if not cleaned:
        if blank:
            return None
        raise ValidationError({field: _("请填写金额")})
    try:
        value = Decimal(cleaned)
        if not value.is_finite():
            raise InvalidOperation
        exact = value == value.quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise ValidationError({field: _("“%(value)s”不是金额") % {"value": text}}) from exc
    if not exact:
        raise ValidationError({field: _("金额最多两位小数")})
    if abs(value) >= Decimal(10) ** 14:
        raise ValidationError({field: _("金额过大,请核对单位")})
    return int(value * 100)


def _date(text: str, field: str, *, blank: bool = False) -> dt.date | None:
    text = (text or "").strip()
    if not text and blank:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError({field: _("日期格式应为 2019-01-01")}) from exc


def _day(text: str, field: str) -> dt.date:
    """A required date typed as 2019-01-01."""
    day = _date(text, field)
    if day is None:
        raise ValidationError({field: _("请填写日期")})
    return day


@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    _require(request, Cap.POLICIES_VIEW)
    policies = Policy.objects.prefetch_related("measures").all()
    return render(
        request,
        "policies/list.html",
        {"policies": policies, "can_manage": request.user.can(Cap.POLICIES_MANAGE)},  # type: ignore[union-attr]
    )


@login_required
def my_policies(request: HttpRequest) -> HttpResponse:
    """An enterprise user: the published measures and what the enterprise would get from each
    on its own records, with the facts each decision used."""
    from gaoxin.core.access import get_enterprise_for_user

    _require(request, Cap.POLICIES_OWN)
    enterprise_id = getattr(request.user, "enterprise_id", None)
    if not enterprise_id:
        raise Http404
    enterprise = get_enterprise_for_user(request.user, enterprise_id)
    year = _year(request)
    rows = selectors.preview_for(enterprise, year)
    live = {
        a.measure_id: a
        for a in Application.objects.filter(enterprise=enterprise, year=year).exclude(
            status__in=(Application.Status.REJECTED, Application.Status.CANCELLED)
        )
    }
    for row in rows:
        row.shown = shown_facts(row.inputs)  # type: ignore[attr-defined]
        row.application = live.get(row.measure.pk)  # type: ignore[attr-defined]
    return render(
        request,
        "policies/mine.html",
        {"enterprise": enterprise, "year": year, "rows": rows},
    )


@login_required
def policy_create(request: HttpRequest) -> HttpResponse:
    _require(request, Cap.POLICIES_MANAGE)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data: dict[str, Any] = {
            k: request.POST.get(k, "").strip()
            for k in ("title", "issuer", "doc_number", "full_text")
        }
        # Every mistake at once: the dates' format, then the service's own checks.
        date_errors: dict[str, list[str]] = {}
        for name, blank in (("effective_from", False), ("effective_to", True)):
            try:
                data[name] = _date(request.POST.get(name, ""), name, blank=blank)
            except ValidationError as exc:
                data[name] = None
                date_errors.update(exc.message_dict)
        try:
            with transaction.atomic():  # a date error undoes the creation: nothing half-written
                policy = services.policy_create(data=data, acting_user=request.user)
                if date_errors:
                    raise ValidationError(date_errors)
                if request.FILES.get("document"):
                    services.policy_attach_document(
                        policy=policy, upload=request.FILES["document"], acting_user=request.user
                    )
        except ValidationError as exc:
            errors = {**exc.message_dict, **date_errors}
        else:
            messages.success(request, _("政策已创建,请添加条款"))
            return redirect("policies:detail", pk=policy.pk)
    return render(request, "policies/form.html", {"errors": errors, "posted": request.POST})


@login_required
@require_POST
def policy_document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Cap.POLICIES_MANAGE)
    policy = get_object_or_404(Policy, pk=pk)
    upload = request.FILES.get("document")
    if upload is None:
        messages.error(request, _("请选择政策文件"))
    else:
        try:
            services.policy_attach_document(policy=policy, upload=upload, acting_user=request.user)
        except ValidationError as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("政策文件已上传"))
    return redirect("policies:detail", pk=policy.pk)


@login_required
def policy_document(request: HttpRequest, pk: int) -> FileResponse:
    """The issued document: staff for any policy, enterprise users for published ones."""
    staff = request.user.can(Cap.POLICIES_VIEW)  # type: ignore[union-attr]
    if not (staff or request.user.can(Cap.POLICIES_OWN)):  # type: ignore[union-attr]
        raise Http404
    policies = (
        Policy.objects.all() if staff else Policy.objects.filter(status=Policy.Status.PUBLISHED)
    )
    policy = get_object_or_404(policies, pk=pk)
    if not policy.document:
        raise Http404
    name = policy.document.name.rsplit("/", 1)[-1]
    return FileResponse(policy.document.open("rb"), as_attachment=True, filename=name)


def _year(request: HttpRequest) -> int:
    """The year asked for, else last year (the latest with a full year of records)."""
    last_year = timezone.localdate().year - 1
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return last_year
    return year if 2000 <= year <= 2100 else last_year


@login_required
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Cap.POLICIES_VIEW)
    policy = get_object_or_404(Policy, pk=pk)
    year = _year(request)
    measures = []
    for measure in policy.measures.prefetch_related("versions", "budgets"):
        spec = SHIPPED.get(measure.code)
        version = measure.current()
        params = [
            {
                "key": key,
                "label": str(spec.labels.get(key, key)) if spec else key,
                "value": version.params.get(key),
                "money": key.endswith("_fen"),
            }
            for key in (spec.defaults if spec else version.params)
        ]
        budget = next((b.amount_fen for b in measure.budgets.all() if b.year == year), None)
        measures.append(
            {
                "measure": measure,
                "spec": spec,
                "version": version,
                "params": params,
                "budget": budget,
            }
        )
    used = {m["measure"].code for m in measures}
    what_if = selectors.what_if(policy, year) if request.GET.get("whatif") else None
    return render(
        request,
        "policies/detail.html",
        {
            "policy": policy,
            "year": year,
            "measures": measures,
            "available": [s for code, s in SHIPPED.items() if code not in used],
            "what_if": what_if,
            "what_if_total": sum(r.total_fen for r in what_if) if what_if else 0,
            "can_manage": request.user.can(Cap.POLICIES_MANAGE),  # type: ignore[union-attr]
        },
    )


def _measure(request: HttpRequest, pk: int, measure_pk: int) -> Measure:
    _require(request, Cap.POLICIES_MANAGE)
    return get_object_or_404(Measure, pk=measure_pk, policy_id=pk)


def _fail(request: HttpRequest, exc: ValidationError) -> None:
    for field_errors in exc.message_dict.values():
        for message in field_errors:
            messages.error(request, message)


@login_required
@require_POST
def measure_add(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Cap.POLICIES_MANAGE)
    policy = get_object_or_404(Policy, pk=pk)
    try:
        cap = yuan_to_fen(request.POST.get("cap", ""), "cap_fen", blank=True)
        services.measure_add(
            policy=policy, code=request.POST.get("code", ""), cap_fen=cap, acting_user=request.user
        )
    except ValidationError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("条款已添加"))
    return redirect("policies:detail", pk=pk)


@login_required
@require_POST
def measure_params(request: HttpRequest, pk: int, measure_pk: int) -> HttpResponse:
    measure = _measure(request, pk, measure_pk)
    spec = SHIPPED[measure.code]
    given: dict[str, Any] = {}
    try:
        for key in spec.defaults:
            raw = request.POST.get(key, "")
            given[key] = yuan_to_fen(raw, key) if key.endswith("_fen") else raw.strip()
        before = measure.current().number
        version = services.measure_params_set(
            measure=measure, params=given, acting_user=request.user
        )
    except ValidationError as exc:
        _fail(request, exc)
    else:
        if version.number != before:
            messages.success(request, _("参数已更新为第 %(n)s 版") % {"n": version.number})
        else:
            messages.info(request, _("参数没有变化"))
    return redirect("policies:detail", pk=pk)


@login_required
@require_POST
def policy_status(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Cap.POLICIES_MANAGE)
    policy = get_object_or_404(Policy, pk=pk)
    try:
        services.policy_set_status(
            policy=policy, status=request.POST.get("status", ""), acting_user=request.user
        )
    except (ValidationError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            _fail(request, exc)
        else:
            messages.error(request, _("没有这种状态"))
    else:
        messages.success(request, _("政策状态已更新为“%(s)s”") % {"s": policy.get_status_display()})
    return redirect("policies:detail", pk=pk)


@login_required
@require_POST
def budget_set(request: HttpRequest, pk: int, measure_pk: int) -> HttpResponse:
    measure = _measure(request, pk, measure_pk)
    try:
        year = int(request.POST.get("year", "0"))
        amount = yuan_to_fen(request.POST.get("amount", ""), "amount_fen") or 0
        services.budget_set(measure=measure, year=year, amount_fen=amount, acting_user=request.user)
    except ValueError:
        messages.error(request, _("年度应为四位数字"))
        year = _year(request)
    except ValidationError as exc:
        _fail(request, exc)
        year = _year(request)
    else:
        messages.success(request, _("预算已保存"))
    return redirect(f"/policies/{pk}/?year={year}")
