"""The enterprise list as an .xlsx workbook, written row by row in constant memory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import xlsxwriter
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from gaoxin.registry.models import Enterprise
from gaoxin.registry.selectors import with_current_qualifications

EXPORT_CHUNK = 2000


def _columns(
    qualification_day: dt.date,
) -> list[tuple[str, int, Callable[[Enterprise], Any], str]]:
    """(header, width, value, format) — format is "" (text), "date" or "money"."""

    def name_of(obj: Any) -> str:
        return obj.name if obj is not None else ""

    return [
        (_("统一社会信用代码"), 22, lambda e: e.uscc, ""),
        (_("企业名称"), 36, lambda e: e.name, ""),
        (_("曾用名"), 24, lambda e: ";".join(e.former_name_list), ""),
        (_("成立日期"), 12, lambda e: e.founded_on, "date"),
        (_("注册资本(万元)"), 14, lambda e: e.registered_capital, "money"),
        (_("法定代表人"), 12, lambda e: e.legal_representative, ""),
        (_("行业代码"), 10, lambda e: e.industry.code if e.industry else "", ""),
        (_("行业名称"), 28, lambda e: name_of(e.industry), ""),
        (
            _("战略性新兴产业类别"),
            18,
            lambda e: name_of(e.sei_category),
            "",
        ),
        (
            _("战新类别审核状态"),
            14,
            lambda e: e.get_sei_status_display() if e.sei_status else "",
            "",
        ),
        (_("产业链"), 16, lambda e: name_of(e.chain), ""),
        (
            _("链上位置"),
            10,
            lambda e: e.get_chain_position_display() if e.chain_position else "",
            "",
        ),
        (_("企业状态"), 8, lambda e: e.get_status_display(), ""),
        (_("企业规模"), 8, lambda e: e.get_size_display() if e.size else "", ""),
        (_("街道/片区"), 12, lambda e: e.grid.street if e.grid else "", ""),
        (_("所在网格"), 14, lambda e: name_of(e.grid), ""),
        (
            _("%(day)s有效资质") % {"day": date_format(qualification_day, "DATE_FORMAT")},
            30,
            lambda e: "、".join(
                dict.fromkeys(q.get_kind_display() for q in e.current_qualifications)
            ),
            "",
        ),
        (_("联系人"), 10, lambda e: e.contact_name, ""),
        (_("联系电话"), 14, lambda e: e.contact_phone, ""),
        (_("注册地址"), 36, lambda e: e.address, ""),
        (
            _("更新时间"),
            18,
            lambda e: timezone.localtime(e.updated_at).replace(tzinfo=None),
            "time",
        ),
    ]


def write_enterprise_list(
    qs: QuerySet[Enterprise], path: str, *, qualification_day: dt.date
) -> int:
    """Writes `qs` (already filtered and sorted) to `path`; returns the number of data rows.

    constant_memory keeps one row in memory at a time, so 200k enterprises export in flat
    memory; the queryset is read in chunks with prefetched current qualifications.
    """
    columns = _columns(qualification_day)
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False})
    try:
        sheet = workbook.add_worksheet(_("企业名录"))
        header = workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})
        formats = {
            "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
            "time": workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"}),
            "money": workbook.add_format({"num_format": "#,##0.00"}),
        }
        for col, (title, width, _value, _fmt) in enumerate(columns):
            sheet.set_column(col, col, width)
            sheet.write_string(0, col, title, header)
        sheet.freeze_panes(1, 0)
        rows = (
            with_current_qualifications(qs, qualification_day)
            .select_related("industry", "sei_category", "chain", "grid")
            .iterator(chunk_size=EXPORT_CHUNK)
        )
        n = 0
        for n, enterprise in enumerate(rows, start=1):
            for col, (_title, _width, value_of, fmt) in enumerate(columns):
                value = value_of(enterprise)
                if value is None or value == "":
                    sheet.write_blank(n, col, None)
                elif fmt in ("date", "time"):
                    sheet.write_datetime(n, col, value, formats[fmt])
                elif fmt == "money":
                    sheet.write_number(n, col, float(value), formats[fmt])
                else:
                    sheet.write_string(n, col, str(value))
        if n:
            sheet.autofilter(0, 0, n, len(columns) - 1)
        return n
    finally:
        workbook.close()
