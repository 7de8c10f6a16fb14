"""The streaming .xlsx reader gives the cells calamine gives, block by block."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import fastexcel
import polars as pl
import pytest

from gaoxin.core.imports import xlsx
from gaoxin.core.imports.files import ImportRefused, Limits
from gaoxin.core.imports.xlsx import NoCellReferences, XlsxBook

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
LIMITS = Limits(max_bytes=1 << 30, max_rows=1_000_000, max_uncompressed_bytes=1 << 31)


def streamed(path: Path, sheet: int = 0, columns: list[int] | None = None) -> pl.DataFrame:
    book = XlsxBook(str(path), LIMITS)
    try:
        frames = list(book.batches(sheet, columns))
    finally:
        book.close()
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def by_calamine(path: Path, sheet: int = 0) -> pl.DataFrame:
    frame = (
        fastexcel.read_excel(str(path))
        .load_sheet(sheet, header_row=None, dtypes="string")
        .to_polars()
    )
    frame = frame.rename({c: f"c{i}" for i, c in enumerate(frame.columns)})
    frame = frame.with_row_index("_row", offset=1).with_columns(pl.col("_row").cast(pl.Int64))
    return frame.filter(pl.any_horizontal(pl.exclude("_row").is_not_null()))


def assert_same_cells(path: Path) -> pl.DataFrame:
    mine, theirs = streamed(path), by_calamine(path)
    mine = mine.select(
        pl.col(c) if c in mine.columns else pl.lit(None, pl.String).alias(c) for c in theirs.columns
    )
    assert mine.to_dicts() == theirs.to_dicts()
    return mine


def test_cells_of_every_kind_match_calamine(tmp_path):
    """Shared strings (openpyxl writes them), rich text, dates in Chinese custom formats and
    with a time, numbers with float artefacts and exponents, booleans, escaped characters."""
    from openpyxl import Workbook
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    book = Workbook()
    sheet = book.active
    sheet.title = "企业"
    sheet.append(["企业名称", "成立日期", "注册资本", "备注", "布尔", "时间"])
    rows = [
        ["柳州五菱 & <汽车>", dt.date(2019, 3, 1), 0.1 + 0.2, "引号\"和'撇号", True, None],
        ["  前后空格  ", dt.date(1999, 12, 31), 1.5e20, "换行\n第二行", False, None],
        [
            CellRichText([TextBlock(InlineFont(b=True), "柳州"), "富文本有限公司"]),
            dt.date(2021, 7, 1),
            12345678901,
            "😀 表情",
            None,
            dt.datetime(2020, 5, 6, 7, 8, 9),
        ],
        ["数字文本", "2019.07.01", -3.25, 42, None, None],
    ]
    for values in rows:
        sheet.append(values)
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].number_format = 'yyyy"年"m"月"d"日"'
    sheet["F4"].number_format = "yyyy-mm-dd hh:mm:ss"
    path = tmp_path / "kinds.xlsx"
    book.save(path)
    cells = assert_same_cells(path)
    assert cells.row(1)[1:5] == ("柳州五菱 & <汽车>", "2019-03-01 00:00:00", "0.3", "引号\"和'撇号")
    assert cells.row(3)[1] == "柳州富文本有限公司"
    assert cells.row(3)[6] == "2020-05-06 07:08:09"


def test_office_suite_file_matches_calamine():
    assert_same_cells(Path(__file__).parents[2] / "registry/tests/files/office.xlsx")


def _hand_made(path: Path, sheet_xml: str, *, workbook_pr: str = "", styles: str = "") -> Path:
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/></Types>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0"?><workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">{workbook_pr}'
            '<sheets><sheet name="表一" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{REL_NS}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    if styles:
        parts["xl/styles.xml"] = styles
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
    return path


def test_namespace_prefixes_attribute_order_escapes_and_1904_dates(tmp_path):
    styles = (
        f'<styleSheet xmlns="{MAIN_NS}"><cellXfs count="2"><xf numFmtId="0"/>'
        '<xf numFmtId="14"/></cellXfs></styleSheet>'
    )
    sheet = (
        f'<x:worksheet xmlns:x="{MAIN_NS}"><x:sheetData>'
        '<x:row r="2"><x:c r="A2" t="inlineStr"><x:is><x:t>前缀</x:t></x:is></x:c>'
        '<x:c r="B2" t="n" s="1"><x:v>0</x:v></x:c></x:row>'
        '<x:row r="3"><x:c t="inlineStr" r="A3"><x:is><x:t xml:space="preserve"> &#26611;州_x0041_ '
        "</x:t></x:is></x:c>"
        '<x:c s="1" r="B3"><x:v>366</x:v></x:c></x:row>'
        "</x:sheetData></x:worksheet>"
    )
    path = _hand_made(
        tmp_path / "ns.xlsx", sheet, workbook_pr='<workbookPr date1904="1"/>', styles=styles
    )
    cells = streamed(path)
    assert cells.to_dicts() == [
        {"_row": 2, "c0": "前缀", "c1": "1904-01-01 00:00:00"},
        {"_row": 3, "c0": " 柳州A ", "c1": "1905-01-01 00:00:00"},
    ]


def test_sheet_without_cell_references_is_left_to_calamine(tmp_path):
    sheet = f'<worksheet xmlns="{MAIN_NS}"><sheetData><row><c><v>1</v></c></row></sheetData>'
    path = _hand_made(tmp_path / "norefs.xlsx", sheet + "</worksheet>")
    with pytest.raises(NoCellReferences):
        streamed(path)


def test_a_sheet_is_read_block_by_block_with_only_the_columns_asked_for(tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx, "BLOCK", 4096)
    monkeypatch.setattr(xlsx, "FIRST_BLOCK", 4096)
    rows = "".join(
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>企业{n}</t></is></c>'
        f'<c r="B{n}"><v>{n}</v></c><c r="C{n}" t="inlineStr"><is><t>c{n}</t></is></c></row>'
        for n in range(1, 2001)
    )
    path = _hand_made(
        tmp_path / "long.xlsx",
        f'<worksheet xmlns="{MAIN_NS}"><sheetData>{rows}</sheetData></worksheet>',
    )
    book = XlsxBook(str(path), LIMITS)
    batches = list(book.batches(0, [0, 2]))
    book.close()
    assert len(batches) > 20
    whole = pl.concat(batches)
    assert whole.columns == ["_row", "c0", "c2"]
    assert whole.height == 2000
    assert whole.row(1999) == (2000, "企业2000", "c2000")


def test_an_endless_row_is_refused_without_holding_it(tmp_path):
    limits = Limits(
        max_bytes=1 << 30, max_rows=10, max_uncompressed_bytes=1 << 31, max_line_bytes=64 * 1024
    )
    cells = "".join(f'<c r="A{n}"><v>1</v></c>' for n in range(1, 2))
    sheet = (
        f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1">{cells}'
        + '<c r="B1"><v>'
        + ("9" * (20 << 20))
        + "</v></c></row></sheetData></worksheet>"
    )
    path = _hand_made(tmp_path / "endless.xlsx", sheet)
    book = XlsxBook(str(path), limits)
    with pytest.raises(ImportRefused, match="过长"):
        list(book.batches(0))
    book.close()


def test_a_reader_stopped_early_releases_its_helper_thread_at_once():
    """Header detection stops reading after the first block; the helper thread must not keep
    the import waiting (it once blocked on a full queue for the join's 5-second timeout)."""
    import time

    from gaoxin.core.imports.upsert import prefetch

    stream = prefetch(iter(range(2)))
    assert next(stream) == 0
    time.sleep(0.3)  # the helper has queued 1 and now hands over "done"
    started = time.perf_counter()
    stream.close()
    assert time.perf_counter() - started < 1


def test_scientific_formats_empty_shared_strings_and_line_breaks_in_tags(tmp_path):
    styles = (
        f'<styleSheet xmlns="{MAIN_NS}"><numFmts count="1"><numFmt numFmtId="164" '
        'formatCode="0.000E+00"/></numFmts><cellXfs count="2"><xf numFmtId="0"/>'
        '<xf numFmtId="164"/></cellXfs></styleSheet>'
    )
    sheet = (
        f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1">'
        '<c r="A1" s="1"><v>12345.6</v></c><c\n r="B1" t="s"><v>1</v></c>'
        '<c r="C1"><v>99999999</v></c></row></sheetData></worksheet>'
    )
    path = _hand_made(tmp_path / "sci.xlsx", sheet, styles=styles)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(
            "xl/sharedStrings.xml",
            f'<sst xmlns="{MAIN_NS}"><si/><si><t>第二个</t></si></sst>',
        )
    cells = streamed(path)
    # A scientific format is not a date; <si/> keeps its number; a tag broken over lines reads.
    assert cells.row(0) == (1, "12345.6", "第二个", "99999999")
