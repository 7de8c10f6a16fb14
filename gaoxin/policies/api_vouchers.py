"""Innovation vouchers (创新券) as JSON, with the pages' permissions: staff who read policies see
every voucher and provider, an enterprise user only its own vouchers; issuing, redeeming,
releasing and registering providers need POLICIES_APPROVE, settling POLICIES_PAY. Anything
out of scope answers 404; bodies are parsed after the access check; a refused write answers
422 with one message per field.

A redemption may carry an `Idempotency-Key` header (per user, at most 80 characters), stored
with the redemption: the same key again answers 200 with the redemption it recorded, the key
reused for a different request answers 422. Without a key the same contract is still redeemed
once (the service's own guard)."""

import datetime as dt
from typing import Any

from django.db.models import Q
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import PageNumberPagination, paginate

from gaoxin.accounts.roles import Cap
from gaoxin.core.access import require, vouchers_visible_to
from gaoxin.core.api_bodies import body_schema as _body
from gaoxin.core.api_bodies import fail as _fail
from gaoxin.core.api_bodies import parse_body as _payload
from gaoxin.core.validators import normalise_code
from gaoxin.policies import services
from gaoxin.policies.models import Measure, Redemption, ServiceProvider, Settlement, Voucher
from gaoxin.registry.models import Enterprise
from gaoxin.registry.schemas import ErrorOut, NotFoundOut

router = Router(tags=["vouchers"])


class VoucherOut(Schema):
    id: int
    number: str
    enterprise_id: int
    enterprise: str
    measure_id: int
    measure: str
    year: int
    amount_fen: int
    redeemed_fen: int
    balance_fen: int
    valid_from: dt.date
    valid_to: dt.date
    status: str

    @staticmethod
    def resolve_enterprise(obj: Voucher) -> str:
        return obj.enterprise.name

    @staticmethod
    def resolve_measure(obj: Voucher) -> str:
        return obj.measure.name


class RedemptionOut(Schema):
    id: int
    voucher_id: int
    voucher: str
    provider_id: int
    provider: str
    contract_no: str
    service: str
    amount_fen: int
    redeemed_on: dt.date
    settlement_id: int | None

    @staticmethod
    def resolve_voucher(obj: Redemption) -> str:
        return obj.voucher.number

    @staticmethod
    def resolve_provider(obj: Redemption) -> str:
        return obj.provider.name


class VoucherDetailOut(VoucherOut):
    redemptions: list[RedemptionOut]

    @staticmethod
    def resolve_redemptions(obj: Voucher) -> list[Redemption]:
        return list(obj.redemptions.select_related("voucher", "provider"))


class VoucherFilter(Schema):
    enterprise: str | None = Field(None, description="企业名称(包含)或统一社会信用代码")
    status: str | None = Field(None, description="active / released")
    year: int | None = None


class VoucherIn(Schema):
    enterprise_id: int
    measure_id: int
    year: int
    amount_fen: int = Field(..., description="面额(分)")
    valid_from: dt.date
    valid_to: dt.date


class RedemptionIn(Schema):
    provider_id: int
    contract_no: str
    service: str
    amount_fen: int = Field(..., description="抵扣金额(分)")
    redeemed_on: dt.date


class ProviderOut(Schema):
    id: int
    name: str
    uscc: str
    services: str
    account_bank: str
    account_name: str
    account_no: str
    active: bool


class ProviderIn(Schema):
    name: str
    uscc: str
    services: str = ""
    account_bank: str
    account_name: str
    account_no: str


class SettlementIn(Schema):
    paid_on: dt.date
    bank_reference: str = ""


class SettlementOut(Schema):
    id: int
    provider_id: int
    total_fen: int
    paid_on: dt.date
    bank_reference: str
    redemptions: list[int]

    @staticmethod
    def resolve_redemptions(obj: Settlement) -> list[int]:
        return list(obj.redemptions.order_by("pk").values_list("pk", flat=True))


def _visible(user: Any) -> Any:
    if not (user.is_authenticated and (user.can(Cap.POLICIES_VIEW) or user.can(Cap.POLICIES_OWN))):
        raise Http404
    return vouchers_visible_to(user).select_related("enterprise", "measure")


def _voucher(user: Any, voucher_id: int) -> Voucher:
    try:
        voucher: Voucher = _visible(user).get(pk=voucher_id)
    except Voucher.DoesNotExist as exc:
        raise Http404 from exc
    return voucher


# --- vouchers -------------------------------------------------------------------------------------


@router.get("", response=list[VoucherOut], summary="创新券列表(工作人员:全部;企业:本企业)")
@paginate(PageNumberPagination, page_size=50)
def voucher_list(request: HttpRequest, filters: Query[VoucherFilter]) -> Any:
    qs = _visible(request.user)
    if filters.enterprise:
        qs = qs.filter(
            Q(enterprise__name__icontains=filters.enterprise)
            | Q(enterprise__uscc=normalise_code(filters.enterprise))
        )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.year:
        qs = qs.filter(year=filters.year)
    return qs


@router.get(
    "/{int:voucher_id}",
    response={200: VoucherDetailOut, 404: NotFoundOut},
    summary="一张创新券及其使用记录",
)
def voucher_detail(request: HttpRequest, voucher_id: int) -> Any:
    return _voucher(request.user, voucher_id)


@router.post(
    "",
    response={201: VoucherDetailOut, 404: NotFoundOut, 422: ErrorOut},
    summary="发放创新券(面额计入条款预算的已批准金额)",
    openapi_extra=_body(VoucherIn),
)
def voucher_issue(request: HttpRequest) -> Any:
    require(request.user, Cap.POLICIES_APPROVE)
    payload = _payload(request, VoucherIn)
    enterprise = get_object_or_404(Enterprise, pk=payload.enterprise_id)
    measure = get_object_or_404(Measure.objects.select_related("policy"), pk=payload.measure_id)
    voucher = services.voucher_issue(
        enterprise=enterprise,
        measure=measure,
        year=payload.year,
        amount_fen=payload.amount_fen,
        valid_from=payload.valid_from,
        valid_to=payload.valid_to,
        acting_user=request.user,
    )
    return Status(201, _voucher(request.user, voucher.pk))


@router.post(
    "/{int:voucher_id}/redemptions",
    response={200: RedemptionOut, 201: RedemptionOut, 404: NotFoundOut, 422: ErrorOut},
    summary="登记创新券使用(同一合同只扣减一次;支持 Idempotency-Key 请求头)",
    openapi_extra={
        **_body(RedemptionIn),
        "parameters": [
            {
                "in": "header",
                "name": "Idempotency-Key",
                "required": False,
                "schema": {"type": "string", "maxLength": 80},
                "description": "同一键重发返回同一条使用记录(200);用于不同请求时返回422",
            }
        ],
    },
)
def voucher_redeem(request: HttpRequest, voucher_id: int) -> Any:
    require(request.user, Cap.POLICIES_APPROVE)
    voucher = _voucher(request.user, voucher_id)
    payload = _payload(request, RedemptionIn)
    provider = get_object_or_404(ServiceProvider, pk=payload.provider_id)
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if len(key) > 80:
        raise _fail([{"field": "Idempotency-Key", "message": _("幂等键不能超过80个字符")}])
    redemption, created = services.voucher_redeem(
        voucher=voucher,
        provider=provider,
        contract_no=payload.contract_no,
        service=payload.service,
        amount_fen=payload.amount_fen,
        redeemed_on=payload.redeemed_on,
        acting_user=request.user,
        # Keys are the client's own: two users choosing the same key must not meet.
        idempotency_key=f"api:{request.user.pk}:{key}" if key else None,
    )
    redemption = Redemption.objects.select_related("voucher", "provider").get(pk=redemption.pk)
    return Status(201 if created else 200, redemption)


@router.post(
    "/{int:voucher_id}/release",
    response={200: VoucherDetailOut, 404: NotFoundOut, 422: ErrorOut},
    summary="到期后收回创新券余额(退回条款预算)",
)
def voucher_release(request: HttpRequest, voucher_id: int) -> Any:
    require(request.user, Cap.POLICIES_APPROVE)
    voucher = _voucher(request.user, voucher_id)
    services.voucher_release(voucher=voucher, acting_user=request.user)
    return _voucher(request.user, voucher.pk)


# --- providers and settlements --------------------------------------------------------------------


@router.get("/providers", response=list[ProviderOut], summary="服务机构列表")
def provider_list(request: HttpRequest) -> Any:
    require(request.user, Cap.POLICIES_VIEW)
    return list(ServiceProvider.objects.all())


@router.post(
    "/providers",
    response={201: ProviderOut, 404: NotFoundOut, 422: ErrorOut},
    summary="登记服务机构",
    openapi_extra=_body(ProviderIn),
)
def provider_create(request: HttpRequest) -> Any:
    require(request.user, Cap.POLICIES_APPROVE)
    payload = _payload(request, ProviderIn)
    provider = services.provider_register(**payload.model_dump(), acting_user=request.user)
    return Status(201, provider)


@router.post(
    "/providers/{int:provider_id}/settlements",
    response={201: SettlementOut, 404: NotFoundOut, 422: ErrorOut},
    summary="与服务机构结算全部待结算的创新券使用(已批准→已支付)",
    openapi_extra=_body(SettlementIn),
)
def settlement_create(request: HttpRequest, provider_id: int) -> Any:
    require(request.user, Cap.POLICIES_PAY)
    provider = get_object_or_404(ServiceProvider, pk=provider_id)
    payload = _payload(request, SettlementIn)
    settlement = services.settlement_create(
        provider=provider,
        paid_on=payload.paid_on,
        bank_reference=payload.bank_reference,
        acting_user=request.user,
    )
    return Status(201, settlement)
