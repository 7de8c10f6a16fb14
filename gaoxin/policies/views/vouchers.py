"""Innovation voucher pages (创新券): staff list and issue vouchers, record a redemption on a
provider's behalf, release what is left of an expired voucher, register providers and settle
with them; an enterprise user sees its own vouchers and their balances. Every write is one
service call; errors are shown next to the fields they concern."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gaoxin.accounts.roles import Cap
from gaoxin.core.access import vouchers_visible_to
from gaoxin.core.validators import normalise_code
from gaoxin.policies import services
from gaoxin.policies.measures import SHIPPED
from gaoxin.policies.models import Measure, Policy, Redemption, ServiceProvider, Voucher
from gaoxin.policies.services.vouchers import VOUCHER_CODE
from gaoxin.policies.templatetags.money import yuan
from gaoxin.policies.views.setup import _can, _day, _require, yuan_to_fen
from gaoxin.registry.models import Enterprise

PAGE = 50
Errors = dict[str, list[str]]


def _get_voucher(request: HttpRequest, pk: Any) -> Voucher:
    """The one way these pages fetch a voucher: staff who read policies see any, an enterprise
    user only its own; anything else is 404."""
    try:
        return (
            vouchers_visible_to(request.user)
            .select_related("enterprise", "measure__policy", "issued_by")
            .get(pk=pk)
        )
    except (ValueError, TypeError, Voucher.DoesNotExist) as exc:
        raise Http404 from exc


def _errors(exc: ValidationError) -> Errors:
    out: Errors = {}
    for name, items in exc.message_dict.items():
        # Templates cannot read "__all__": errors about no one field are "general".
        out["general" if name == NON_FIELD_ERRORS else name] = list(items)
    return out


def _collect(errors: Errors, parse: Any, *args: Any, **kwargs: Any) -> Any:
    """Runs one parser, keeping its error with the others so the form shows every mistake."""
    try:
        return parse(*args, **kwargs)
    except ValidationError as exc:
        for name, items in _errors(exc).items():
            errors.setdefault(name, []).extend(items)
        return None


def _year(text: str, field: str = "year") -> int:
    try:
        year = int((text or "").strip())
    except ValueError as exc:
        raise ValidationError({field: _("年度应为四位数字")}) from exc
    if not 2000 <= year <= 2100:
        raise ValidationError({field: _("年度应为四位数字")})
    return year


def _voucher_measures() -> list[Measure]:
    return list(
        Measure.objects.filter(code=VOUCHER_CODE, policy__status=Policy.Status.PUBLISHED)
        .select_related("policy")
        .prefetch_related("versions")
        .order_by("-policy__effective_from", "pk")
    )


# --- vouchers -------------------------------------------------------------------------------------


@login_required
def voucher_list(request: HttpRequest) -> HttpResponse:
    """Staff: every voucher, filtered by enterprise name (or credit code), status and year."""
    _require(request, Cap.POLICIES_VIEW)
    filters = {k: request.GET.get(k, "").strip() for k in ("q", "status", "year")}
    qs = Voucher.objects.select_related("enterprise", "measure__policy")
    if filters["q"]:
        code = normalise_code(filters["q"])
        qs = qs.filter(Q(enterprise__name__icontains=filters["q"]) | Q(enterprise__uscc=code))
    if filters["status"] in Voucher.Status.values:
        qs = qs.filter(status=filters["status"])
    else:
        filters["status"] = ""
    if filters["year"].isdigit():
        qs = qs.filter(year=int(filters["year"]))
    else:
        filters["year"] = ""
    totals = qs.aggregate(amount=Sum("amount_fen"), redeemed=Sum("redeemed_fen"))
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "policies/vouchers/list.html",
        {
            "page": page,
            "filters": {k: v for k, v in filters.items() if v},
            "f": filters,
            "statuses": Voucher.Status.choices,
            "totals": totals,
            "today": timezone.localdate(),
            "can_issue": _can(request, Cap.POLICIES_APPROVE),
        },
    )


def _issue_context(posted: Any, errors: Errors) -> dict[str, Any]:
    measures = _voucher_measures()
    today = timezone.localdate()
    defaults = {
        "year": str(today.year),
        "valid_from": today.isoformat(),
        # A voucher is spent within its budget year unless the issuer says otherwise.
        "valid_to": dt.date(today.year, 12, 31).isoformat(),
        "measure": str(measures[0].pk) if measures else "",
        "amount": "",
    }
    if measures:
        fen = (
            measures[0]
            .current()
            .params.get("voucher_fen", SHIPPED[VOUCHER_CODE].defaults["voucher_fen"])
        )
        defaults["amount"] = yuan(fen)
    values = {k: posted.get(k, v) if posted else v for k, v in defaults.items()}
    values["enterprise"] = posted.get("enterprise", "") if posted else ""
    return {"measures": measures, "values": values, "errors": errors}


def _find_enterprise(text: str) -> Enterprise:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"enterprise": _("请填写企业名称或统一社会信用代码")})
    found = list(Enterprise.objects.filter(Q(uscc=normalise_code(text)) | Q(name=text))[:2])
    if not found:
        raise ValidationError({"enterprise": _("没有找到企业“%(text)s”") % {"text": text}})
    if len(found) > 1:
        raise ValidationError(
            {"enterprise": _("有多家企业名为“%(text)s”,请填写信用代码") % {"text": text}}
        )
    return found[0]


@login_required
def voucher_issue(request: HttpRequest) -> HttpResponse:
    """Issue a voucher to an enterprise: the amount is committed against the measure's budget."""
    _require(request, Cap.POLICIES_APPROVE)
    errors: Errors = {}
    if request.method == "POST":
        post = request.POST
        enterprise = _collect(errors, _find_enterprise, post.get("enterprise", ""))
        measure = None
        measure_pk = post.get("measure", "")
        if measure_pk.isdigit():
            measure = Measure.objects.select_related("policy").filter(pk=measure_pk).first()
        if measure is None:
            errors.setdefault("measure", []).append(_("请选择创新券条款"))
        year = _collect(errors, _year, post.get("year", ""))
        amount = _collect(errors, yuan_to_fen, post.get("amount", ""), "amount_fen")
        valid_from = _collect(errors, _day, post.get("valid_from", ""), "valid_from")
        valid_to = _collect(errors, _day, post.get("valid_to", ""), "valid_to")
        if not errors:
            try:
                voucher = services.voucher_issue(
                    enterprise=enterprise,
                    measure=measure,  # type: ignore[arg-type]
                    year=year,
                    amount_fen=amount,
                    valid_from=valid_from,
                    valid_to=valid_to,
                    acting_user=request.user,
                )
            except ValidationError as exc:
                errors = _errors(exc)
            else:
                messages.success(
                    request,
                    _("已向%(e)s发放创新券%(n)s")
                    % {"e": voucher.enterprise.name, "n": voucher.number},
                )
                return redirect("policies:voucher_detail", pk=voucher.pk)
    context = _issue_context(request.POST if request.method == "POST" else None, errors)
    return render(request, "policies/vouchers/issue.html", context)


@login_required
def voucher_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A voucher, its redemptions and (for staff) its ledger entries; the staff actions."""
    voucher = _get_voucher(request, pk)
    staff = _can(request, Cap.POLICIES_VIEW)
    today = timezone.localdate()
    can_act = _can(request, Cap.POLICIES_APPROVE) and voucher.status == Voucher.Status.ACTIVE
    return render(
        request,
        "policies/vouchers/detail.html",
        {
            "v": voucher,
            "staff": staff,
            "redemptions": voucher.redemptions.select_related("provider", "settlement"),
            "entries": voucher.entries.prefetch_related("postings") if staff else [],
            "can_redeem": can_act,
            "can_release": can_act and today > voucher.valid_to,
            "today": today,
        },
    )


@login_required
def voucher_redeem(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff record a voucher used against a provider's service contract, on its behalf."""
    _require(request, Cap.POLICIES_APPROVE)
    voucher = _get_voucher(request, pk)
    providers = list(ServiceProvider.objects.filter(active=True))
    errors: Errors = {}
    values = {
        "provider": "",
        "contract_no": "",
        "service": "",
        "amount": "",
        "redeemed_on": timezone.localdate().isoformat(),
    }
    if request.method == "POST":
        post = request.POST
        values = {k: post.get(k, "").strip() for k in values}
        provider = None
        if values["provider"].isdigit():
            provider = ServiceProvider.objects.filter(pk=values["provider"]).first()
        if provider is None:
            errors.setdefault("provider", []).append(_("请选择服务机构"))
        amount = _collect(errors, yuan_to_fen, values["amount"], "amount_fen")
        day = _collect(errors, _day, values["redeemed_on"], "redeemed_on")
        if not errors:
            try:
                redemption, created = services.voucher_redeem(
                    voucher=voucher,
                    provider=provider,  # type: ignore[arg-type]
                    contract_no=values["contract_no"],
                    service=values["service"],
                    amount_fen=amount,
                    redeemed_on=day,
                    acting_user=request.user,
                )
            except ValidationError as exc:
                errors = _errors(exc)
            else:
                if created:
                    messages.success(
                        request,
                        _("已登记合同%(c)s的创新券使用") % {"c": redemption.contract_no},
                    )
                else:
                    messages.info(
                        request,
                        _("合同%(c)s此前已登记,未重复扣减") % {"c": redemption.contract_no},
                    )
                return redirect("policies:voucher_detail", pk=voucher.pk)
    return render(
        request,
        "policies/vouchers/redeem.html",
        {"v": voucher, "providers": providers, "values": values, "errors": errors},
    )


@login_required
@require_POST
def voucher_release(request: HttpRequest, pk: int) -> HttpResponse:
    """Return what is left of an expired voucher to the measure's budget."""
    _require(request, Cap.POLICIES_APPROVE)
    voucher = _get_voucher(request, pk)
    try:
        services.voucher_release(voucher=voucher, acting_user=request.user)
    except ValidationError as exc:
        for items in exc.message_dict.values():
            for message in items:
                messages.error(request, message)
    else:
        messages.success(request, _("创新券%(n)s的余额已收回预算") % {"n": voucher.number})
    return redirect("policies:voucher_detail", pk=voucher.pk)


@login_required
def my_vouchers(request: HttpRequest) -> HttpResponse:
    """An enterprise user: its own vouchers with what is left on each."""
    _require(request, Cap.POLICIES_OWN)
    enterprise_id = getattr(request.user, "enterprise_id", None)
    if not enterprise_id:
        raise Http404
    vouchers = list(
        vouchers_visible_to(request.user)
        .filter(enterprise_id=enterprise_id)
        .select_related("measure__policy")
    )
    return render(
        request,
        "policies/vouchers/mine.html",
        {
            "vouchers": vouchers,
            "balance": sum(v.balance_fen for v in vouchers if v.status == Voucher.Status.ACTIVE),
            "today": timezone.localdate(),
        },
    )


# --- providers and settlements --------------------------------------------------------------------

PROVIDER_FIELDS = ("name", "uscc", "services", "account_bank", "account_name", "account_no")


@login_required
def provider_list(request: HttpRequest) -> HttpResponse:
    """Staff: registered providers with what they have redeemed and what is still unsettled."""
    _require(request, Cap.POLICIES_VIEW)
    providers = ServiceProvider.objects.annotate(
        redeemed=Sum("redemptions__amount_fen"),
        unsettled=Sum("redemptions__amount_fen", filter=Q(redemptions__settlement__isnull=True)),
        contracts=Count("redemptions"),
    )
    return render(
        request,
        "policies/vouchers/providers.html",
        {
            "providers": providers,
            "can_register": _can(request, Cap.POLICIES_APPROVE),
            "can_settle": _can(request, Cap.POLICIES_PAY),
            "values": {},
            "errors": {},
        },
    )


@login_required
def provider_create(request: HttpRequest) -> HttpResponse:
    """Register a service provider where vouchers may be redeemed."""
    _require(request, Cap.POLICIES_APPROVE)
    errors: Errors = {}
    values = dict.fromkeys(PROVIDER_FIELDS, "")
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in PROVIDER_FIELDS}
        try:
            provider = services.provider_register(**values, acting_user=request.user)
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, _("服务机构“%(n)s”已登记") % {"n": provider.name})
            return redirect("policies:provider_list")
    return render(
        request, "policies/vouchers/provider_form.html", {"values": values, "errors": errors}
    )


@login_required
def settlement(request: HttpRequest, pk: int) -> HttpResponse:
    """The finance bureau pays a provider for all its redemptions not yet settled."""
    _require(request, Cap.POLICIES_PAY)
    provider = get_object_or_404(ServiceProvider, pk=pk)
    errors: Errors = {}
    values = {"paid_on": timezone.localdate().isoformat(), "bank_reference": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "").strip() for k in values}
        paid_on = _collect(errors, _day, values["paid_on"], "paid_on")
        if not errors:
            try:
                done = services.settlement_create(
                    provider=provider,
                    paid_on=paid_on,
                    bank_reference=values["bank_reference"],
                    acting_user=request.user,
                    expected_ids=[
                        int(i) for i in request.POST.getlist("redemptions") if i.isdigit()
                    ],
                )
            except ValidationError as exc:
                errors = _errors(exc)
            else:
                messages.success(
                    request,
                    _("已与“%(p)s”结算%(n)s笔,共%(t)s元")
                    % {
                        "p": provider.name,
                        "n": done.redemptions.count(),
                        "t": yuan(done.total_fen),
                    },
                )
                return redirect("policies:settlement", pk=provider.pk)
    pending = list(
        Redemption.objects.filter(provider=provider, settlement__isnull=True).select_related(
            "voucher__enterprise", "recorded_by"
        )
    )
    return render(
        request,
        "policies/vouchers/settlement.html",
        {
            "provider": provider,
            "pending": pending,
            "pending_total": sum(r.amount_fen for r in pending),
            "settlements": provider.settlements.annotate(n=Count("redemptions")).select_related(
                "created_by"
            ),
            "values": values,
            "errors": errors,
        },
    )
