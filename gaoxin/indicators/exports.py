"""Indicator lineage and chart data as .xlsx (xlsxwriter, constant memory)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.utils.translation import gettext as _

from gaoxin.indicators.engine import Indicator, Result
from gaoxin.registry.models import Enterprise


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def table_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(title[:31])
    head = book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})
    for c, h in enumerate(headers):
        sheet.write(0, c, h, head)
        sheet.set_column(c, c, max(12, len(h) * 2))
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            sheet.write(r, c, _number(value))
    book.close()
    return buffer.getvalue()


def lineage_xlsx(indicator: Indicator, result: Result) -> bytes:
    """Every enterprise behind the value, with what it contributes: the sums of the
    contribution columns give the indicator."""
    ids = [m.enterprise_id for m in result.members]
    info = {
        pk: (uscc, name, chain or "", sei or "")
        for pk, uscc, name, chain, sei in Enterprise.objects.filter(pk__in=ids).values_list(
            "pk", "uscc", "name", "chain__name", "sei_category__name"
        )
    }
    headers = [_("统一社会信用代码"), _("企业名称"), _("产业链"), _("战略性新兴产业类别")]
    if indicator.kind == "count":
        headers.append(_("计入"))
    else:
        headers += [_("分子") + f"({indicator.unit})", _("分母") + f"({indicator.unit})"]
    rows = []
    for m in result.members:
        uscc, name, chain, sei = info.get(m.enterprise_id, ("", "", "", ""))
        row: list[Any] = [uscc, name, chain, sei]
        row += (
            [1 if m.numerator else 0] if indicator.kind == "count" else [m.numerator, m.denominator]
        )
        rows.append(row)
    title = f"{indicator.name} {result.scope.year}"
    return table_xlsx(title, headers, rows)
