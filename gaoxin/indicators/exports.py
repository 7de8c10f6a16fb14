"""Indicator lineage and chart data as .xlsx (xlsxwriter, constant memory)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import xlsxwriter
from django.utils.translation import gettext as _

from gaoxin.indicators.engine import Indicator, Result, Source
from gaoxin.registry.models import Enterprise
from gaoxin.reports.models import ReportFact, ReportForm

WAN = Decimal(10_000)


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def table_xlsx(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    return tables_xlsx([(title, headers, rows)])


SHEET_ROWS = 1_000_000  # an .xlsx sheet holds 1,048,576 rows; longer tables continue on the next


def tables_xlsx(tables: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """One sheet per table (a table longer than a sheet continues on "title (2)")."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})

    def new_sheet(title: str, part: int, headers: Sequence[str]) -> Any:
        name = title[:31] if part == 1 else f"{title[:25]} ({part})"
        sheet = book.add_worksheet(name)
        for c, h in enumerate(headers):
            sheet.write(0, c, h, head)
            sheet.set_column(c, c, max(12, len(h) * 2))
        sheet.freeze_panes(1, 0)
        return sheet

    for title, headers, rows in tables:
        part = 1
        sheet = new_sheet(title, part, headers)
        r = 0
        for row in rows:
            r += 1
            if r > SHEET_ROWS:
                part += 1
                sheet, r = new_sheet(title, part, headers), 1
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
    tables: list[tuple[str, Sequence[str], Iterable[Sequence[Any]]]] = [(title, headers, rows)]
    for source in indicator.sources:
        tables.append(source_table(source, result, info))
    return tables_xlsx(tables)


def source_table(
    source: Source, result: Result, info: dict[int, tuple[str, str, str, str]]
) -> tuple[str, list[str], Iterable[list[Any]]]:
    """The accepted report rows behind a result: each member's values of the source's fields
    for every month (or year) the indicator reads, on the scope's basis ("as first reported" or
    "as revised"). Money in 万元, as the indicator shows it."""
    scope = result.scope
    form = ReportForm.objects.filter(code=source.form_code).order_by("-version").first()
    names = {f.key: f for f in form.fields.all()} if form else {}
    headers = [_("统一社会信用代码"), _("企业名称"), _("报告期"), _("修订次数")]
    for key in source.columns:
        field = ReportFact._meta.get_field(key)
        money = field.get_internal_type() == "DecimalField"
        label = names[key].name if key in names else str(field.verbose_name)
        headers.append(f"{label}({_('万元')})" if money else label)
    ids = result.frame["enterprise_id"].to_list()
    years = list(range(scope.year - source.years_back, scope.year + 1))

    def rows() -> Iterable[list[Any]]:
        for start in range(0, len(ids), 5000):  # bounded IN lists
            facts = ReportFact.objects.filter(
                form_code=source.form_code,
                basis=scope.basis,
                year__in=years,
                enterprise_id__in=ids[start : start + 5000],
            )
            if scope.month:
                facts = facts.filter(month__lte=scope.month)
            for pk, year, month, revision, *values in facts.order_by(
                "enterprise_id", "year", "month"
            ).values_list("enterprise_id", "year", "month", "revision", *source.columns):
                uscc, name, _chain, _sei = info.get(pk, ("", "", "", ""))
                period = f"{year}-{month:02d}" if month else str(year)
                out: list[Any] = [uscc, name, period, revision]
                for v in values:
                    out.append(v / WAN if isinstance(v, Decimal) else v)
                yield out

    return str(form.name if form else source.form_code), headers, rows()
