"""Registry API shapes. Reference data (industry, category, chain, grid) travels as codes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.utils import timezone
from ninja import Field, Schema

SortKey = Literal[
    "name",
    "-name",
    "uscc",
    "-uscc",
    "founded_on",
    "-founded_on",
    "registered_capital",
    "-registered_capital",
    "updated_at",
    "-updated_at",
]


class ErrorItem(Schema):
    field: str = Field(..., description="字段名;整体错误为 __all__")
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[ErrorItem] = []


class NotFoundOut(Schema):
    detail: str


class EnterpriseFilter(Schema):
    """The list page's filters (same names, same meaning)."""

    q: str = Field("", description="名称、曾用名、信用代码前缀或拼音首字母")
    industry: str = Field("", description="门类字母或代码前缀,如 C、36、C3670")
    sei: str = Field("", description="战新类别代码")
    chain: str = Field("", description="产业链 id 或代码")
    qualification: str = Field("", description="资质类型,如 high_tech")
    on: dt.date | None = Field(None, description="资质有效日期,默认今天")
    size: str = ""
    status: str = ""
    street: str = ""
    grid: str = Field("", description="网格 id 或代码")
    sort: SortKey = "name"


class IndustryRef(Schema):
    code: str
    name: str
    section: str


class IndustryOut(IndustryRef):
    level: int
    parent: str | None = None

    @staticmethod
    def resolve_parent(obj: Any) -> str | None:
        return obj.parent.code if obj.parent_id else None


class EmergingCategoryOut(Schema):
    code: str
    name: str


class ChainRef(Schema):
    id: int
    code: str
    name: str


class ChainOut(ChainRef):
    group: str
    description: str
    sort_order: int
    is_active: bool
    enterprise_count: int | None = None


class ChainIn(Schema):
    code: str
    name: str
    group: Literal["pillar", "emerging", "service"]
    description: str = ""
    sort_order: int = 0
    is_active: bool = True


class ChainPatch(Schema):
    code: str | None = None
    name: str | None = None
    group: Literal["pillar", "emerging", "service"] | None = None
    description: str | None = None
    sort_order: int | None = None
    is_active: bool | None = None


class GridRef(Schema):
    id: int
    code: str
    name: str
    street: str


class EnterpriseOut(Schema):
    id: int
    uscc: str
    name: str
    former_names: list[str]
    name_initials: str
    founded_on: dt.date | None
    registered_capital: Decimal | None = Field(None, description="万元")
    legal_representative: str
    address: str
    industry: IndustryRef | None
    sei_category: EmergingCategoryOut | None
    sei_status: str
    chain: ChainRef | None
    chain_position: str
    grid: GridRef | None
    status: str
    size: str
    is_non_public: bool
    contact_name: str
    contact_phone: str
    description: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_former_names(obj: Any) -> list[str]:
        return list(obj.former_name_list)


class EnterpriseIn(Schema):
    uscc: str = Field(..., description="统一社会信用代码(18位,含校验位)")
    name: str
    former_names: list[str] = []
    founded_on: dt.date | None = None
    registered_capital: Decimal | None = Field(None, description="万元")
    legal_representative: str = ""
    address: str = ""
    industry: str = Field("", description="行业代码,如 3670 或 C3670")
    sei_category: str = Field(
        "", description="战新类别代码;有审核权限者填写即为已确认,否则进入待审核"
    )
    chain: str = Field("", description="产业链代码")
    chain_position: str = ""
    grid: str = Field("", description="网格代码")
    status: str = "operating"
    size: str = ""
    is_non_public: bool = True
    contact_name: str = ""
    contact_phone: str = ""
    description: str = ""


class EnterprisePatch(Schema):
    """Only the fields sent are changed. Enterprise users may send contact_name, contact_phone,
    address, description and sei_category (a declaration staff will review)."""

    uscc: str | None = None
    name: str | None = None
    former_names: list[str] | None = None
    founded_on: dt.date | None = None
    registered_capital: Decimal | None = None
    legal_representative: str | None = None
    address: str | None = None
    industry: str | None = None
    sei_category: str | None = None
    chain: str | None = None
    chain_position: str | None = None
    grid: str | None = None
    status: str | None = None
    size: str | None = None
    is_non_public: bool | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    description: str | None = None


class QualificationOut(Schema):
    id: int
    enterprise_id: int
    kind: str
    kind_label: str
    level: str
    subtype: str
    certificate_no: str
    recognised_on: dt.date
    valid_until: dt.date
    notes: str
    valid_today: bool

    @staticmethod
    def resolve_kind_label(obj: Any) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_valid_today(obj: Any) -> bool:
        return bool(obj.is_valid_on(timezone.localdate()))


class QualificationIn(Schema):
    kind: str
    level: str = ""
    subtype: str = ""
    certificate_no: str = ""
    recognised_on: dt.date
    valid_until: dt.date | None = Field(None, description="不填则按类型推算")
    notes: str = ""


class QualificationPatch(Schema):
    kind: str | None = None
    level: str | None = None
    subtype: str | None = None
    certificate_no: str | None = None
    recognised_on: dt.date | None = None
    valid_until: dt.date | None = None
    notes: str | None = None


class ChangeOut(Schema):
    field: str
    label: str
    old: str
    new: str


class TimelineEntryOut(Schema):
    id: int
    at: dt.datetime
    actor_label: str
    channel: str
    action: str
    model: str
    object_id: str
    object_repr: str
    changes: dict[str, Any]
    change_lines: list[ChangeOut] = []


class SeiReviewIn(Schema):
    decision: Literal["confirmed", "rejected"]
    reason: str = ""
