"""Report API shapes. Values travel in the units the form shows (万元, 千元 …), keyed by field key;
numbers as decimal strings so nothing is lost to floating point."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from gaoxin.registry.schemas import ErrorItem, ErrorOut, NotFoundOut

__all__ = [
    "CheckOut",
    "DraftIn",
    "EnterpriseRef",
    "ErrorItem",
    "ErrorOut",
    "FieldOut",
    "FindingOut",
    "FormOut",
    "FormRef",
    "MyReportOut",
    "NotFoundOut",
    "OpenIn",
    "PeriodIn",
    "PeriodOut",
    "ReasonIn",
    "ReportOut",
    "RevisionOut",
    "SubmitIn",
    "ValuesIn",
    "WorklistRowOut",
]

Entered = dict[str, str | int | float | bool | None]


class FieldOut(Schema):
    key: str = Field(..., description="字段代码,跨版本稳定;提交数据时用作键")
    label: str = Field(..., description="含单位的指标名称,如 工业总产值(当年价格)(万元)")
    name: str
    unit: str = Field(..., description="yuan/kyuan/wyuan/person/item/percent/none")
    unit_label: str
    kind: str = Field(..., description="decimal/integer/text/boolean")
    required: bool
    non_negative: bool
    help_text: str

    @staticmethod
    def resolve_unit_label(obj: Any) -> str:
        return "" if obj.unit in ("none", "") else str(obj.get_unit_display())


class FormRef(Schema):
    code: str
    version: int
    name: str


class FormOut(FormRef):
    frequency: str = Field(..., description="monthly 月报 / annual 年报")
    effective_from: dt.date
    description: str
    fields: list[FieldOut]

    @staticmethod
    def resolve_fields(obj: Any) -> list[Any]:
        return list(obj.fields.all())


class PeriodOut(Schema):
    id: int
    form_code: str
    year: int
    month: int | None = Field(None, description="年报为空")
    due_on: dt.date
    label: str = Field(..., description="如 2019年3月")

    @staticmethod
    def resolve_label(obj: Any) -> str:
        return str(obj)


class PeriodIn(Schema):
    form_code: str
    year: int
    month: int | None = Field(None, description="月报填1-12,年报不填")
    due_on: dt.date


class EnterpriseRef(Schema):
    id: int
    uscc: str
    name: str


class FindingOut(Schema):
    field: str = Field(..., description="字段代码")
    level: str = Field(..., description="hard 须改正 / soft 须填写情况说明")
    code: str
    message: str


class RevisionOut(Schema):
    number: int = Field(..., description="第几次审核通过;1 为首次报送")
    values: dict[str, Any] = Field(..., description="按表式单位")
    findings: list[FindingOut]
    explanation: str
    correction_reason: str
    accepted_at: dt.datetime
    accepted_by: str | None = None


class ReportOut(Schema):
    id: int
    enterprise: EnterpriseRef
    period: PeriodOut
    form: FormRef
    status: str = Field(..., description="draft/submitted/returned/accepted")
    status_label: str
    late: bool
    values: dict[str, Any] = Field(..., description="按表式单位(万元、千元…),数值为字符串")
    findings: list[FindingOut]
    explanation: str
    return_reason: str
    correction_reason: str
    revision: int = Field(..., description="已审核通过的版本数")
    submitted_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    revisions: list[RevisionOut]


class MyReportOut(Schema):
    """One period of one form for the user's enterprise; report_id is null until first saved."""

    period: PeriodOut
    form_name: str
    report_id: int | None
    status: str = Field(..., description="not_submitted/draft/submitted/returned/accepted")
    status_label: str
    late: bool


class WorklistRowOut(Schema):
    enterprise: EnterpriseRef
    report_id: int | None
    status: str
    status_label: str
    late: bool
    submitted_at: dt.datetime | None
    contact_name: str
    contact_phone: str


class OpenIn(Schema):
    period_id: int = Field(..., description="报告期 id(见 GET /api/reports/periods)")


class ValuesIn(Schema):
    values: Entered = Field(
        default_factory=dict,
        description='按字段代码填写,单位同表式;数值建议用字符串,如 "1234.5"',
    )


class DraftIn(ValuesIn):
    explanation: str | None = Field(None, description="情况说明;不传则保留原值")


class SubmitIn(Schema):
    values: Entered | None = Field(None, description="不传则报送已保存的草稿")
    explanation: str | None = Field(None, description="情况说明;数据波动较大时必填")


class ReasonIn(Schema):
    reason: str


class CheckOut(Schema):
    findings: list[FindingOut]
    can_submit: bool = Field(..., description="没有须改正的错误")
    needs_explanation: bool = Field(..., description="有波动较大的数据,报送时须填写情况说明")
