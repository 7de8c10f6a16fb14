"""Describing an import: columns with their headers, and vectorised checks that turn a frame of
strings into typed values plus row errors (row, column, value, reason)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

from gaoxin.core.text import normalise_header

if TYPE_CHECKING:
    import uuid


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
    # The acting user may review what others declare (registry.review): values they import
    # count as reviewed. None (the management command without --user) is the server operator.
    can_review: bool = False
    valid: dict[str, pl.DataFrame] = field(default_factory=dict)
    rejected: dict[str, pl.DataFrame] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


Validator = Callable[["Checks", ImportContext], pl.DataFrame]


class WriteTarget(Protocol):
    """Where validated rows go: `plan` compares them with the database (dry runs stop there),
    `apply` writes. UpsertTarget is the one-table case; a target writing several tables per
    row (a report and its revision, say) implements the two itself. A plan has
    `counts` (created, updated, unchanged), `created` and `updated` frames with ROW, and
    `changes(action)`, an expression for the preview's samples."""

    def plan(self, frame: pl.DataFrame, ctx: ImportContext) -> Any: ...

    def apply(self, plan: Any, *, actor: Any, batch: uuid.UUID) -> Any: ...


@dataclass(frozen=True)
class SheetSpec:
    """A kind of sheet. `validate` receives a `Checks` over the frame (columns = Column.key,
    plus ROW) and returns the frame of model values for the rows it accepts (keeping ROW);
    rows with any recorded error are dropped afterwards by the pipeline."""

    key: str
    title: str
    columns: tuple[Column, ...]
    validate: Validator
    target: WriteTarget  # UpsertTarget for one table; its own class for more
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

    SLICE_ROWS = 50_000

    def __init__(self, frame: pl.DataFrame, *, sheet: str, headers: Mapping[str, str]) -> None:
        self.frame = frame
        self.sheet = sheet
        self.headers = dict(headers)  # column key -> header as written in the file
        self._errors: list[pl.DataFrame] = []
        self._pending: list[tuple[pl.Expr, str, pl.Expr, str | pl.Expr]] = []

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
        """Records an error on every row where `mask` is true (nulls count as false).

        Masks are evaluated together, in one parallel pass, when the errors are collected; the
        value and reason expressions only for the rows that fail. Masks should therefore refer
        to columns already in the frame (see `with_columns`) rather than recompute parses.
        """
        if value is None:
            value = pl.col(column) if column in self.frame.columns else pl.lit(None, pl.String)
        self._pending.append((mask, column, value, reason))

    def _flush(self) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        flags = self.frame.select(
            mask.fill_null(False).alias(f"_m{i}") for i, (mask, *_rest) in enumerate(pending)
        )
        hits = flags.sum().row(0)
        for i, (_mask, column, value, reason) in enumerate(pending):
            if not hits[i]:
                continue
            reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
            bad = self.frame.filter(flags.get_column(f"_m{i}")).select(
                pl.lit(self.sheet).alias("sheet"),
                pl.col(ROW).cast(pl.Int64),
                pl.lit(self.header(column)).alias("column"),
                value.cast(pl.String).alias("value"),
                reason_expr.cast(pl.String).alias("reason"),
            )
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
        """Adds derived columns. Expressions must be row-wise (no windows or aggregations):
        they are evaluated in slices, which bounds the memory parsing intermediates take."""
        parts = [
            part.with_columns(*exprs, **named) for part in self.frame.iter_slices(self.SLICE_ROWS)
        ]
        self.frame = pl.concat(parts) if parts else self.frame.with_columns(*exprs, **named)

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
        self._flush()
        self.frame = self.frame.drop("_dup", "_dup_first", "_dup_next")

    def errors(self) -> pl.DataFrame:
        self._flush()
        if not self._errors:
            return pl.DataFrame(schema=ERROR_SCHEMA)
        return pl.concat(self._errors).sort([ROW, "column"], maintain_order=True)


def _fmt(text: str, name: str, expr: pl.Expr) -> str | pl.Expr:
    placeholder = "{" + name + "}"
    if placeholder not in text:
        return text
    return pl.format(text.replace(placeholder, "{}"), expr)


# --- vectorised parsers ----------------------------------------------------------------------

_EXCEL_UNIX_DAYS = 25569


def clean_text(expr: pl.Expr) -> pl.Expr:
    """Trimmed text (Unicode spaces too); empty becomes null."""
    text = expr.cast(pl.String).str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text).otherwise(None)


def parse_date(expr: pl.Expr) -> pl.Expr:
    """Dates as people type them: 2019-03-01, 2019/3/1, 2019.3.1, 2019年3月1日, 20190301,
    an Excel date cell (read as "2019-03-01 00:00:00") or an Excel serial number. Null if not."""
    return expr.map_batches(_parse_date, return_dtype=pl.Date)


def _parse_date(values: pl.Series) -> pl.Series:
    # Series steps, not one nested expression: each intermediate is computed once.
    text = (
        values.cast(pl.String)
        .str.normalize("NFKC")
        .str.strip_chars()
        .str.replace(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "")
        .str.replace(r"[日号]$", "")
        .str.replace_all(r"\s*[年月/.\-]\s*", "-")
    )
    iso = text.str.extract(r"^(\d{4}-\d{1,2}-\d{1,2})$", 1).str.to_date("%Y-%m-%d", strict=False)
    compact = text.str.extract(r"^(\d{8})$", 1).str.to_date("%Y%m%d", strict=False)
    days = text.str.extract(r"^(\d{5})(?:-0+)?$", 1).cast(pl.Int64, strict=False)
    # Excel serial 25569 is 1970-01-01, day 0 of polars' Date.
    serial = (days - _EXCEL_UNIX_DAYS).cast(pl.Int32).cast(pl.Date)
    return iso.fill_null(compact).fill_null(serial).alias(values.name)


def parse_decimal(expr: pl.Expr, *, places: int) -> pl.Expr:
    """Canonical decimal text ("1234.5", "-3", "0") or null when not a number.

    Thousands separators, spaces and a trailing 万元/元 unit are tolerated. More decimals than
    `places` are rounded (spreadsheet floats carry binary noise such as 0.30000000000000004).
    """
    return expr.map_batches(lambda s: _parse_decimal(s, places), return_dtype=pl.String)


def _parse_decimal(values: pl.Series, places: int) -> pl.Series:
    text = (
        values.cast(pl.String)
        .str.normalize("NFKC")
        .str.replace_all(r"[,\s]", "")
        .str.replace(r"(万元|元)$", "")
    )
    plain = text.str.extract(r"^([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)$", 1)
    sci = text.str.contains(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$").fill_null(False)
    frac = plain.str.extract(r"\.(\d*)$", 1).str.len_chars().fill_null(0)
    needs_round = sci | (frac > places)
    if needs_round.any():
        rounded = text.cast(pl.Float64, strict=False).round(places).cast(pl.String)
        plain = pl.select(pl.when(needs_round).then(rounded).otherwise(plain)).to_series()
    return _canonical_decimal(plain).alias(values.name)


def canonical_decimal(expr: pl.Expr) -> pl.Expr:
    """Decimal text without redundant zeros, as audit.jsonable writes a Decimal: 100, 12.5."""
    return expr.map_batches(_canonical_decimal, return_dtype=pl.String)


def _canonical_decimal(values: pl.Series) -> pl.Series:
    text = values.cast(pl.String).str.replace(r"^\+", "")
    valid = text.str.contains(r"^-?(\d+(\.\d*)?|\.\d+)$").fill_null(False)
    negative = text.str.starts_with("-").fill_null(False)
    body = text.str.replace(r"^-", "")
    whole = body.str.extract(r"^(\d*)", 1).str.strip_chars_start("0")
    frac = body.str.extract(r"\.(\d*)$", 1).fill_null("").str.strip_chars_end("0")
    frame = pl.DataFrame({"w": whole, "f": frac, "neg": negative, "ok": valid})
    out = frame.select(
        pl.when(~pl.col("ok"))
        .then(None)
        .otherwise(
            pl.when(pl.col("w").str.len_chars() == 0).then(pl.lit("0")).otherwise(pl.col("w"))
            + pl.when(pl.col("f").str.len_chars() > 0).then("." + pl.col("f")).otherwise(pl.lit(""))
        )
        .alias("n")
    ).to_series()
    signed = pl.select(pl.when(negative & (out != "0")).then("-" + out).otherwise(out)).to_series()
    return signed.alias(values.name)


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
    """Apply a per-character function (pinyin initials …) without a per-row Python loop: each
    distinct character is mapped once, then one Aho-Corasick pass rewrites the column.
    Characters `func` maps to themselves are left alone."""
    chars = values.drop_nulls().str.split("").explode().drop_nulls().unique().to_list()
    mapping = {ch: func(ch) for ch in chars}
    mapping = {ch: out for ch, out in mapping.items() if out != ch}
    if not mapping:
        return expr
    return expr.str.replace_many(list(mapping), list(mapping.values()))
