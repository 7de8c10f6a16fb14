"""Indicator values with breakdowns and lineage, and targets, as JSON. Same permissions as the
pages: staff with the indicator capability; everything else answers 404."""

from decimal import Decimal

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from gaoxin.accounts.roles import Cap
from gaoxin.core.access import require
from gaoxin.indicators import selectors, services
from gaoxin.indicators.engine import (
    FIRST,
    REVISED,
    Scope,
    compute,
    indicator_by_code,
    summary,
)
from gaoxin.registry.models import Enterprise

router = Router(tags=["indicators"])


class ScopeQuery(Schema):
    year: int
    month: int | None = None
    basis: str = REVISED


class IndicatorOut(Schema):
    code: str
    name: str
    name_en: str
    unit: str
    definition: str
    year: int
    month: int | None
    basis: str
    value: Decimal | None
    target: Decimal | None
    enterprises: int
    breakdowns: dict[str, dict[str, Decimal | None]]


class MemberOut(Schema):
    enterprise_id: int
    uscc: str
    name: str
    numerator: Decimal
    denominator: Decimal


class TargetIn(Schema):
    code: str
    year: int
    value: Decimal
    note: str = ""


class TargetOut(Schema):
    code: str
    year: int
    value: Decimal
    note: str


def _scope(q: ScopeQuery) -> Scope:
    if not 2000 <= q.year <= 2100 or (q.month is not None and not 1 <= q.month <= 12):
        raise Http404
    return Scope(year=q.year, month=q.month, basis=FIRST if q.basis == FIRST else REVISED)


def _out(code: str, scope: Scope) -> IndicatorOut:
    indicator = indicator_by_code(code)
    if indicator is None:
        raise Http404
    found = summary(code, scope)
    return IndicatorOut(
        code=code,
        name=str(indicator.name),
        name_en=indicator.name_en,
        unit=str(indicator.unit),
        definition=str(indicator.definition),
        year=scope.year,
        month=scope.month,
        basis=scope.basis,
        value=found.value,
        target=selectors.targets_for(scope.year).get(code),
        enterprises=found.count,
        breakdowns=found.breakdowns,
    )


@router.get("/", response=list[IndicatorOut], summary="All indicators for a period")
def list_indicators(request: HttpRequest, q: Query[ScopeQuery]) -> list[IndicatorOut]:
    require(request.user, Cap.INDICATORS_VIEW)
    scope = _scope(q)
    return [_out(row.code, scope) for row in selectors.indicator_rows(scope)]


@router.post("/targets", response=TargetOut, summary="Set an indicator's target for a year")
def set_target(request: HttpRequest, payload: TargetIn) -> TargetOut:
    require(request.user, Cap.INDICATORS_TARGETS)
    target = services.target_set(
        code=payload.code,
        year=payload.year,
        value=payload.value,
        note=payload.note,
        acting_user=request.user,
    )
    return TargetOut(code=target.code, year=target.year, value=target.value, note=target.note)


@router.get("/{code}", response=IndicatorOut, summary="One indicator with its breakdowns")
def get_indicator(request: HttpRequest, code: str, q: Query[ScopeQuery]) -> IndicatorOut:
    require(request.user, Cap.INDICATORS_VIEW)
    return _out(code, _scope(q))


@router.get(
    "/{code}/lineage",
    response=list[MemberOut],
    summary="The enterprises behind the value and what each contributes",
)
@paginate(PageNumberPagination, page_size=200)
def lineage(request: HttpRequest, code: str, q: Query[ScopeQuery]) -> list[MemberOut]:
    require(request.user, Cap.INDICATORS_VIEW)
    if indicator_by_code(code) is None:
        raise Http404
    scope = _scope(q)
    result = compute(code, scope)
    services.lineage_export_record(code=code, scope=scope, acting_user=request.user)
    info = dict(
        (pk, (uscc, name))
        for pk, uscc, name in Enterprise.objects.filter(
            pk__in=[m.enterprise_id for m in result.members]
        ).values_list("pk", "uscc", "name")
    )
    return [
        MemberOut(
            enterprise_id=m.enterprise_id,
            uscc=info.get(m.enterprise_id, ("", ""))[0],
            name=info.get(m.enterprise_id, ("", ""))[1],
            numerator=m.numerator,
            denominator=m.denominator,
        )
        for m in result.members
    ]
