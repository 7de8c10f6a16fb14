"""Hostile files that pass the simple size, row and column limits but would make the readers
allocate far more than the file suggests: a sparse .xlsx naming a far-away cell, CSV lines made of
separators, and cells longer than the csv module's default field limit."""

from __future__ import annotations

import resource
import time
import zipfile
from pathlib import Path

from gaoxin.core.models import AuditEntry, ImportJob
from gaoxin.registry.models import Enterprise
from gaoxin.registry.tests.test_import_support import (  # noqa: F401 - fixtures
    HEADERS,
    counts,
    data_dir_fixture,
    good_rows,
    last_line,
    reference_fixture,
    row,
    run_import,
    write_csv,
    write_xlsx,
)

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def assert_refused(path: Path, *fragments: str) -> str:
    code, out, err = run_import(path)
    assert code == 2, (out, err)
    assert last_line(out) == counts()
    for fragment in fragments:
        assert fragment in err, err
    assert "请联系管理员" not in err, err  # refused, not an internal failure
    assert ImportJob.objects.get().status == ImportJob.Status.REFUSED
    assert Enterprise.objects.count() == 0
    assert not AuditEntry.objects.filter(model="registry.enterprise").exists()
    return err


def _hand_made_xlsx(path: Path, sheet_data: str, *, dimension: str | None = None) -> Path:
    """The smallest .xlsx calamine opens, written by hand: no writer library tidies it up."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            '<sheets><sheet name="企业" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<worksheet xmlns="{MAIN_NS}">{dim}<sheetData>{sheet_data}</sheetData></worksheet>'
        ),
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in parts.items():
            zf.writestr(name, text)
    return path


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


# --- sparse .xlsx: the extent, not the cell count, is what calamine allocates ---------------------


def test_sparse_xlsx_within_row_and_column_limits_is_refused_without_allocating(
    reference, tmp_path
):
    """A1, B1 and IV1000000: 256 columns and a million rows are each within the limits, but
    calamine would allocate a 256 x 1,000,000 grid (about 13 GB) for three cells."""
    sheet = (
        f'<row r="1">{_cell("A1", "企业名称")}{_cell("B1", "统一社会信用代码")}</row>'
        f'<row r="1000000">{_cell("IV1000000", "x")}</row>'
    )
    path = _hand_made_xlsx(tmp_path / "sparse.xlsx", sheet)
    assert path.stat().st_size < 4096
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    err = assert_refused(path, "表格范围过大", "1000000", "256", "20000000")
    elapsed = time.perf_counter() - started
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert elapsed < 2, f"took {elapsed:.1f}s"
    assert grown_kib < 50 * 1024, f"peak memory grew by {grown_kib} KiB"
    assert "请删除空白区域" in err


def test_sparse_xlsx_with_the_far_cell_inside_an_early_row_is_refused(reference, tmp_path):
    """The cell's own reference places it, whatever its row element says."""
    sheet = f'<row r="1">{_cell("A1", "企业名称")}{_cell("IV1000000", "x")}</row>'
    assert_refused(_hand_made_xlsx(tmp_path / "sparse.xlsx", sheet), "表格范围过大")


def test_xlsx_dimension_naming_a_huge_range_is_refused(reference, tmp_path):
    sheet = f'<row r="1">{_cell("A1", "企业名称")}{_cell("B1", "x")}</row>'
    path = _hand_made_xlsx(tmp_path / "dim.xlsx", sheet, dimension="A1:IV1000000")
    assert_refused(path, "表格范围过大")


def test_cell_budget_counts_the_real_extent(settings, reference, tmp_path):
    """3,001 rows x 10 columns = 30,010 cells: refused one cell under that, imported at it."""
    rows = good_rows(3000)
    path = write_xlsx(tmp_path / "e.xlsx", {"企业": rows})
    settings.IMPORT_MAX_CELLS = 3001 * len(HEADERS) - 1
    assert_refused(path, "表格范围过大:最大行 3001 × 最大列 10")
    ImportJob.objects.all().delete()
    settings.IMPORT_MAX_CELLS = 3001 * len(HEADERS)
    code, out, err = run_import(path)
    assert code == 0, err
    assert last_line(out) == counts(created=3000)


def test_hand_made_xlsx_that_is_fine_imports(reference, tmp_path):
    header = "".join(_cell(f"{chr(65 + i)}1", h) for i, h in enumerate(HEADERS))
    values = "".join(_cell(f"{chr(65 + i)}2", str(v)) for i, v in enumerate(row(1)))
    sheet = f'<row r="1">{header}</row><row r="2">{values}</row>'
    code, out, err = run_import(_hand_made_xlsx(tmp_path / "ok.xlsx", sheet))
    assert code == 0, err
    assert last_line(out) == counts(created=1)


def test_xlsx_whose_cells_carry_no_position_still_imports(reference, tmp_path):
    """Some generators omit r="A1": the streaming reader hands such a sheet to calamine."""

    def cells(values: list[object]) -> str:
        return "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values)

    sheet = f"<row>{cells(HEADERS)}</row><row>{cells(row(1))}</row><row>{cells(row(2))}</row>"
    code, out, err = run_import(_hand_made_xlsx(tmp_path / "norefs.xlsx", sheet))
    assert code == 0, err
    assert last_line(out) == counts(created=2)


# --- CSV: fields per line ---------------------------------------------------------------------


def _write(path: Path, *lines: bytes) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_csv_line_of_a_hundred_thousand_commas_is_refused(reference, tmp_path):
    path = _write(tmp_path / "wide.csv", ",".join(HEADERS).encode(), b"," * 100_000)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert_refused(path, "第 2 行", "列数超过上限 256 列")
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 50 * 1024, f"peak memory grew by {grown_kib} KiB"


def test_csv_with_two_column_header_and_lines_of_a_million_commas_is_refused(reference, tmp_path):
    """The reported case: 8.8 GB before the fix."""
    header = "企业名称,统一社会信用代码".encode()
    path = _write(tmp_path / "wide.csv", header, *[b"," * 1_000_000] * 3)
    assert_refused(path, "第 2 行", "列数超过上限")


def test_csv_separators_hidden_after_a_stray_quote_still_count(reference, tmp_path):
    """`x"` opens no quoted field for the parsers; the separators after it are columns."""
    path = _write(tmp_path / "wide.csv", ",".join(HEADERS).encode(), b'x"' + b"," * 5_000)
    assert_refused(path, "第 2 行", "列数超过上限")


def test_csv_record_spread_over_many_quoted_lines_is_refused(reference, tmp_path):
    """One record of 5,000 fields, each a quoted value holding a newline: no physical line has
    more than one separator."""
    path = _write(tmp_path / "wide.csv", ",".join(HEADERS).encode(), b'"\n",' * 5_000 + b"x")
    assert_refused(path, "第 2 行", "列数超过上限")


def test_csv_column_limit_setting_is_honoured(settings, reference, tmp_path):
    settings.IMPORT_MAX_COLUMNS = 12
    rows = good_rows(2)
    rows[2] = [*rows[2], "", "", "多余"]  # 13 fields on line 3
    assert_refused(write_csv(tmp_path / "e.csv", rows), "第 3 行", "列数超过上限 12 列")


def test_csv_quoted_commas_and_multiline_cells_within_the_limit_import(reference, tmp_path):
    rows = good_rows(3)
    rows[1][2] = "甲,乙,丙\n第二行," + "," * 100  # a quoted cell with a newline and commas
    rows[2][4] = "1,000"
    code, out, err = run_import(write_csv(tmp_path / "e.csv", rows))
    assert code == 0, err
    assert last_line(out) == counts(created=3)


def test_tab_separated_gbk_file_with_wide_lines_is_refused(reference, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_bytes(("\t".join(HEADERS) + "\n" + "\t" * 1000 + "\n").encode("gb18030"))
    assert_refused(path, "第 2 行", "列数超过上限")


# --- CSV: long cells where the csv module reads the header zone ----------------------------------


def test_csv_header_zone_cell_of_200000_characters_is_not_an_internal_error(reference, tmp_path):
    """Past the csv module's default 131,072-character field limit but within the line limit:
    read like any other title line above the header."""
    rows = [["柳" * 200_000], *good_rows(2)]
    code, out, err = run_import(write_csv(tmp_path / "title.csv", rows))
    assert code == 0, (out, err)
    assert last_line(out) == counts(created=2)


def test_csv_of_only_a_200000_character_cell_is_refused_cleanly(reference, tmp_path):
    path = write_csv(tmp_path / "blob.csv", [["x" * 200_000], ["y"]])
    assert_refused(path, "未找到表头")


def test_csv_quoted_cell_longer_than_the_line_limit_is_refused_cleanly(settings, db, tmp_path):
    """Each physical line is within the line limit, the quoted cell spanning them is not."""
    settings.IMPORT_MAX_LINE_BYTES = 256 * 1024
    long_cell = "\n".join(["x" * 200_000] * 3)
    path = write_csv(tmp_path / "long.csv", [[long_cell, "b"], HEADERS])
    assert_refused(path, "CSV 文件格式有误")


# --- ordinary files still import ----------------------------------------------------------------


def test_thousands_of_rows_csv_and_xlsx_still_import(reference, tmp_path):
    rows = good_rows(5000)
    code, out, err = run_import(write_csv(tmp_path / "e.csv", rows))
    assert code == 0, err
    assert last_line(out) == counts(created=5000)
    code, out, err = run_import(write_xlsx(tmp_path / "e.xlsx", {"企业": rows}))
    assert code == 0, err
    assert last_line(out) == counts(unchanged=5000)
