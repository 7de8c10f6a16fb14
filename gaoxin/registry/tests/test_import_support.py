"""Shared pieces for the import tests: file writers for each format, reference rows, and a way
to run `manage.py import_enterprises` that returns (exit code, stdout, stderr).

Test modules import `reference_fixture` / `data_dir_fixture`; pytest knows them by their names
`reference` and `data_dir`."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from gaoxin.registry.models import EmergingCategory, Grid, IndustryCategory, IndustryChain
from gaoxin.registry.tests.factories import make_uscc

FILES = Path(__file__).parent / "files"
HEADERS = [
    "企业名称",
    "统一社会信用代码",
    "曾用名",
    "成立日期",
    "注册资本(万元)",
    "行业代码",
    "战略性新兴产业类别",
    "产业链",
    "所在网格",
    "企业状态",
]
QUAL_HEADERS = ["统一社会信用代码", "资质类型", "证书编号", "认定日期", "有效期至"]


@pytest.fixture(name="reference")
def reference_fixture(db):
    """The few reference rows the files name (the shipped migration normally has them)."""
    section, _ = IndustryCategory.objects.get_or_create(
        code="C", defaults={"name": "制造业", "level": 1, "section": "C"}
    )
    for code, name in (
        ("3670", "汽车零部件及配件制造"),
        ("3511", "矿山机械制造"),
        ("6511", "基础软件开发"),
    ):
        IndustryCategory.objects.get_or_create(
            code=code, defaults={"name": name, "level": 4, "section": "C"}
        )
    for code, name in ((1, "新一代信息技术产业"), (2, "高端装备制造产业"), (5, "新能源汽车产业")):
        EmergingCategory.objects.get_or_create(code=str(code), defaults={"name": name})
    for code, name in (("auto-parts", "汽车零部件"), ("machinery", "机械装备")):
        IndustryChain.objects.get_or_create(code=code, defaults={"name": name, "group": "pillar"})
    Grid.objects.get_or_create(code="ld-01", defaults={"name": "柳东第1网格", "street": "柳东新区"})
    return section


@pytest.fixture(autouse=True, name="data_dir")
def data_dir_fixture(settings, tmp_path):
    """Uploads, stored files and error reports go to a temporary folder, not the project's."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


def row(n: int, **overrides: Any) -> list[Any]:
    """One valid enterprise row for test enterprise n."""
    values = {
        "企业名称": f"柳州导入测试{n}号有限公司",
        "统一社会信用代码": make_uscc(1000 + n),
        "曾用名": "",
        "成立日期": "2019-03-01",
        "注册资本(万元)": "1000",
        "行业代码": "3670",
        "战略性新兴产业类别": "5",
        "产业链": "汽车零部件",
        "所在网格": "柳东第1网格",
        "企业状态": "存续",
    }
    for key, value in overrides.items():
        header = next(h for h in HEADERS if key in (h, h.replace("(", "").replace(")", "")))
        values[header] = value
    return [values[h] for h in HEADERS]


def good_rows(count: int = 3) -> list[list[Any]]:
    return [HEADERS, *(row(n) for n in range(1, count + 1))]


def write_xlsx(
    path: Path, sheets: dict[str, Sequence[Sequence[Any]]], *, start_row: int = 0
) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, values in enumerate(rows):
            for c, value in enumerate(values):
                if isinstance(value, dt.date):
                    sheet.write_datetime(
                        start_row + r, c, dt.datetime.combine(value, dt.time()), date_format
                    )
                elif isinstance(value, int | float):
                    sheet.write_number(start_row + r, c, value)
                elif value not in ("", None):
                    sheet.write_string(start_row + r, c, str(value))
    book.close()
    return path


def write_xls(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("企业")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            if isinstance(value, dt.date):
                sheet.write(r, c, value, date_style)
            else:
                sheet.write(r, c, value)
    book.save(str(path))
    return path


def write_ods(path: Path, rows: Sequence[Sequence[Any]]) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="企业")
    for values in rows:
        tr = TableRow()
        for value in values:
            if isinstance(value, int | float):
                cell = TableCell(valuetype="float", value=value)
            elif isinstance(value, dt.date):
                cell = TableCell(valuetype="date", datevalue=value.isoformat())
            else:
                cell = TableCell(valuetype="string")
            cell.addElement(P(text=str(value)))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


def write_csv(path: Path, rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8-sig") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run_import(path: Path | str, *args: str) -> tuple[int, str, str]:
    """manage.py import_enterprises FILE ARGS -> (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command("import_enterprises", str(path), *args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def last_line(stdout: str) -> str:
    return stdout.strip().splitlines()[-1]


def counts(**kw: int) -> str:
    c = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0, **kw}
    return " ".join(f"{k}={c[k]}" for k in ("created", "updated", "unchanged", "rejected"))
