"""Streaming .xlsx reader: a worksheet is inflated block by block and its cells are decoded with
vectorised string expressions, so memory is bounded by a block, not by the sheet.

calamine (through fastexcel) builds a sheet's whole cell grid before returning anything; on a
million-row sheet that is about 1.6 KB a row. Here each block of the sheet XML (cut at a row
boundary) is split into cells with `bytes.split`, and polars extracts reference, type, style and
value from all of them at once (regex in Rust, several expressions in parallel). Shared strings,
date styles, entity references and the 1904 date system are resolved the same way; the rare
cells the fast patterns do not cover (rich inline text, numeric character references,
`_xHHHH_` escapes) go through a small Python decoder.

The limits of `files.Limits` are applied as the blocks arrive: inflated bytes (zip bombs), the
longest row and cell, the used range (rows x columns, as calamine would allocate it for the
files that still go to calamine), and the number of rows. A sheet whose cells carry no `r="A1"`
references (some generators omit them) is reported with `NoCellReferences` before anything is
yielded; the caller reads that sheet with calamine instead.

Output: frames with an `_row` column (the 1-based row number the user sees) and one String
column `c{i}` per 0-based column index that holds a value in the block (only the columns asked
for). Values are strings exactly as calamine gives them to the rest of the pipeline: numbers as
written ("34128.7"), dates of date-formatted cells as "YYYY-MM-DD HH:MM:SS", booleans as
"true"/"false".
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

import polars as pl
from defusedxml import ElementTree
from django.utils.translation import gettext as _

from gaoxin.core.imports.files import (
    ImportRefused,
    Limits,
    bomb_message,
    cell_too_long_message,
    check_extent,
    damaged_message,
    row_too_long_message,
)

ROW_COL = "_row"
BLOCK = 8 << 20
FIRST_BLOCK = 1 << 20
MAX_DATE_SERIAL = 2_958_465  # 9999-12-31: a larger "date" is shown as the number it is
SMALL_PART = 32 << 20  # workbook.xml, its relationships, styles.xml
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
REL_ATTR_SUFFIX = "}id"
# Built-in number formats that are dates or times (ECMA-376 18.8.30, plus the CJK ones Excel
# uses in Chinese locales: 27-36 and 50-58).
BUILTIN_DATE_FORMATS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z0-9:$]{1,40})"')
_DIM_REF = re.compile(rb"\$?([A-Z]{1,3})\$?([0-9]{1,12})")
FAST_TAG = r'^r="([A-Z]{1,3})([0-9]{1,9})"(?: s="([0-9]{1,9})")?(?: t="(\w+)")?'
# Serial day 0 of Excel's two date systems (naive: a cell's date has no time zone).
EPOCH_1900 = dt.datetime(1899, 12, 30)  # noqa: DTZ001
EPOCH_1904 = dt.datetime(1904, 1, 1)  # noqa: DTZ001
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


class NoCellReferences(Exception):
    """The sheet's cells do not say where they are: read it positionally (calamine)."""


@dataclass(frozen=True)
class SheetPart:
    name: str
    part: str  # path of the worksheet XML inside the zip


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def _is_date_code(code: str) -> bool:
    """A custom number format shows a date or time when, outside quotes, escapes and
    brackets ([Red], [$-804], [h] elapsed time), it uses y, m, d, h or s."""
    stripped = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.|[eE][+-]', "", code)
    stripped = stripped.split(";")[0]
    return bool(re.search(r"[yYmMdDhHsSeE]", stripped)) and "General" not in stripped


def _python_text(fragment: str) -> str | None:
    """Slow path for one cell fragment (after `<c `): concatenated <t> runs of rich inline
    text, leaving out phonetic runs; or the <v> value."""
    body = re.sub(r"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", "", fragment, flags=re.S)
    runs = re.findall(r"<(?:\w+:)?t(?:\s[^>]*)?>([^<]*)</(?:\w+:)?t>", body)
    if runs:
        return "".join(runs)
    match = re.search(r"<(?:\w+:)?v(?:\s[^>]*)?>([^<]*)</(?:\w+:)?v>", body)
    return match.group(1) if match else None


def _unescape(text: str | None) -> str | None:
    if text is None:
        return None
    text = html.unescape(text) if "&" in text else text
    if "_x" in text:
        text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


def unescape_expr(expr: pl.Expr) -> pl.Expr:
    """XML's five named entities, vectorised (one pass, so "&amp;lt;" stays "&lt;")."""
    return expr.str.replace_many(
        ["&lt;", "&gt;", "&quot;", "&apos;", "&amp;"], ["<", ">", '"', "'", "&"]
    )


class XlsxBook:
    """An open .xlsx: sheet list, shared strings and date styles; `batches` streams a sheet."""

    def __init__(self, path: str, limits: Limits) -> None:
        self.limits = limits
        try:
            self._zip = zipfile.ZipFile(path)
            self.sheets = self._read_sheets()
            self.date1904 = self._date1904
            self._date_styles = self._read_date_styles()
        except ImportRefused:
            self.close()
            raise
        except Exception as exc:  # damaged zip, XML or relationships
            self.close()
            raise ImportRefused(damaged_message()) from exc
        self._shared: pl.Series | None = None

    def close(self) -> None:
        zf = getattr(self, "_zip", None)
        if zf is not None:
            zf.close()

    # --- the small parts -------------------------------------------------------------------

    def _small(self, name: str) -> bytes | None:
        try:
            info = self._zip.getinfo(name)
        except KeyError:
            return None
        with self._zip.open(info) as fh:
            data = fh.read(SMALL_PART + 1)
        if len(data) > SMALL_PART:
            raise ImportRefused(bomb_message(self.limits))
        return data

    def _read_sheets(self) -> list[SheetPart]:
        workbook = self._small("xl/workbook.xml")
        if workbook is None:
            raise ImportRefused(damaged_message())
        root = ElementTree.fromstring(workbook)
        self._date1904 = any(
            el.get("date1904") in ("1", "true")
            for el in root.iter()
            if el.tag.endswith("}workbookPr")
        )
        targets: dict[str, str] = {}
        rels = self._small("xl/_rels/workbook.xml.rels")
        if rels is not None:
            for rel in ElementTree.fromstring(rels).iter():
                if rel.tag.endswith("}Relationship") and rel.get("Id") and rel.get("Target"):
                    target = rel.get("Target", "")
                    if target.startswith("/"):
                        part = target.lstrip("/")
                    else:
                        part = str(PurePosixPath("xl") / target)
                    targets[rel.get("Id", "")] = _normalise_part(part)
        sheets: list[SheetPart] = []
        for el in root.iter():
            if not el.tag.endswith("}sheet"):
                continue
            rid = next((v for k, v in el.attrib.items() if k.endswith(REL_ATTR_SUFFIX)), None)
            part = targets.get(rid or "")
            if part and part in self._zip.NameToInfo:
                sheets.append(SheetPart(name=el.get("name", ""), part=part))
        return sheets

    def _read_date_styles(self) -> list[int]:
        styles = self._small("xl/styles.xml")
        if styles is None:
            return []
        root = ElementTree.fromstring(styles)
        custom: dict[int, str] = {}
        cell_xfs: list[int] = []
        for el in root.iter():
            if el.tag.endswith("}numFmt"):
                try:
                    custom[int(el.get("numFmtId", ""))] = el.get("formatCode", "")
                except ValueError:
                    continue
            elif el.tag.endswith("}cellXfs"):
                for xf in el:
                    try:
                        cell_xfs.append(int(xf.get("numFmtId", "0")))
                    except ValueError:
                        cell_xfs.append(0)
        dates = []
        for index, fmt in enumerate(cell_xfs):
            if fmt in custom:
                is_date = _is_date_code(custom[fmt])
            else:
                is_date = fmt in BUILTIN_DATE_FORMATS
            if is_date:
                dates.append(index)
        return dates

    def _shared_strings(self) -> pl.Series:
        if self._shared is not None:
            return self._shared
        name = next((n for n in self._zip.NameToInfo if n.lower() == "xl/sharedstrings.xml"), None)
        pieces: list[pl.Series] = []
        if name is not None:
            pieces = list(self._decode_shared(name))
        self._shared = pl.concat(pieces) if pieces else pl.Series("s", [], dtype=pl.String)
        return self._shared

    def _decode_shared(self, name: str) -> Iterator[pl.Series]:
        for prefix, block in self._blocks(name, b"sst", b"si"):
            # An empty shared string may be written <si/>: it still takes its number.
            block = block.replace(
                b"<" + prefix + b"si/>", b"<" + prefix + b"si></" + prefix + b"si>"
            )
            parts = block.split(b"<" + prefix + b"si>")[1:]
            if not parts:
                continue
            frame = pl.DataFrame(
                {"x": pl.Series(parts, dtype=pl.Binary).cast(pl.String, strict=False)}
            )
            if frame.get_column("x").null_count():
                raise ImportRefused(damaged_message())
            fast = pl.col("x").str.extract(r"^<(?:\w+:)?t(?:\s[^>]*)?>([^<]*)</(?:\w+:)?t></", 1)
            frame = frame.with_columns(fast.alias("t"))
            longest = frame.get_column("x").str.len_bytes().max()
            if longest is not None and int(longest) > self.limits.max_cell_bytes:  # type: ignore[arg-type]
                raise ImportRefused(cell_too_long_message(self.limits))
            yield self._finish_text(frame, "t").alias("s")

    def _finish_text(self, frame: pl.DataFrame, column: str) -> pl.Series:
        """Named entities vectorised; rich text, numeric references and _x escapes in Python."""
        value = pl.col(column)
        slow = (
            value.is_null()
            | value.str.contains("&#", literal=True)
            | value.str.contains("_x", literal=True)
        )
        frame = frame.with_columns(slow.alias("_slow"))
        out = frame.select(
            pl.when(pl.col("_slow")).then(None).otherwise(unescape_expr(value)).alias(column)
        ).get_column(column)
        if frame.get_column("_slow").any():
            idx = frame.with_row_index("_i").filter(pl.col("_slow"))
            raw = idx.get_column(column).to_list()
            fragments = idx.get_column("x").to_list()
            fixed = [
                _unescape(r if r is not None else _python_text(f))
                for r, f in zip(raw, fragments, strict=True)
            ]
            out = out.scatter(idx.get_column("_i").to_list(), fixed)
        return out

    # --- streaming a worksheet ---------------------------------------------------------------

    def _blocks(self, name: str, root: bytes, element: bytes) -> Iterator[tuple[bytes, bytes]]:
        """(namespace prefix, block): the part's inflated bytes in blocks that end just after a
        closing `element` tag (`row` for sheets, `si` for shared strings). Counts inflated bytes
        against the zip-bomb budget and refuses an element longer than the line limit."""
        limits = self.limits
        info = self._zip.getinfo(name)
        total = 0
        rest = b""
        prefix: bytes | None = None
        end = b""
        root_tag = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?" + root + rb"[\s>]")
        size = FIRST_BLOCK  # small first: header detection reads only the first block
        try:
            with self._zip.open(info) as fh:
                while True:
                    block = fh.read(size)
                    size = BLOCK
                    total += len(block)
                    if total > limits.max_uncompressed_bytes:
                        raise ImportRefused(bomb_message(limits))
                    data = rest + block if rest else block
                    if prefix is None:
                        found = root_tag.search(data)
                        if found is None and block and len(data) < BLOCK * 2:
                            rest = data
                            continue
                        prefix = (found.group(1) + b":") if found and found.group(1) else b""
                        end = b"</" + prefix + element + b">"
                    if not block:
                        if data:
                            yield prefix, data
                        return
                    cut = data.rfind(end)
                    if cut < 0:
                        if len(data) > limits.max_line_bytes + BLOCK:
                            raise ImportRefused(row_too_long_message(limits))
                        rest = data
                        continue
                    cut += len(end)
                    rest = data[cut:]
                    yield prefix, data[:cut]
        except ImportRefused:
            raise
        except Exception as exc:  # zlib.error, BadZipFile, CRC mismatch: a damaged stream
            raise ImportRefused(damaged_message()) from exc

    def _fragments(self, part: str) -> Iterator[tuple[int, pl.Series]]:
        """(block number, its cell fragments as text): everything between one `<c ` and the
        next. Sets `_dimension` (the used range the sheet declares) before the first one."""
        self._dimension = (0, 0)
        for number, (prefix, block) in enumerate(self._blocks(part, b"worksheet", b"row")):
            if number == 0:
                rows = cols = 0
                for ref in _DIMENSION.findall(block):
                    for corner in ref.split(b":"):
                        m = _DIM_REF.fullmatch(corner)
                        if m:
                            rows = max(rows, int(m.group(2)))
                            cols = max(cols, _col_number(m.group(1).decode()))
                check_extent(rows, cols, self.limits)
                self._dimension = (rows, cols)
            if b"<" + prefix + b"c>" in block:
                if number == 0:
                    raise NoCellReferences
                raise ImportRefused(_no_refs_message())
            if re.search(rb"<" + prefix + rb"c[\t\r\n]", block):
                # A writer that breaks the line inside a cell's tag: one space, as usual.
                block = re.sub(rb"<(" + prefix + rb")c[\t\r\n]+", rb"<\1c ", block)
            parts = block.split(b"<" + prefix + b"c ")
            del block
            if len(parts) < 2:
                continue
            raw = pl.Series("x", parts[1:], dtype=pl.Binary).cast(pl.String, strict=False)
            if raw.null_count():
                raise ImportRefused(damaged_message())
            yield number, raw

    def batches(self, index: int, columns: Iterable[int] | None = None) -> Iterator[pl.DataFrame]:
        """Frames of (`_row`, c{i} …) for the sheet, block by block. `columns` (0-based) limits
        the columns kept; None keeps all. Rows without a value are left out. A helper thread
        inflates and splits the next block while polars decodes this one."""
        from gaoxin.core.imports.upsert import prefetch

        sheet = self.sheets[index]
        wanted = sorted(set(columns)) if columns is not None else None
        rows_seen = 0
        extent_rows = extent_cols = 0
        for number, raw in prefetch(self._fragments(sheet.part)):
            if number == 0:
                extent_rows, extent_cols = self._dimension
            cells = self._cells(raw, number)
            if cells.height:
                extent_rows = max(extent_rows, int(cells.get_column("row").max()))  # type: ignore[arg-type]
                extent_cols = max(extent_cols, int(cells.get_column("col").max()) + 1)  # type: ignore[operator]
                check_extent(extent_rows, extent_cols, self.limits)
            cells = cells.filter(pl.col("v").is_not_null())
            if wanted is not None:
                cells = cells.filter(pl.col("col").is_in(wanted))
            if not cells.height:
                continue
            frame = cells.pivot(
                on="col", index="row", values="v", aggregate_function="first", sort_columns=True
            )
            frame = frame.rename({c: f"c{c}" for c in frame.columns if c != "row"})
            frame = frame.rename({"row": ROW_COL})
            rows_seen += frame.height
            if rows_seen > self.limits.max_sheet_rows:
                raise ImportRefused(_too_many_rows(self.limits))
            yield frame

    def _cells(self, raw: pl.Series, number: int) -> pl.DataFrame:
        """One row per cell fragment: row (1-based), col (0-based), v (the value as text)."""
        frame = (
            pl.DataFrame(raw)
            .lazy()
            .select(
                pl.col("x"),
                # The attribute order every common writer uses (r, s, t) and plain <v>/<is><t>;
                # `_general` re-reads the cells these fast patterns miss.
                pl.col("x").str.extract_groups(FAST_TAG).alias("tag"),
                pl.col("x").str.extract(r"<v>([^<]*)</v>", 1).alias("v"),
                pl.col("x").str.extract(r"<is><t>([^<]*)</t></is>", 1).alias("is"),
                pl.col("x").str.len_bytes().alias("len"),
            )
        )
        frame = frame.select(
            "x",
            pl.col("tag").struct.field("1").alias("letters"),
            pl.col("tag").struct.field("2").cast(pl.Int64).alias("row"),
            pl.col("tag").struct.field("3").cast(pl.Int64).alias("s"),
            pl.col("tag").struct.field("4").alias("t"),
            "v",
            "is",
            "len",
        ).collect()
        frame = self._general(frame)
        if frame.get_column("row").null_count():
            if number == 0:
                raise NoCellReferences
            raise ImportRefused(_no_refs_message())
        longest = frame.get_column("len").max()
        if longest is not None and int(longest) > self.limits.max_cell_bytes:  # type: ignore[arg-type]
            raise ImportRefused(cell_too_long_message(self.limits))
        letters = frame.get_column("letters").unique().to_list()
        numbers = {s: _col_number(s) - 1 for s in letters if s is not None}
        frame = frame.with_columns(
            pl.col("letters").replace_strict(numbers, return_dtype=pl.Int32).alias("col")
        )
        return frame.select("row", "col", self._values(frame).alias("v"))

    @staticmethod
    def _general(frame: pl.DataFrame) -> pl.DataFrame:
        """Re-reads, with patterns that allow any attribute order, namespace prefixes and
        attributes on <v>/<t>, the cells whose fast read left a part out."""
        x = pl.col("x")
        missed = (
            pl.col("row").is_null()
            | (pl.col("s").is_null() & x.str.contains(' s="', literal=True))
            | (pl.col("t").is_null() & x.str.contains(' t="', literal=True))
            | (pl.col("v").is_null() & x.str.contains(r"<(?:\w+:)?v[\s>]"))
            | (pl.col("is").is_null() & x.str.contains(r"<(?:\w+:)?is>"))
        )
        flags = frame.select(missed.fill_null(True).alias("m")).get_column("m")
        if not flags.any():
            return frame
        positions = flags.arg_true()
        again = frame.filter(flags).select(
            x.str.extract(r'^(?:[^>]*\s)?r="([A-Z]{1,3})[0-9]', 1).alias("letters"),
            x.str.extract(r'^(?:[^>]*\s)?r="[A-Z]{1,3}([0-9]{1,9})"', 1)
            .cast(pl.Int64)
            .alias("row"),
            x.str.extract(r'^[^>]*?\bs="([0-9]{1,9})"', 1).cast(pl.Int64).alias("s"),
            x.str.extract(r'^[^>]*?\bt="(\w+)"', 1).alias("t"),
            x.str.extract(r"<(?:\w+:)?v(?:\s[^>]*)?>([^<]*)<", 1).alias("v"),
            x.str.extract(r"<(?:\w+:)?is><(?:\w+:)?t(?:\s[^>]*)?>([^<]*)</(?:\w+:)?t></", 1).alias(
                "is"
            ),
        )
        frame = frame.with_row_index("_i")
        fixed = again.with_columns(pl.Series("_i", positions, dtype=pl.UInt32))
        return frame.update(fixed, on="_i", include_nulls=True).drop("_i")

    def _values(self, frame: pl.DataFrame) -> pl.Series:
        t = pl.col("t")
        v = pl.col("v")
        text = t.is_in(["inlineStr", "str", "e", "d"]).fill_null(False)
        values = frame.select(
            pl.when(t == "s")
            .then(None)
            .when(t == "inlineStr")
            .then(unescape_expr(pl.col("is")))
            .when(text)
            .then(unescape_expr(v))
            .when(t == "b")
            .then(pl.when(v == "1").then(pl.lit("true")).otherwise(pl.lit("false")))
            .when(
                pl.col("s").is_in(self._date_styles)
                & v.cast(pl.Float64, strict=False).is_between(0, MAX_DATE_SERIAL)
            )
            .then(self._date_text(v))
            .otherwise(v)
            .alias("out"),
            # Rich inline text, numeric character references, _xHHHH_ escapes: Python.
            (
                ((t == "inlineStr") & pl.col("is").is_null())
                | (text & pl.coalesce("is", "v").str.contains(r"&#|_x[0-9A-Fa-f]{4}_"))
            ).alias("slow"),
            # More than 15 significant digits or an exponent: rounded as Excel shows it.
            (
                ~text
                & (t.is_null() | (t == "n"))
                & ~pl.col("s").is_in(self._date_styles).fill_null(False)
                & (v.str.replace_all(r"[^0-9]", "").str.strip_chars_start("0").str.len_bytes() > 15)
                | v.str.contains(r"[eE]").fill_null(False) & (t.is_null() | (t == "n"))
            ).alias("long"),
        )
        out = values.get_column("out")
        slow = values.get_column("slow").fill_null(False)
        if slow.any():
            positions = slow.arg_true()
            fragments = frame.get_column("x").gather(positions).to_list()
            out = out.scatter(positions, [_unescape(_python_text(f)) for f in fragments])
        long = values.get_column("long").fill_null(False)
        if long.any():
            positions = long.arg_true()
            numbers = frame.get_column("v").gather(positions).to_list()
            out = out.scatter(positions, [_excel_number(n) for n in numbers])
        shared_idx = frame.select(
            pl.when(t == "s").then(v.cast(pl.Int64, strict=False)).alias("i")
        ).get_column("i")
        if shared_idx.is_not_null().any():
            shared = self._shared_strings()
            bad = shared_idx.is_not_null() & ((shared_idx >= shared.len()) | (shared_idx < 0))
            if bad.any():
                raise ImportRefused(damaged_message())
            gathered = shared.gather(shared_idx.fill_null(0))
            out = (
                pl.DataFrame({"a": out, "b": gathered, "i": shared_idx})
                .select(pl.when(pl.col("i").is_not_null()).then(pl.col("b")).otherwise("a"))
                .to_series()
            )
        return out

    def _date_text(self, v: pl.Expr) -> pl.Expr:
        serial = v.cast(pl.Float64, strict=False)
        if self.date1904:
            base = pl.lit(EPOCH_1904)
            stamp = base + pl.duration(milliseconds=(serial * 86_400_000).round())
        else:
            # Excel's 1900 system counts a 29 February 1900 that never was (serial 60).
            base = (
                pl.when(serial < 61)
                .then(pl.lit(EPOCH_1900 + dt.timedelta(days=1)))
                .otherwise(pl.lit(EPOCH_1900))
            )
            stamp = base + pl.duration(milliseconds=(serial * 86_400_000).round())
        return stamp.dt.strftime("%Y-%m-%d %H:%M:%S")


def _excel_number(text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        return text
    rounded = float(f"{value:.15g}")
    if math.isfinite(rounded) and rounded == int(rounded):
        return str(int(rounded))
    return repr(rounded)


def _normalise_part(part: str) -> str:
    parts: list[str] = []
    for piece in part.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _no_refs_message() -> str:
    return _(
        "表格中有单元格缺少位置信息,文件可能由不规范的软件生成;"
        "请用 Excel 或 WPS 另存为 .xlsx 后重试"
    )


def _too_many_rows(limits: Limits) -> str:
    return _("文件超过最大行数 %(n)s 行,请拆分后分批导入") % {"n": f"{limits.max_rows:,}"}
