"""Reading spreadsheet files safely: sniff the format, enforce limits, return cells as strings.

Everything here runs before any business rule. A file that is not a spreadsheet, is too big,
inflates too much, has too many rows or an absurdly long cell is refused with `ImportRefused`
and a Chinese message, and memory stays bounded: limits are checked while streaming bytes,
before calamine or polars are asked to build anything.
"""

from __future__ import annotations

import codecs
import copy
import csv
import ctypes
import ctypes.util
import io
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.utils.translation import gettext as _

XLSX, XLS, ODS, CSV = "xlsx", "xls", "ods", "csv"
CHUNK = 1 << 20
# Header rows may sit under a title block; look this far down for them.
HEADER_SCAN_ROWS = 20
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Recognised non-spreadsheet signatures, to tell the user what they actually uploaded.
FOREIGN_MAGIC = (
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"\x1f\x8b", "gzip"),
    (b"Rar!", "RAR"),
    (b"7z\xbc\xaf", "7z"),
    (b"{\\rtf", "RTF"),
)


class ImportRefused(Exception):
    """The whole file is refused; `message` says why, in the user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Limits:
    """Bounds applied before and while reading. `for_upload()` reads them from settings."""

    max_bytes: int
    max_rows: int
    max_uncompressed_bytes: int
    max_line_bytes: int = 2 * CHUNK
    # Excel itself stops at 32,767 characters a cell; escaped XML text may take ~6 bytes each.
    max_cell_bytes: int = 256 * 1024
    max_columns: int = 256
    # Rows x columns of the rectangle calamine allocates for a sheet (it builds a dense grid from
    # the top-left to the farthest cell). 20 M fits a full 1,000,000-row x 15-column sheet.
    max_cells: int = 20_000_000
    max_zip_entries: int = 10_000
    max_ratio: int = 1_000

    @classmethod
    def for_upload(cls, *, max_bytes: int | None = None) -> Limits:
        return cls(
            max_bytes=max_bytes if max_bytes is not None else settings.IMPORT_MAX_UPLOAD_BYTES,
            max_rows=settings.IMPORT_MAX_ROWS,
            max_uncompressed_bytes=settings.IMPORT_MAX_UNCOMPRESSED_BYTES,
            max_line_bytes=settings.IMPORT_MAX_LINE_BYTES,
            max_cell_bytes=settings.IMPORT_MAX_CELL_BYTES,
            max_columns=settings.IMPORT_MAX_COLUMNS,
            max_cells=settings.IMPORT_MAX_CELLS,
        )

    @property
    def max_sheet_rows(self) -> int:
        """Rows a sheet may physically have: data rows plus room for a title block and header."""
        return self.max_rows + HEADER_SCAN_ROWS + 1


ROW_NUMBER = "_row"
BatchReader = Callable[[list[int]], Iterator[pl.DataFrame]]


@dataclass
class RawSheet:
    """One sheet's data rows under its header. `read(columns)` streams frames holding the
    columns asked for (0-based indexes, as `c{i}` String columns, absent when a frame has no
    value in them) and `_row`, the 1-based row number the user sees."""

    name: str
    read: BatchReader


@dataclass
class TableFile:
    path: Path
    format: str
    sheet_names: list[str]
    # CSV only: the UTF-8 file polars reads (the original, or a transcoded temporary copy).
    text_path: Path | None = None
    delimiter: str = ","
    # .xlsx only: the streaming reader (gaoxin.core.imports.xlsx.XlsxBook).
    book: Any = None
    _cleanup: list[Path] = field(default_factory=list)

    def close(self) -> None:
        if self.book is not None:
            self.book.close()
        for p in self._cleanup:
            p.unlink(missing_ok=True)


def _too_many_rows(limits: Limits) -> str:
    return _("文件超过最大行数 %(n)s 行,请拆分后分批导入") % {"n": f"{limits.max_rows:,}"}


def _not_a_table(detail: str = "") -> str:
    msg = _("不是可识别的表格文件(支持 .xlsx、.xls、.ods 和 UTF-8/GBK 编码的 .csv)")
    return f"{msg}{detail}"


def damaged_message() -> str:
    return _("文件已损坏,无法作为表格读取")


def bomb_message(limits: Limits) -> str:
    return _("文件解压后超过 %(max)s,可能是压缩炸弹,已拒绝") % {
        "max": _human(limits.max_uncompressed_bytes)
    }


def cell_too_long_message(limits: Limits) -> str:
    return _("文件中有单元格内容过长(超过 %(max)s),已拒绝") % {"max": _human(limits.max_cell_bytes)}


def row_too_long_message(limits: Limits) -> str:
    return _("表格中有一行内容过长(超过 %(max)s),可能不是正常的表格文件,已拒绝") % {
        "max": _human(limits.max_line_bytes)
    }


def check_extent(rows: int, cols: int, limits: Limits) -> None:
    """The used range a sheet names (largest row and column of any cell): each bounded, and
    their product, which is the grid calamine would allocate."""
    if cols > limits.max_columns:
        raise ImportRefused(
            _("表格列数超过上限 %(n)d 列,请删除多余的列") % {"n": limits.max_columns}
        )
    if rows > limits.max_sheet_rows:
        raise ImportRefused(_too_many_rows(limits))
    if rows * cols > limits.max_cells:
        raise ImportRefused(
            _(
                "表格范围过大:最大行 %(rows)d × 最大列 %(cols)d 超过允许的 %(max)d 个单元格,"
                "请删除空白区域后重试"
            )
            % {"rows": rows, "cols": cols, "max": limits.max_cells}
        )


def sniff_format(path: Path) -> str:
    """The file's real format by its content, never by its name."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if not head:
        raise ImportRefused(_("文件是空的"))
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                if "xl/workbook.xml" in names:
                    return XLSX
                if "mimetype" in names and zf.read("mimetype").strip() == ODS_MIMETYPE:
                    return ODS
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ImportRefused(_("文件已损坏,无法作为表格读取")) from exc
        raise ImportRefused(_not_a_table(_(":这是一个压缩包或其他 Office 文档,不是电子表格")))
    if head.startswith(OLE2_MAGIC):
        return XLS
    for magic, label in FOREIGN_MAGIC:
        if head.startswith(magic):
            raise ImportRefused(_not_a_table(_(":文件内容是 %(kind)s") % {"kind": label}))
    return CSV


def open_table(path: Path, *, limits: Limits) -> TableFile:
    """Checks size, format and structural limits; returns a handle `read_sheet` can use."""
    path = Path(path)
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise ImportRefused(
            _("文件大小 %(size)s 超过上限 %(max)s")
            % {"size": _human(size), "max": _human(limits.max_bytes)}
        )
    fmt = sniff_format(path)
    if fmt == XLSX:
        from gaoxin.core.imports.xlsx import XlsxBook

        # Worksheets are checked by the streaming reader as they are read.
        _scan_zip(path, fmt, limits, sheets=False)
        book = XlsxBook(str(path), limits)
        names = [sheet.name for sheet in book.sheets]
        return TableFile(path=path, format=fmt, sheet_names=names, book=book)
    if fmt == ODS:
        _scan_zip(path, fmt, limits)
        return TableFile(path=path, format=fmt, sheet_names=_sheet_names(path))
    if fmt == XLS:
        # Not scanned for its extent. Excel writes at most 65,536 rows x 256 columns (16.8 M
        # cells, under max_cells), but BIFF8 cell records carry 16-bit row and column indexes,
        # so a crafted file could still name a cell at (65535, 65535); only those 16-bit
        # indexes bound the grid calamine builds. Known gap: needs a BIFF record scan.
        return TableFile(path=path, format=fmt, sheet_names=_sheet_names(path))
    table = _scan_text(path, limits)
    return table


def _human(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.0f} MB"
    return f"{n / 1024:.0f} KB"


def _sheet_names(path: Path) -> list[str]:
    import fastexcel

    try:
        return list(fastexcel.read_excel(str(path)).sheet_names)
    except Exception as exc:  # calamine's errors are not a stable hierarchy
        raise ImportRefused(_("文件已损坏,无法作为表格读取")) from exc


# --- zip containers (xlsx, ods) --------------------------------------------------------------

# calamine allocates a dense rows x columns grid for a sheet, so the scan bounds the extent the
# cell references name (`_XlsxExtent`), not just the rows and columns one at a time.
_ODS_REPEAT = re.compile(rb'number-(rows|columns)-repeated="([0-9]+)"')


def _col_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def _scan_zip(
    path: Path, fmt: str, limits: Limits, *, sheets: bool = True, only: str | None = None
) -> None:
    """Zip-bomb and dense-range guard: inflate every entry once, counting real bytes.
    `sheets=False` leaves .xlsx worksheets to the streaming reader; `only` scans one entry."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportRefused(_("文件已损坏,无法作为表格读取")) from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_zip_entries:
            raise ImportRefused(_("文件结构异常:包含的内部文件过多"))
        bomb = bomb_message(limits)
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_uncompressed_bytes:
            raise ImportRefused(bomb)
        for info in infos:
            if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
                if info.file_size > 10 * CHUNK:
                    raise ImportRefused(bomb)
        total = 0
        for info in infos:
            name = info.filename
            is_sheet = (fmt == XLSX and name.startswith("xl/worksheets/")) or (
                fmt == ODS and name == "content.xml"
            )
            if (only is not None and name != only) or (is_sheet and not sheets):
                continue
            is_text = name.endswith(".xml")
            # Read past the declared size so a lying header is caught, up to the overall budget.
            probe = copy.copy(info)
            probe.file_size = limits.max_uncompressed_bytes - total + 1
            rows = 0
            ods_repeats = _OdsRepeats(limits)
            extent = _XlsxExtent(limits)
            run = 0  # bytes since the last '<': the longest text run bounds the longest cell
            tail = b""
            # Pieces no longer than the cell limit: a text run inside one piece is then shorter
            # than the limit, so checking runs across piece boundaries is enough.
            piece = max(1024, min(CHUNK, limits.max_cell_bytes))
            try:
                with zf.open(probe) as fh:
                    while chunk := fh.read(piece):
                        total += len(chunk)
                        if total > limits.max_uncompressed_bytes:
                            raise ImportRefused(bomb)
                        if not is_text:
                            continue
                        first = chunk.find(b"<")
                        if first < 0:
                            run += len(chunk)
                        else:
                            run += first
                            if run > limits.max_cell_bytes:
                                break
                            run = len(chunk) - chunk.rfind(b"<") - 1
                        if run > limits.max_cell_bytes:
                            break
                        if not is_sheet:
                            continue
                        window = tail + chunk
                        if fmt == XLSX:
                            rows += window.count(b"<row ") + window.count(b"<row>")
                            rows -= tail.count(b"<row ") + tail.count(b"<row>")
                            extent.feed(window)
                        else:
                            rows += window.count(b"<table:table-row") - tail.count(
                                b"<table:table-row"
                            )
                            rows += ods_repeats.feed(window, len(tail))
                        if rows > limits.max_sheet_rows:
                            raise ImportRefused(_too_many_rows(limits))
                        tail = chunk[-64:]
            except ImportRefused:
                raise
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise ImportRefused(_("文件已损坏,无法作为表格读取")) from exc
            except Exception as exc:  # zlib.error and friends: a damaged stream
                raise ImportRefused(_("文件已损坏,无法作为表格读取")) from exc
            if run > limits.max_cell_bytes:
                raise ImportRefused(cell_too_long_message(limits))


# A row element with content (not self-closing) and its row number.
_XLSX_ROW = re.compile(rb'<row\s(?:[^>]*?\s)?r="([0-9]{1,12})"[^>]*?(?<!/)>')
_XLSX_DIMENSION = re.compile(rb'<dimension\s+ref="([A-Z0-9:$]{1,40})"')
_CELL_REF = re.compile(rb"\$?([A-Z]{0,3})\$?([0-9]{0,12})")


class _XlsxExtent:
    """The rectangle calamine will allocate for one worksheet: the largest row and column named
    by any cell reference (`r="IV1000000"`) or by `<dimension ref>`.

    Parsing every reference would cost seconds on a million-row sheet, so each window is
    searched only for references that exceed the largest row or column seen so far: in a normal
    sheet a cell's row never exceeds its row element's number, so almost nothing matches."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.rows = 0  # largest row number of a cell or of a non-empty row element
        self.cols = 0
        self._pattern: re.Pattern[bytes] | None = None
        self._key: tuple[int, int] | None = None

    def feed(self, window: bytes) -> None:
        for ref in _XLSX_DIMENSION.findall(window):
            for part in ref.split(b":"):
                match = _CELL_REF.fullmatch(part)
                if match:
                    self._note(match.group(1), match.group(2))
        # A row element that holds cells counts as used; self-closing ones (Excel writes them
        # for formatted but empty rows, sometimes far down) do not.
        for digits in _XLSX_ROW.findall(window):
            self._note(b"", digits)
        for letters, digits in self._larger_than(self.rows, self.cols).findall(window):
            self._note(letters, digits)
        self._check()

    def _note(self, letters: bytes, digits: bytes) -> None:
        if letters:
            col = _col_index(letters)
            if col > self.limits.max_columns:
                raise ImportRefused(
                    _("表格列数超过上限 %(n)d 列,请删除多余的列") % {"n": self.limits.max_columns}
                )
            self.cols = max(self.cols, col)
        if digits:
            row = int(digits)
            if row > self.limits.max_sheet_rows:
                raise ImportRefused(_too_many_rows(self.limits))
            self.rows = max(self.rows, row)

    def _check(self) -> None:
        check_extent(self.rows, self.cols, self.limits)

    def _larger_than(self, row: int, col: int) -> re.Pattern[bytes]:
        """A pattern for cell references whose column exceeds `col` or whose row exceeds `row`."""
        if self._key == (row, col) and self._pattern is not None:
            return self._pattern
        letters = b"[A-Z]{2,3}" if col >= 26 else b"[%c-Z]|[A-Z]{2,3}" % (65 + col)
        digits = str(row).encode()
        bigger = [b"[0-9]{%d,}" % (len(digits) + 1)]
        for i, d in enumerate(digits):
            if d < ord("9"):
                rest = len(digits) - i - 1
                bigger.append(b"%s[%c-9][0-9]{%d}" % (digits[:i], d + 1, rest))
        self._pattern = re.compile(
            rb'r="((?:%s)(?=[0-9])|[A-Z]{1,3}(?=(?:%s)"))([0-9]+)"' % (letters, b"|".join(bigger))
        )
        self._key = (row, col)
        return self._pattern


_ROW_END = b"</table:table-row>"
_TABLE_END = b"</table:table>"


def _has_value(row: bytes) -> bool:
    return b"value-type" in row or b"<text:p" in row


class _OdsRepeats:
    """Rows that ODS `number-rows-repeated` adds to what calamine will build.

    LibreOffice writes the empty rows after a table's last used row as one huge repeated row;
    calamine skips those, so they must not count. Repeated rows that hold values, or empty ones
    that more rows follow, do become part of the cell grid and count. A row cut by a piece
    boundary is settled when the next piece arrives."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        # A repeated row whose end is not yet seen: (repeat count, values seen so far).
        self.pending_row: tuple[int, bool] | None = None
        self.pending_after: int | None = None  # empty repeat whose successor is not yet seen

    def feed(self, window: bytes, fresh_from: int) -> int:
        extra = 0
        if self.pending_after is not None:
            n, self.pending_after = self.pending_after, None
            extra += self._settle_after(window[fresh_from:], n)
        if self.pending_row is not None:
            (n, valued), self.pending_row = self.pending_row, None
            end = window.find(_ROW_END, fresh_from)
            if valued or end < 0:  # a value, or a row longer than a piece: count it
                extra += n - 1
            else:
                extra += self._settle(window, fresh_from, end, n)
        for match in _ODS_REPEAT.finditer(window):
            if match.end() <= fresh_from:
                continue  # seen in the previous piece
            what, n = match.group(1), int(match.group(2))
            if what == b"columns":
                self._check_columns(window, match.end(), n)
                continue
            end = window.find(_ROW_END, match.end())
            if end < 0:
                self.pending_row = (n, _has_value(window[match.end() :]))
            else:
                extra += self._settle(window, match.end(), end, n)
        return extra

    def _settle(self, window: bytes, start: int, end: int, n: int) -> int:
        if _has_value(window[start:end]):
            return n - 1
        return self._settle_after(window[end + len(_ROW_END) :], n)

    def _settle_after(self, after: bytes, n: int) -> int:
        after = after.lstrip()
        if not after:
            self.pending_after = n
            return 0
        return 0 if after.startswith(_TABLE_END) else n - 1

    def _check_columns(self, window: bytes, start: int, n: int) -> None:
        if n <= self.limits.max_columns:
            return
        tag_end = window.find(b">", start)
        if tag_end > 0 and window[tag_end - 1 : tag_end] == b"/":
            following = window[tag_end + 1 :].lstrip()
            if not following or following.startswith(_ROW_END):
                return  # empty cells to the end of the row: calamine ignores them
        raise ImportRefused(
            _("表格列数超过上限 %(n)d 列,请删除多余的列") % {"n": self.limits.max_columns}
        )


# --- text (CSV) ------------------------------------------------------------------------------


def _scan_text(path: Path, limits: Limits) -> TableFile:
    """Streams the bytes once (twice for GBK): NUL bytes, line length and line count are
    checked as they arrive, so a 300 MB single cell never sits in memory."""
    try:
        delimiter = _sniff_delimiter(path)
        _stream_check(path, limits, "utf-8-sig", None, delimiter)
        encoding = "utf-8-sig"
    except UnicodeDecodeError:
        encoding = "gb18030"
        # The same sample the transcoded copy would give.
        delimiter = _sniff_delimiter(path, encoding="gb18030")
    table = TableFile(path=path, format=CSV, sheet_names=[path.stem or "CSV"])
    if encoding == "utf-8-sig":
        table.text_path = path
    else:
        tmp = tempfile.NamedTemporaryFile(  # noqa: SIM115 - removed by TableFile.close
            prefix="gaoxin-import-", suffix=".csv", delete=False
        )
        tmp_path = Path(tmp.name)
        table._cleanup.append(tmp_path)
        try:
            with tmp:
                _stream_check(path, limits, encoding, tmp, delimiter)
        except UnicodeDecodeError as exc:
            table.close()
            raise ImportRefused(
                _not_a_table(_(":无法识别文件编码,请另存为 UTF-8 或 GBK 编码的 CSV"))
            ) from exc
        except BaseException:
            table.close()
            raise
        table.text_path = tmp_path
    table.delimiter = delimiter
    return table


class _FieldCounter:
    """Fields per record, counted while streaming so a line of a million separators is refused
    before polars builds a million columns.

    Deliberately conservative: a record ends at a newline outside quotes (every `"` toggles, as
    polars splits records), and every separator in it counts, quoted or not. A field may hold
    separators only when quoted, so a real file is refused only if a record has more than
    `max_columns - 1` separators in all, quoted text included."""

    def __init__(self, limits: Limits, delimiter: str) -> None:
        self.limits = limits
        self.delimiter = delimiter
        self.separators = 0  # in the current record so far
        self.quoted = False  # inside quotes at the end of the text seen so far
        self.line = 1  # physical line the current record starts on
        self.lines = 0  # complete physical lines seen

    def feed(self, text: str) -> None:
        limit = self.limits.max_columns - 1
        pieces = text.split("\n")
        for i, piece in enumerate(pieces):
            self.separators += piece.count(self.delimiter)
            if self.separators > limit:
                raise ImportRefused(
                    _("第 %(line)d 行的列数超过上限 %(n)d 列,可能不是正常的表格文件,已拒绝")
                    % {"line": self.line, "n": self.limits.max_columns}
                )
            if piece.count('"') % 2:
                self.quoted = not self.quoted
            if i < len(pieces) - 1:  # a newline follows this piece
                self.lines += 1
                if not self.quoted:
                    self.separators = 0
                    self.line = self.lines + 1


def _stream_check(
    path: Path,
    limits: Limits,
    encoding: str,
    out: io.BufferedWriter | None,
    delimiter: str,
) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    fields = _FieldCounter(limits, delimiter)
    lines = 0
    run = 0
    # Pieces no longer than the line limit, so only runs across pieces need adding up.
    piece = max(1024, min(CHUNK, limits.max_line_bytes))
    with path.open("rb") as fh:
        while chunk := fh.read(piece):
            if b"\x00" in chunk:
                raise ImportRefused(_not_a_table(_(":文件包含二进制内容")))
            text = decoder.decode(chunk)
            if out is not None:
                out.write(text.encode("utf-8"))
            fields.feed(text)
            newlines = chunk.count(b"\n")
            if newlines:
                run += chunk.find(b"\n")
                if run > limits.max_line_bytes:
                    break
                run = len(chunk) - chunk.rfind(b"\n") - 1
            else:
                run += len(chunk)
            if run > limits.max_line_bytes:
                break
            lines += newlines
            if lines > limits.max_sheet_rows:
                raise ImportRefused(_too_many_rows(limits))
        else:
            tail = decoder.decode(b"", final=True)
            if out is not None:
                out.write(tail.encode("utf-8"))
            fields.feed(tail)
            return
    raise ImportRefused(
        _("第 %(line)d 行过长(超过 %(max)s),可能不是正常的表格文件,已拒绝")
        % {"line": lines + 1, "max": _human(limits.max_line_bytes)}
    )


def _sniff_delimiter(path: Path, *, encoding: str = "utf-8-sig") -> str:
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(64 * 1024)
    counts = {d: sample.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


# --- reading cells ---------------------------------------------------------------------------

HeaderFinder = Callable[[list[list[str | None]]], int | None]


def read_sheet(
    table: TableFile, sheet: int, *, limits: Limits, find_header: HeaderFinder
) -> tuple[list[str | None], RawSheet] | None:
    """The header cells and a reader of the data rows under them, or None when no header row
    is found. `find_header` gets the first rows (cells stripped, None when empty) and returns
    the index of the header row among them."""
    name = table.sheet_names[sheet]
    if table.format == CSV:
        return _read_csv(table, limits=limits, find_header=find_header)
    if table.format == XLSX:
        from gaoxin.core.imports.xlsx import NoCellReferences

        try:
            return _read_xlsx(table, sheet, find_header)
        except NoCellReferences:
            # Positional cells: calamine places them; scan the sheet first as for .ods.
            _scan_zip(table.path, XLSX, limits, only=table.book.sheets[sheet].part)
    frame = _read_workbook_sheet(table, name, limits)
    head = frame.head(HEADER_SCAN_ROWS).drop(ROW_NUMBER).rows()
    found = find_header([[_clean(v) for v in row] for row in head])
    if found is None:
        return None
    header = [_clean(v) for v in head[found]]
    data = frame.slice(found + 1)

    def read(columns: list[int]) -> Iterator[pl.DataFrame]:
        keep = [f"c{i}" for i in columns if f"c{i}" in data.columns]
        yield data.select(ROW_NUMBER, *keep)

    return header, RawSheet(name=name, read=read)


def _read_xlsx(
    table: TableFile, sheet: int, find_header: HeaderFinder
) -> tuple[list[str | None], RawSheet] | None:
    book = table.book
    head_rows: dict[int, dict[int, str | None]] = {}
    stream = book.batches(sheet)
    try:
        for batch in stream:
            for record in batch.filter(pl.col(ROW_NUMBER) <= HEADER_SCAN_ROWS).iter_rows(
                named=True
            ):
                number = record.pop(ROW_NUMBER)
                head_rows[number] = {int(k[1:]): v for k, v in record.items()}
            if int(batch.get_column(ROW_NUMBER).max()) >= HEADER_SCAN_ROWS:  # type: ignore[arg-type]
                break
    finally:
        stream.close()  # the rest of the sheet is read by `read`, column-projected
    width = max((max(r, default=-1) for r in head_rows.values()), default=-1) + 1
    last = max(head_rows, default=0)
    head = [[_clean(head_rows.get(n, {}).get(i)) for i in range(width)] for n in range(1, last + 1)]
    found = find_header(head)
    if found is None:
        return None
    header_row = found + 1

    def read(columns: list[int]) -> Iterator[pl.DataFrame]:
        for batch in book.batches(sheet, columns):
            batch = batch.filter(pl.col(ROW_NUMBER) > header_row)
            if batch.height:
                yield batch

    return head[found], RawSheet(name=table.sheet_names[sheet], read=read)


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _read_workbook_sheet(table: TableFile, sheet: str, limits: Limits) -> pl.DataFrame:
    """A whole sheet through calamine (.xls, .ods, .xlsx without cell references), as c{i}
    String columns plus `_row`. Memory: the sheet's cells, bounded by the scan's limits."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(table.path))
        loaded = reader.load_sheet(
            sheet,
            header_row=None,
            skip_rows=0,  # keep leading empty rows so row numbers match what the user sees
            n_rows=limits.max_sheet_rows + 1,
            dtypes="string",
        )
        if loaded.total_height > limits.max_sheet_rows:
            raise ImportRefused(_too_many_rows(limits))
        if loaded.width > limits.max_columns:
            raise ImportRefused(
                _("表格列数超过上限 %(n)d 列,请删除多余的列") % {"n": limits.max_columns}
            )
        frame = loaded.to_polars()
    except ImportRefused:
        raise
    except Exception as exc:  # calamine reports damaged files through many exception types
        raise ImportRefused(damaged_message()) from exc
    frame = frame.rename({c: f"c{i}" for i, c in enumerate(frame.columns)})
    frame = frame.with_row_index(ROW_NUMBER, offset=1).with_columns(
        pl.col(ROW_NUMBER).cast(pl.Int64)
    )
    del loaded, reader
    _release_freed_memory()
    return frame


def _release_freed_memory() -> None:
    """calamine's cell grid is freed by now, but glibc keeps freed pages in its arenas; hand
    them back so the import's resident memory reflects what it actually holds."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to do
        pass


def _read_csv(
    table: TableFile, *, limits: Limits, find_header: HeaderFinder
) -> tuple[list[str | None], RawSheet] | None:
    assert table.text_path is not None  # noqa: S101 - set by _scan_text
    text_path = table.text_path
    head: list[list[str | None]] = []
    # The csv module stops at 131,072 characters a field by default; lines up to
    # max_line_bytes are allowed, so a field may be that long (a quoted one spanning lines may
    # be longer still, which csv.Error below reports).
    csv.field_size_limit(max(limits.max_line_bytes, 131_072))
    try:
        with text_path.open("r", encoding="utf-8-sig", newline="") as fh:
            for record in csv.reader(fh, delimiter=table.delimiter):
                if len(record) > limits.max_columns:
                    raise ImportRefused(
                        _("表格列数超过上限 %(n)d 列,请删除多余的列") % {"n": limits.max_columns}
                    )
                head.append([_clean(v) for v in record])
                if len(head) >= HEADER_SCAN_ROWS:
                    break
        found = find_header(head)
        if found is None:
            return None
        header = head[found]
        skip_lines = _physical_lines(text_path, found + 1, table.delimiter)
    except csv.Error as exc:
        raise ImportRefused(
            _("CSV 文件格式有误,无法读取:%(err)s(单元格内容可能过长或引号不配对)")
            % {"err": str(exc)[:200]}
        ) from exc
    first_row = found + 2

    def read(columns: list[int]) -> Iterator[pl.DataFrame]:
        # Only the columns asked for are kept: polars parses the rest and drops it.
        wanted = [i for i in columns if i < len(header)]
        try:
            frame = pl.read_csv(
                text_path,
                has_header=False,
                infer_schema=False,
                skip_rows=skip_lines,
                separator=table.delimiter,
                truncate_ragged_lines=True,
                n_rows=limits.max_sheet_rows + 1,
                encoding="utf8",
                quote_char='"',
                columns=wanted or [0],
                new_columns=[f"c{i}" for i in (wanted or [0])],
            )
        except pl.exceptions.NoDataError:
            frame = pl.DataFrame(schema={f"c{i}": pl.String for i in wanted})
        except pl.exceptions.ColumnNotFoundError:
            # Every data line is shorter than the header: those columns are all empty.
            frame = pl.DataFrame(schema={f"c{i}": pl.String for i in wanted})
        except Exception as exc:  # polars ComputeError for unbalanced quotes and the like
            raise ImportRefused(
                _("CSV 文件格式有误,无法读取:%(err)s") % {"err": str(exc)[:200]}
            ) from exc
        yield frame.with_row_index(ROW_NUMBER, offset=first_row).with_columns(
            pl.col(ROW_NUMBER).cast(pl.Int64)
        )

    return header, RawSheet(name=table.sheet_names[0], read=read)


def _physical_lines(path: Path, records: int, delimiter: str) -> int:
    """How many physical lines the first `records` CSV records occupy (quoted newlines)."""
    if records == 0:
        return 0
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        for _i, _record in zip(range(records), reader, strict=False):
            pass
        return reader.line_num
