"""Describing an import: columns with their headers, and vectorised checks that turn a frame of
strings into typed values plus row errors (row, column, value, reason)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from gaoxin.core.text import normalise_header

if TYPE_CHECKING:
    from gaoxin.core.imports.upsert import UpsertTarget

ROW = "_row"  # the spreadsheet row number (1-based) each frame row came from
ERROR_SCHEMA = {
    "sheet": pl.String,
    ROW: pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "reason": pl.String,
}


def header_key(text: object) -> str:
    """How headers are compared: NFKC (full-width folds, （）→ ()), no spaces, no required-marks."""
    key = normalise_header(str(text or ""))
    return re.sub(r"^[*※]+|[*※:]+$", "", key)


@dataclass(frozen=True)
class Column:
    """One spreadsheet column: its header as the template writes it, and the frame key."""

    header: str
    key: str
    required: bool = False  # the header must be present (values are checked by the sheet)
    aliases: tuple[str, ...] = ()
    help: str = ""  # explanation for the template's 说明 sheet
    example: str = ""

    def keys(self) -> set[str]:
        names = {header_key(self.header), *(header_key(a) for a in self.aliases)}
        # "注册资本(万元)" may arrive as "注册资本" or "注册资本万元".
        for name in list(names):
            bare = re.sub(r"\(.*?\)", "", name)
            if bare:
                names.add(bare)
            names.add(name.replace("(", "").replace(")", ""))
        return names


@dataclass
class ImportContext:
    """What checks may consult: today's date, the acting user, earlier sheets' valid rows."""

    today: dt.date
    acting_user: Any = None
    valid: dict[str, pl.DataFrame] = field(default_factory=dict)
    rejected: dict[str, pl.DataFrame] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


Validator = Callable[["Checks", ImportContext], pl.DataFrame]


@dataclass(frozen=True)
class SheetSpec:
    """A kind of sheet. `validate` receives a `Checks` over the frame (columns = Column.key,
    plus ROW) and returns the frame of model values for the rows it accepts (keeping ROW);
    rows with any recorded error are dropped afterwards by the pipeline."""

    key: str
    title: str
    columns: tuple[Column, ...]
    validate: Validator
    target: UpsertTarget
    sheet_names: tuple[str, ...] = ()  # substrings of sheet names that pick this spec
    label: str = ""  # what one row is, for messages: 企业, 资质

    def match(self, row: list[str | None]) -> dict[int, Column]:
        """Which cells of a candidate header row name which columns."""
        lookup: dict[str, Column] = {}
        for col in self.columns:
            for name in col.keys():
                lookup.setdefault(name, col)
        found: dict[int, Column] = {}
        seen: set[str] = set()
        for idx, cell in enumerate(row):
            if cell is None:
                continue
            col = lookup.get(header_key(cell))
            if col is not None and col.key not in seen:
                found[idx] = col
                seen.add(col.key)
        return found

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)


class Checks:
    """Collects row errors from vectorised masks, so validation never loops over rows in Python.

    `frame` holds the cleaned strings; checks add typed columns to it as they go.
    """

    def __init__(self, frame: pl.DataFrame, *, sheet: str, headers: Mapping[str, str]) -> None:
        self.frame = frame
        self.sheet = sheet
        self.headers = dict(headers)  # column key -> header as written in the file
        self._errors: list[pl.DataFrame] = []

    def has(self, key: str) -> bool:
        return key in self.headers

    def header(self, key: str) -> str:
        return self.headers.get(key, key)

    def add(
        self,
        mask: pl.Expr,
        *,
        column: str,
        reason: str | pl.Expr,
        value: pl.Expr | None = None,
    ) -> None:
        """Records an error on every row where `mask` is true (nulls count as false)."""
        if value is None:
            value = pl.col(column) if column in self.frame.columns else pl.lit(None, pl.String)
        value_expr = value
        reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
        bad = self.frame.filter(mask.fill_null(False)).select(
            pl.lit(self.sheet).alias("sheet"),
            pl.col(ROW).cast(pl.Int64),
            pl.lit(self.header(column)).alias("column"),
            value_expr.cast(pl.String).alias("value"),
            reason_expr.cast(pl.String).alias("reason"),
        )
        if bad.height:
            self._errors.append(bad)

    def add_rows(self, rows: pl.DataFrame) -> None:
        """Errors computed elsewhere: a frame with ROW, column (key), value, reason."""
        if rows.height:
            self._errors.append(
                rows.select(
                    pl.lit(self.sheet).alias("sheet"),
                    pl.col(ROW).cast(pl.Int64),
                    pl.col("column").replace_strict(
                        self.headers, default=pl.col("column"), return_dtype=pl.String
                    ),
                    pl.col("value").cast(pl.String),
                    pl.col("reason").cast(pl.String),
                )
            )

    def required(self, key: str, reason: str) -> None:
        self.add(pl.col(key).is_null(), column=key, reason=reason, value=pl.lit(""))

    def max_length(self, key: str, limit: int, reason: str) -> None:
        if self.has(key):
            self.add(pl.col(key).str.len_chars() > limit, column=key, reason=reason)

    def with_columns(self, *exprs: pl.Expr | Iterable[pl.Expr], **named: pl.Expr) -> None:
        self.frame = self.frame.with_columns(*exprs, **named)

    def unique(
        self, keys: list[str], *, column: str, reason: str, reason_first: str | None = None
    ) -> None:
        """Every row sharing a key with another is an error: later ones get `reason` (which may
        say {first}, the first row's number), the first one `reason_first` ({other}: the next)."""
        present = pl.all_horizontal([pl.col(k).is_not_null() for k in keys])
        # Window values are computed over the whole frame before any filtering.
        self.frame = self.frame.with_columns(
            (present & pl.struct(keys).is_duplicated()).alias("_dup"),
            pl.col(ROW).min().over(keys).alias("_dup_first"),
            pl.col(ROW).filter(pl.col(ROW) > pl.col(ROW).min()).min().over(keys).alias("_dup_next"),
        )
        dup = pl.col("_dup")
        first = pl.col(ROW) == pl.col("_dup_first")
        self.add(dup & ~first, column=column, reason=_fmt(reason, "first", pl.col("_dup_first")))
        if reason_first:
            self.add(
                dup & first, column=column, reason=_fmt(reason_first, "other", pl.col("_dup_next"))
            )
        self.frame = self.frame.drop("_dup", "_dup_first", "_dup_next")

    def errors(self) -> pl.DataFrame:
        if not self._errors:
            return pl.DataFrame(schema=ERROR_SCHEMA)
        return pl.concat(self._errors).sort([ROW, "column"], maintain_order=True)


def _fmt(text: str, name: str, expr: pl.Expr) -> str | pl.Expr:
    placeholder = "{" + name + "}"
    if placeholder not in text:
        return text
    return pl.format(text.replace(placeholder, "{}"), expr)


# --- vectorised parsers ----------------------------------------------------------------------

_EXCEL_EPOCH = dt.date(1899, 12, 30)


def clean_text(expr: pl.Expr) -> pl.Expr:
    """Trimmed text (Unicode spaces too); empty becomes null."""
    text = expr.cast(pl.String).str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text).otherwise(None)


def parse_date(expr: pl.Expr) -> pl.Expr:
    """Dates as people type them: 2019-03-01, 2019/3/1, 2019.3.1, 2019年3月1日, 20190301,
    an Excel date cell (read as "2019-03-01 00:00:00") or an Excel serial number. Null if not."""
    text = (
        expr.str.normalize("NFKC")
        .str.strip_chars()
        .str.replace(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "")
        .str.replace(r"[日号]$", "")
        .str.replace_all(r"\s*[年月/.\-]\s*", "-")
    )
    iso = text.str.extract(r"^(\d{4}-\d{1,2}-\d{1,2})$", 1).str.to_date("%Y-%m-%d", strict=False)
    compact = text.str.extract(r"^(\d{8})$", 1).str.to_date("%Y%m%d", strict=False)
    serial_days = text.str.extract(r"^(\d{5})(?:-0+)?$", 1).cast(pl.Int64, strict=False)
    serial = pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial_days)
    return pl.coalesce(iso, compact, serial.cast(pl.Date))


def parse_decimal(expr: pl.Expr, *, places: int) -> pl.Expr:
    """Canonical decimal text ("1234.5", "-3", "0") or null when not a number.

    Thousands separators, spaces and a trailing 万元/元 unit are tolerated. More decimals than
    `places` are rounded (spreadsheet floats carry binary noise such as 0.30000000000000004).
    """
    text = expr.str.normalize("NFKC").str.replace_all(r"[,\s]", "").str.replace(r"(万元|元)$", "")
    plain = text.str.extract(r"^([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)$", 1)
    sci = text.str.contains(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$").fill_null(False)
    frac = plain.str.extract(r"\.(\d*)$", 1).str.len_chars().fill_null(0)
    rounded = (
        pl.when(sci | (frac > places))
        .then(text.cast(pl.Float64, strict=False).round(places).cast(pl.String))
        .otherwise(plain)
    )
    return canonical_decimal(rounded)


def canonical_decimal(expr: pl.Expr) -> pl.Expr:
    """Decimal text without redundant zeros, as audit.jsonable writes a Decimal: 100, 12.5."""
    text = expr.str.replace(r"^\+", "")
    sign = pl.when(text.str.starts_with("-")).then(pl.lit("-")).otherwise(pl.lit(""))
    body = text.str.replace(r"^-", "")
    whole = body.str.extract(r"^(\d*)", 1).str.strip_chars_start("0")
    whole = pl.when(whole.str.len_chars() == 0).then(pl.lit("0")).otherwise(whole)
    frac = body.str.extract(r"\.(\d*)$", 1).fill_null("").str.strip_chars_end("0")
    number = pl.when(frac.str.len_chars() > 0).then(whole + "." + frac).otherwise(whole)
    signed = pl.when(number == "0").then(number).otherwise(sign + number)
    valid = text.str.contains(r"^-?(\d+(\.\d*)?|\.\d+)$")
    return pl.when(valid).then(signed).otherwise(None)


def lookup(expr: pl.Expr, mapping: Mapping[str, Any], *, dtype: pl.DataType) -> pl.Expr:
    """Map cleaned text through `mapping` (keys compared as header_key does); null if unknown."""
    folded = {header_key(k): v for k, v in mapping.items()}
    key = expr.str.normalize("NFKC").str.replace_all(r"\s", "").str.to_lowercase()
    return key.replace_strict(folded, default=None, return_dtype=dtype)


def split_list(expr: pl.Expr, *, separators: str = "\uff1b;\u3001", joiner: str = ";") -> pl.Expr:
    """ "甲；乙、丙" -> "甲;乙;丙" (blank parts dropped); null stays null, "" when all blank."""
    parts = expr.str.replace_all(f"[{re.escape(separators)}]", "\u0001").str.split("\u0001")
    return parts.list.eval(pl.element().str.strip_chars().filter(pl.element() != "")).list.join(
        joiner
    )


def char_map(expr: pl.Expr, func: Callable[[str], str], *, values: pl.Series) -> pl.Expr:
    """Apply a per-character function (pinyin initials …) without a per-row Python loop:
    map each distinct character once, then rebuild the strings in polars."""
    chars = values.drop_nulls().str.split("").explode().drop_nulls().unique().to_list()
    mapping = {ch: func(ch) for ch in chars}
    return (
        expr.str.split("")
        .list.eval(pl.element().replace_strict(mapping, default="", return_dtype=pl.String))
        .list.join("")
    )
