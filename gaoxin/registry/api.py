"""The registry JSON API: the pages' permissions, forms and services behind JSON.

Access goes through gaoxin.core.access (404 for anything out of scope or any missing
capability); input is validated by the same forms as the pages; writes go through services, so
every change leaves its audit row. A Django ValidationError becomes the 422 shape config/api.py
uses for schema errors: {"detail": ..., "errors": [{"field": ..., "message": ...}]}.
"""

from typing import Any

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import ValidationError as NinjaValidationError
from ninja.pagination import PageNumberPagination, paginate

from gaoxin.accounts.roles import Cap
from gaoxin.core.access import (
    enterprises_visible_to,
    get_chain_for_user,
    get_enterprise_for_user,
    get_qualification_for_user,
    require,
)
from gaoxin.core.api_bodies import body_schema as _body
from gaoxin.core.api_bodies import fail as _fail
from gaoxin.core.api_bodies import parse_body as _payload
from gaoxin.registry import selectors, services
from gaoxin.registry.forms import (
    ChainForm,
    ChineseForm,
    EnterpriseForm,
    EnterpriseSelfForm,
    QualificationForm,
    chain_initial,
    enterprise_initial,
    qualification_initial,
)
from gaoxin.registry.models import EmergingCategory, Enterprise, IndustryCategory, IndustryChain
from gaoxin.registry.schemas import (
    ChainIn,
    ChainOut,
    ChainPatch,
    EmergingCategoryOut,
    EnterpriseFilter,
    EnterpriseIn,
    EnterpriseOut,
    EnterprisePatch,
    ErrorOut,
    IndustryOut,
    NotFoundOut,
    QualificationIn,
    QualificationOut,
    QualificationPatch,
    SeiReviewIn,
    TimelineEntryOut,
)
from gaoxin.registry.services import ENTERPRISE_SELF_SERVICE_FIELDS

router = Router(tags=["registry"])

ENTERPRISE_RELATED = ("industry", "sei_category", "chain", "grid")


def _form_errors(form: ChineseForm) -> NinjaValidationError:
    return _fail(form.error_list())


def _require_registry_reader(user: Any) -> None:
    if not (
        user.is_authenticated
        and (user.can(Cap.REGISTRY_VIEW_ALL) or (user.can(Cap.REGISTRY_OWN) and user.enterprise_id))
    ):
        raise Http404


def _enterprise_form_data(payload: dict[str, Any]) -> dict[str, Any]:
    data = {}
    for key, value in payload.items():
        if key == "former_names" and isinstance(value, list):
            value = ";".join(str(v) for v in value)
        data[key] = (
            "" if value is None and key not in ("founded_on", "registered_capital") else value
        )
    return data


def _with_related(enterprise: Enterprise) -> Enterprise:
    return Enterprise.objects.select_related(*ENTERPRISE_RELATED).get(pk=enterprise.pk)


# --- Enterprises -------------------------------------------------------------------------------


@router.get("/enterprises", response=list[EnterpriseOut], summary="企业列表(与企业库页面同一筛选)")
@paginate(PageNumberPagination, page_size=50)
def list_enterprises(request: HttpRequest, filters: Query[EnterpriseFilter]) -> Any:
    """Staff see every enterprise; an enterprise user sees only their own."""
    _require_registry_reader(request.user)
    params = filters.model_dump(exclude_none=True)
    return selectors.enterprise_filter(
        params, base=enterprises_visible_to(request.user)
    ).select_related(*ENTERPRISE_RELATED)


@router.get(
    "/enterprises/{int:enterprise_id}",
    response={200: EnterpriseOut, 404: NotFoundOut},
    summary="企业详情",
)
def get_enterprise(request: HttpRequest, enterprise_id: int) -> Any:
    return get_enterprise_for_user(request.user, enterprise_id)


@router.post(
    "/enterprises",
    response={201: EnterpriseOut, 404: NotFoundOut, 422: ErrorOut},
    summary="新增企业",
    openapi_extra=_body(EnterpriseIn),
)
def create_enterprise(request: HttpRequest) -> Any:
    require(request.user, Cap.REGISTRY_EDIT)
    payload = _payload(request, EnterpriseIn)
    form = EnterpriseForm(
        _enterprise_form_data(payload.model_dump()),
        can_review=request.user.can(Cap.REGISTRY_REVIEW),
    )
    if not form.is_valid():
        raise _form_errors(form)
    enterprise = services.enterprise_create(data=form.service_data(), acting_user=request.user)
    return Status(201, _with_related(enterprise))


@router.patch(
    "/enterprises/{int:enterprise_id}",
    response={200: EnterpriseOut, 404: NotFoundOut, 422: ErrorOut},
    summary="修改企业(只改传入的字段)",
    openapi_extra=_body(EnterprisePatch),
)
def update_enterprise(request: HttpRequest, enterprise_id: int) -> Any:
    user = request.user
    enterprise = get_enterprise_for_user(user, enterprise_id, for_edit=True)
    payload = _payload(request, EnterprisePatch)
    sent = _enterprise_form_data(payload.model_dump(exclude_unset=True))
    staff = user.can(Cap.REGISTRY_EDIT)
    if not staff:
        refused = sorted(set(sent) - set(ENTERPRISE_SELF_SERVICE_FIELDS))
        if refused:
            raise _fail([{"field": f, "message": "企业用户不能修改此项"} for f in refused])
    form_class = EnterpriseForm if staff else EnterpriseSelfForm
    form = form_class(
        {**enterprise_initial(enterprise), **sent},
        instance=enterprise,
        can_review=user.can(Cap.REGISTRY_REVIEW),
    )
    if not form.is_valid():
        raise _form_errors(form)
    update = services.enterprise_update if staff else services.enterprise_self_update
    update(enterprise=enterprise, data=form.service_data(), acting_user=user)
    return _with_related(enterprise)


@router.delete(
    "/enterprises/{int:enterprise_id}",
    response={204: None, 404: NotFoundOut, 422: ErrorOut},
    summary="删除企业",
)
def delete_enterprise(request: HttpRequest, enterprise_id: int) -> Any:
    require(request.user, Cap.REGISTRY_EDIT)
    enterprise = get_enterprise_for_user(request.user, enterprise_id, for_edit=True)
    services.enterprise_delete(enterprise=enterprise, acting_user=request.user)
    return Status(204, None)


@router.post(
    "/enterprises/{int:enterprise_id}/sei-review",
    response={200: EnterpriseOut, 404: NotFoundOut, 422: ErrorOut},
    summary="审核企业申报的战新类别",
    openapi_extra=_body(SeiReviewIn),
)
def review_enterprise_sei(request: HttpRequest, enterprise_id: int) -> Any:
    require(request.user, Cap.REGISTRY_REVIEW)
    enterprise = get_enterprise_for_user(request.user, enterprise_id)
    payload = _payload(request, SeiReviewIn)
    services.enterprise_sei_review(
        enterprise=enterprise,
        decision=payload.decision,
        reason=payload.reason,
        acting_user=request.user,
    )
    return _with_related(enterprise)


class TimelinePage(Schema):
    items: list[TimelineEntryOut]
    count: int


@router.get(
    "/enterprises/{int:enterprise_id}/timeline",
    response={200: TimelinePage, 404: NotFoundOut},
    summary="企业变更记录(含资质)",
)
def enterprise_timeline(
    request: HttpRequest, enterprise_id: int, page: int = 1, page_size: int = 50
) -> Any:
    enterprise = get_enterprise_for_user(request.user, enterprise_id)
    size = max(1, min(page_size, 200))
    paginator = Paginator(selectors.enterprise_timeline(enterprise.pk), size)
    if page < 1 or (page > paginator.num_pages and paginator.count):
        return {"items": [], "count": paginator.count}
    items = list(paginator.page(page).object_list) if paginator.count else []
    selectors.describe_changes(items)
    return {"items": items, "count": paginator.count}


# --- Qualifications ----------------------------------------------------------------------------


@router.get(
    "/enterprises/{int:enterprise_id}/qualifications",
    response={200: list[QualificationOut], 404: NotFoundOut},
    summary="企业的全部资质(含已过期)",
)
def list_qualifications(request: HttpRequest, enterprise_id: int) -> Any:
    enterprise = get_enterprise_for_user(request.user, enterprise_id)
    return list(enterprise.qualifications.order_by("kind", "-recognised_on", "-pk"))


@router.post(
    "/enterprises/{int:enterprise_id}/qualifications",
    response={201: QualificationOut, 404: NotFoundOut, 422: ErrorOut},
    summary="添加资质",
    openapi_extra=_body(QualificationIn),
)
def create_qualification(request: HttpRequest, enterprise_id: int) -> Any:
    require(request.user, Cap.REGISTRY_EDIT)
    enterprise = get_enterprise_for_user(request.user, enterprise_id)
    payload = _payload(request, QualificationIn)
    form = QualificationForm(payload.model_dump(), enterprise=enterprise)
    if not form.is_valid():
        raise _form_errors(form)
    q = services.qualification_create(
        enterprise=enterprise, data=form.service_data(), acting_user=request.user
    )
    return Status(201, q)


@router.patch(
    "/qualifications/{int:qualification_id}",
    response={200: QualificationOut, 404: NotFoundOut, 422: ErrorOut},
    summary="修改资质",
    openapi_extra=_body(QualificationPatch),
)
def update_qualification(request: HttpRequest, qualification_id: int) -> Any:
    q = get_qualification_for_user(request.user, qualification_id, for_edit=True)
    payload = _payload(request, QualificationPatch)
    sent = {
        k: ("" if v is None and k != "valid_until" else v)
        for k, v in payload.model_dump(exclude_unset=True).items()
    }
    form = QualificationForm({**qualification_initial(q), **sent}, instance=q)
    if not form.is_valid():
        raise _form_errors(form)
    services.qualification_update(
        qualification=q, data=form.service_data(), acting_user=request.user
    )
    return q


@router.delete(
    "/qualifications/{int:qualification_id}",
    response={204: None, 404: NotFoundOut},
    summary="删除资质",
)
def delete_qualification(request: HttpRequest, qualification_id: int) -> Any:
    q = get_qualification_for_user(request.user, qualification_id, for_edit=True)
    services.qualification_delete(qualification=q, acting_user=request.user)
    return Status(204, None)


# --- Reference data ----------------------------------------------------------------------------


@router.get("/industries", response=list[IndustryOut], summary="国民经济行业分类(GB/T 4754-2017)")
@paginate(PageNumberPagination, page_size=100)
def list_industries(
    request: HttpRequest, q: str = "", level: int | None = None, parent: str = ""
) -> Any:
    qs = IndustryCategory.objects.select_related("parent").order_by("code")
    term = q.strip()
    if term:
        code = term.upper()
        qs = qs.filter(Q(code__startswith=code) | Q(name__icontains=term))
    if level is not None:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent__code=parent.strip().upper())
    return qs


@router.get(
    "/emerging-categories",
    response=list[EmergingCategoryOut],
    summary="战略性新兴产业分类(2018)一级类别",
)
def list_emerging_categories(request: HttpRequest) -> Any:
    return list(EmergingCategory.objects.order_by("code"))


@router.get("/chains", response=list[ChainOut], summary="产业链(含企业数)")
def list_chains(request: HttpRequest) -> Any:
    """The chains are reference data for everyone; how many firms each holds is for staff."""
    if request.user.can(Cap.REGISTRY_VIEW_ALL):
        return list(selectors.chains_with_counts())
    return list(IndustryChain.objects.order_by("sort_order", "code"))


@router.post(
    "/chains",
    response={201: ChainOut, 404: NotFoundOut, 422: ErrorOut},
    summary="新增产业链",
    openapi_extra=_body(ChainIn),
)
def create_chain(request: HttpRequest) -> Any:
    require(request.user, Cap.REGISTRY_CONFIGURE)
    payload = _payload(request, ChainIn)
    form = ChainForm(payload.model_dump())
    if not form.is_valid():
        raise _form_errors(form)
    chain = services.chain_save(chain=None, data=form.service_data(), acting_user=request.user)
    return Status(201, chain)


@router.patch(
    "/chains/{int:chain_id}",
    response={200: ChainOut, 404: NotFoundOut, 422: ErrorOut},
    summary="修改产业链",
    openapi_extra=_body(ChainPatch),
)
def update_chain(request: HttpRequest, chain_id: int) -> Any:
    chain = get_chain_for_user(request.user, chain_id)
    payload = _payload(request, ChainPatch)
    sent = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    form = ChainForm({**chain_initial(chain), **sent}, instance=chain)
    if not form.is_valid():
        raise _form_errors(form)
    services.chain_save(chain=chain, data=form.service_data(), acting_user=request.user)
    return chain
