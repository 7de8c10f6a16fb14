"""Files in, through `manage.py import_enterprises`: every format, every layout people produce,
and every class of bad or hostile file (refused with a clear message, nothing written)."""

from __future__ import annotations

import datetime as dt
import resource
import zipfile
from pathlib import Path

import pytest

from gaoxin.core.models import AuditEntry, ImportJob
from gaoxin.registry.models import Enterprise
from gaoxin.registry.tests.factories import make_uscc
from gaoxin.registry.tests.test_import_support import (  # noqa: F401 - fixtures
    FILES,
    HEADERS,
    counts,
    data_dir_fixture,
    good_rows,
    last_line,
    reference_fixture,
    row,
    run_import,
    write_csv,
    write_ods,
    write_xls,
    write_xlsx,
)

pytestmark = pytest.mark.django_db


def assert_imported(code: int, out: str, n: int = 3) -> None:
    assert code == 0, out
    assert last_line(out) == counts(created=n)
    assert Enterprise.objects.count() == n


# --- good files in each format ----------------------------------------------------------------


def test_xlsx_with_date_cells_and_numeric_codes(reference, tmp_path):
    rows = good_rows()
    rows[1][3] = dt.date(2019, 3, 1)  # a real date cell
    rows[1][5] = 3670  # a number cell: read as "3670", not "3670.0"
    rows[1][4] = 1000.5
    code, out, _err = run_import(write_xlsx(tmp_path / "e.xlsx", {"企业": rows}))
    assert_imported(code, out)
    first = Enterprise.objects.get(uscc=make_uscc(1001))
    assert first.founded_on == dt.date(2019, 3, 1)
    assert first.industry.code == "3670" and str(first.registered_capital.normalize()) == "1000.5"
    assert first.sei_category.code == "5" and first.sei_status == Enterprise.SeiStatus.CONFIRMED
    assert first.chain.name == "汽车零部件" and first.grid.code == "ld-01"
    assert first.name_initials == "LZDRCS1HYXGS"


def test_xls_written_by_xlwt(reference, tmp_path):
    rows = good_rows()
    rows[2][3] = dt.date(2015, 11, 20)
    rows[2][5] = 3670
    code, out, _err = run_import(write_xls(tmp_path / "e.xls", rows))
    assert_imported(code, out)
    assert Enterprise.objects.get(uscc=make_uscc(1002)).founded_on == dt.date(2015, 11, 20)


def test_ods_written_by_odfpy(reference, tmp_path):
    rows = good_rows()
    rows[3][4] = 80
    code, out, _err = run_import(write_ods(tmp_path / "e.ods", rows))
    assert_imported(code, out)
    assert Enterprise.objects.get(uscc=make_uscc(1003)).registered_capital == 80


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_csv_in_utf8_with_or_without_bom_and_gbk(reference, tmp_path, encoding):
    rows = good_rows()
    rows[1][2] = "柳州旧名甲；柳州旧名乙、柳州旧名丙"
    code, out, _err = run_import(write_csv(tmp_path / "e.csv", rows, encoding=encoding))
    assert_imported(code, out)
    e = Enterprise.objects.get(uscc=make_uscc(1001))
    assert e.former_names == "柳州旧名甲;柳州旧名乙;柳州旧名丙"
    assert e.name == "柳州导入测试1号有限公司"


@pytest.mark.parametrize("name", ["office.xlsx", "office.xls", "office.ods"])
def test_files_written_by_a_real_office_suite(reference, name):
    """LibreOffice Calc output (see files/README.md): date cells, numbers, full-width ；."""
    code, out, _err = run_import(FILES / name)
    assert_imported(code, out)
    software = Enterprise.objects.get(uscc="91450211000000103A")
    assert software.founded_on == dt.date(2021, 7, 15)
    assert software.former_names == "柳州甲软件;柳州乙软件"
    assert software.industry.code == "6511" and software.chain is None
    machinery = Enterprise.objects.get(uscc="914502110000001027")
    assert machinery.status == Enterprise.Status.OPERATING  # 在业
    assert machinery.chain.name == "机械装备"


def test_header_on_line_3_under_a_title_with_full_width_and_spaced_headers(reference, tmp_path):
    rows = good_rows()
    rows[0] = [
        "企业 名称",
        "统一社会信用代码",
        "曾用名",
        "成立日期",
        "注册资本（万元）",
        "行业代码",
        "战略性新兴产业类别",
        "产业链",
        "所在网格",
        "企业状态",
    ]
    rows[0][1] = "统一社会信用代码"  # full-width letters fold too
    rows[0][5] = "行业 代码"
    sheet = [["柳州高新区2024年企业名单"], [], *rows]
    code, out, err = run_import(write_xlsx(tmp_path / "e.xlsx", {"名单": sheet}))
    assert_imported(code, out)


def test_date_formats_people_type(reference, tmp_path):
    typed = ["2019-03-01", "2019/3/1", "2019.3.1", "2019年3月1日", "20190301", "43525"]
    rows = [HEADERS, *(row(n, 成立日期=v) for n, v in enumerate(typed, start=1))]
    code, out, err = run_import(write_csv(tmp_path / "dates.csv", rows))
    assert code == 0, err
    assert set(Enterprise.objects.values_list("founded_on", flat=True)) == {dt.date(2019, 3, 1)}


def test_industry_code_with_or_without_section_letter_and_capital_with_commas(reference, tmp_path):
    rows = [HEADERS, row(1, 行业代码="C3670", 注册资本万元="1,234.50"), row(2, 行业代码="3670")]
    code, out, err = run_import(write_csv(tmp_path / "e.csv", rows))
    assert code == 0, err
    assert {e.industry.code for e in Enterprise.objects.all()} == {"3670"}
    assert Enterprise.objects.get(uscc=make_uscc(1001)).registered_capital == 1234.5


def test_blank_rows_are_skipped_and_do_not_count(reference, tmp_path):
    rows = [HEADERS, row(1), ["", "", ""], row(2), [], ["   "]]
    code, out, _err = run_import(write_csv(tmp_path / "e.csv", rows))
    assert code == 0 and last_line(out) == counts(created=2)


# --- bad files: refused, clear message, exit 2, nothing written -----------------------------------


def assert_refused(path: Path, fragment: str) -> str:
    code, out, err = run_import(path)
    assert code == 2, (out, err)
    assert last_line(out) == counts()
    assert fragment in err, err
    assert Enterprise.objects.count() == 0
    assert not AuditEntry.objects.filter(model="registry.enterprise").exists()
    return err


def test_empty_file(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert_refused(path, "文件是空的")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n\x00\x01", "PDF"),
        (b"\x00\x01\x02\x03binary\xff\xfe" * 10, "不是可识别的表格文件"),
    ],
)
def test_wrong_format_renamed_xlsx(tmp_path, content, fragment):
    path = tmp_path / "report.xlsx"
    path.write_bytes(content)
    assert_refused(path, fragment)


def test_word_document_renamed_xlsx(tmp_path):
    path = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
        zf.writestr("[Content_Types].xml", "<Types/>")
    assert_refused(path, "不是电子表格")


def test_truncated_xlsx(reference, tmp_path):
    good = write_xlsx(tmp_path / "good.xlsx", {"企业": good_rows()})
    path = tmp_path / "cut.xlsx"
    path.write_bytes(good.read_bytes()[:2000])
    assert_refused(path, "文件已损坏")


def test_text_that_is_not_a_table(tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("这是一段说明文字,不是表格。\n第二行。\n", encoding="utf-8")
    assert_refused(path, "未找到表头")


def test_missing_required_headers_are_named(reference, tmp_path):
    rows = [["企业名称", "成立日期", "行业代码"], ["柳州甲公司", "2019-03-01", "3670"]]
    err = assert_refused(write_csv(tmp_path / "e.csv", rows), "缺少必需的列")
    assert "统一社会信用代码" in err


def test_file_over_the_size_limit(settings, reference, tmp_path):
    path = write_csv(tmp_path / "e.csv", good_rows())
    code, out, err = run_import(path, "--max-bytes", "100")
    assert code == 2 and "超过上限" in err and last_line(out) == counts()
    assert Enterprise.objects.count() == 0


def _bomb(path: Path, inflated: int) -> Path:
    """A real .xlsx whose sheet XML inflates to `inflated` bytes from a few kilobytes."""
    good = write_xlsx(path.with_suffix(".src.xlsx"), {"企业": good_rows(1)})
    padding = b"<!---->" * (inflated // 7)  # many small comments: no long text run
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", padding + b"<sheetData>", 1)
            out.writestr(info.filename, data)
    return path


def test_zip_bomb_is_refused_before_parsing(settings, reference, tmp_path):
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024
    path = _bomb(tmp_path / "bomb.xlsx", 20 * 1024 * 1024)
    assert path.stat().st_size < 100 * 1024
    assert_refused(path, "压缩炸弹")


def test_zip_bomb_with_lying_sizes_is_refused(settings, reference, tmp_path):
    """The central directory claims a small sheet; the real stream inflates past the limit."""
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024
    path = _bomb(tmp_path / "bomb.xlsx", 8 * 1024 * 1024)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    # Patch the declared uncompressed size (local header and central directory) to 1 KB.
    real = info.file_size.to_bytes(4, "little")
    data = data.replace(real, (1024).to_bytes(4, "little"))
    path.write_bytes(bytes(data))
    err = assert_refused(path, "")
    assert "压缩炸弹" in err or "文件已损坏" in err


def test_huge_cell_in_xlsx_is_refused(settings, reference, tmp_path):
    """A 300 MB cell, simulated cheaply: the same check with a 64 KB cell limit."""
    settings.IMPORT_MAX_CELL_BYTES = 64 * 1024
    rows = good_rows(1)
    rows[1][0] = "柳" * 100_000
    assert_refused(write_xlsx(tmp_path / "cell.xlsx", {"企业": rows}), "单元格内容过长")


def test_csv_with_a_very_long_line_is_refused_with_bounded_memory(reference, tmp_path):
    """A 300 MB single-cell line, written in chunks; the reader must stop early."""
    path = tmp_path / "long.csv"
    with path.open("wb") as fh:
        fh.write(",".join(HEADERS).encode() + b"\n")
        chunk = b"x" * (1 << 20)
        for _ in range(300):
            fh.write(chunk)
        fh.write(b"\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    err = assert_refused(path, "过长")
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 100 * 1024, f"peak memory grew by {grown_kib} KiB"
    assert "第 2 行" in err


def test_two_million_rows_csv_is_refused_without_reading_it_all(reference, tmp_path):
    path = tmp_path / "big.csv"
    with path.open("wb") as fh:
        fh.write(",".join(HEADERS).encode() + b"\n")
        fh.write(b"a,b\n" * 2_000_000)
    assert_refused(path, "超过最大行数")


def test_two_million_rows_xlsx_is_refused(reference, tmp_path):
    """A real 2,000,000-row sheet, highly compressed (about 1 MB on disk)."""
    good = write_xlsx(tmp_path / "src.xlsx", {"企业": good_rows(1)})
    path = tmp_path / "big.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                out.writestr(info.filename, src.read(info.filename))
        with out.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                b'spreadsheetml/2006/main"><sheetData>'
            )
            block = b"<row><c><v>1</v></c></row>" * 1000  # rows without r="": positional
            for _ in range(2_000):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")
    assert path.stat().st_size < 5 * 1024 * 1024
    assert_refused(path, "超过最大行数")


def test_sparse_xlsx_with_a_far_away_cell_is_refused_not_allocated(reference, tmp_path):
    """Two cells, A1 and a cell a million rows and a thousand columns away: calamine would try
    to allocate the whole rectangle (tens of GB). The scan refuses it first."""
    import xlsxwriter

    path = tmp_path / "sparse.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write(0, 0, "企业名称")
    sheet.write(1_000_000, 1000, "x")
    book.close()
    assert_refused(path, "上限")


def test_row_limit_setting_is_honoured(settings, reference, tmp_path):
    settings.IMPORT_MAX_ROWS = 5
    rows = [HEADERS, *(row(n) for n in range(1, 40))]
    assert_refused(write_xlsx(tmp_path / "e.xlsx", {"企业": rows}), "超过最大行数 5 行")
    assert ImportJob.objects.get().status == ImportJob.Status.REFUSED


def _ods_with_rows(path: Path, body: str) -> Path:
    """The office-suite .ods fixture with its table body replaced by `body` (raw ODS XML)."""
    import re

    with zipfile.ZipFile(FILES / "office.ods") as src:
        content = src.read("content.xml").decode()
        content = re.sub(
            r"<table:table .*?</table:table>",
            lambda _m: f'<table:table table:name="企业">{body}</table:table>',
            content,
            count=1,
            flags=re.S,
        )
        with zipfile.ZipFile(path, "w") as out:
            out.writestr(zipfile.ZipInfo("mimetype"), src.read("mimetype"))
            for name in src.namelist():
                if name not in ("mimetype", "content.xml"):
                    out.writestr(name, src.read(name), zipfile.ZIP_DEFLATED)
            out.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path


def _ods_row(*values: str, repeat: int = 1) -> str:
    cells = "".join(
        f'<table:table-cell office:value-type="string"><text:p>{v}</text:p></table:table-cell>'
        for v in values
    )
    attr = f' table:number-rows-repeated="{repeat}"' if repeat > 1 else ""
    return f"<table:table-row{attr}>{cells}</table:table-row>"


EMPTY_ROWS = (
    '<table:table-row table:number-rows-repeated="{n}">'
    '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
)


def test_ods_trailing_empty_rows_as_libreoffice_writes_them_are_fine(reference, tmp_path):
    header = _ods_row(*HEADERS)
    body = header + _ods_row(*map(str, row(1))) + EMPTY_ROWS.format(n=1_048_574)
    code, out, err = run_import(_ods_with_rows(tmp_path / "ok.ods", body))
    assert code == 0, err
    assert last_line(out) == counts(created=1)


def test_ods_row_repeated_two_million_times_is_refused(reference, tmp_path):
    body = _ods_row(*HEADERS) + _ods_row(*map(str, row(1)), repeat=2_000_000)
    assert_refused(_ods_with_rows(tmp_path / "rep.ods", body), "超过最大行数")


def test_ods_empty_rows_before_a_far_value_are_counted(reference, tmp_path):
    body = _ods_row(*HEADERS) + EMPTY_ROWS.format(n=1_100_000) + _ods_row("x")
    assert_refused(_ods_with_rows(tmp_path / "far.ods", body), "超过最大行数")


def test_ods_empty_cells_before_a_far_value_are_refused(reference, tmp_path):
    far = (
        '<table:table-row><table:table-cell table:number-columns-repeated="5000"/>'
        '<table:table-cell office:value-type="string"><text:p>x</text:p></table:table-cell>'
        "</table:table-row>"
    )
    assert_refused(_ods_with_rows(tmp_path / "wide.ods", _ods_row(*HEADERS) + far), "列数超过上限")
