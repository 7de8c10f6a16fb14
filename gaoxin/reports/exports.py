"""A period's worklist as an .xlsx workbook for follow-up calls, written in constant memory."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import xlsxwriter
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gaoxin.registry.models import Enterprise
from gaoxin.reports.models import ReportPeriod, ReportStatus
from gaoxin.reports.selectors import is_late

EXPORT_CHUNK = 2000


def _columns(
    period: ReportPeriod, today: dt.date
) -> list[tuple[str, int, Callable[[Any], Any], str]]:
    """(header, width, value, format) — format is "" (text) or "time"."""

    def submitted(e: Any) -> Any:
        at = e.report_submitted_at
        return timezone.localtime(at).replace(tzinfo=None) if at else None

    return [
        (_("统一社会信用代码"), 22, lambda e: e.uscc, ""),
        (_("企业名称"), 36, lambda e: e.name, ""),
        (_("报送状态"), 14, lambda e: str(ReportStatus(e.report_status).label), ""),
        (
            _("是否逾期"),
            8,
            lambda e: (
                _("逾期") if is_late(period, e.report_status, e.report_revision, today) else ""
            ),
            "",
        ),
        (_("报送时间"), 18, submitted, "time"),
        (_("联系人"), 10, lambda e: e.contact_name, ""),
        (_("联系电话"), 14, lambda e: e.contact_phone, ""),
        (_("企业状态"), 8, lambda e: e.get_status_display(), ""),
    ]


def write_worklist(
    qs: QuerySet[Enterprise], path: str, *, period: ReportPeriod, form_name: str, today: dt.date
) -> int:
    """Writes the worklist rows `qs` (selectors.worklist, filtered) to `path`; returns the number
    of data rows."""
    columns = _columns(period, today)
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False})
    try:
        sheet = workbook.add_worksheet(_("催报清单"))
        title = workbook.add_format({"bold": True})
        header = workbook.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})
        time_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        sheet.write_string(
            0,
            0,
            _("%(form)s %(period)s · 截止日 %(due)s")
            % {"form": form_name, "period": period, "due": period.due_on.isoformat()},
            title,
        )
        for col, (heading, width, _value, _fmt) in enumerate(columns):
            sheet.set_column(col, col, width)
            sheet.write_string(1, col, heading, header)
        sheet.freeze_panes(2, 0)
        n = 0
        for n, enterprise in enumerate(qs.iterator(chunk_size=EXPORT_CHUNK), start=1):
            row = n + 1
            for col, (_heading, _width, value_of, fmt) in enumerate(columns):
                value = value_of(enterprise)
                if value is None or value == "":
                    sheet.write_blank(row, col, None)
                elif fmt == "time":
                    sheet.write_datetime(row, col, value, time_format)
                else:
                    sheet.write_string(row, col, str(value))
        if n:
            sheet.autofilter(1, 0, n + 1, len(columns) - 1)
        return n
    finally:
        workbook.close()
