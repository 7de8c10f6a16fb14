"""Bulk import of statistical reports: one row per enterprise and period, one column per form
field named by its label (工业总产值(当年价格)(万元)). Staff import what enterprises reported
elsewhere (the statistics bureau's system, a spreadsheet round): rows that pass the hard checks
are accepted as they are; a row whose report is already accepted with the same values changes
nothing, one with other values becomes the next revision.

Same pipeline and guarantees as the registry import (gaoxin.core.imports): dry run, row-level
error report, all-or-nothing unless asked to keep the valid rows, streaming reads. Checks are
polars expressions over whole columns; the writes are bulk inserts with one audit row per
report.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from gaoxin.core.audit import AuditEntry
from gaoxin.core.imports import (
    ROW,
    Checks,
    Column,
    ImportContext,
    Importer,
    ImportRefused,
    SheetSpec,
    canonical_decimal,
    lookup,
    parse_decimal,
)
from gaoxin.core.imports.upsert import bulk_session, db_literal, insert_frame, write_audit
from gaoxin.registry.importers import USCC_COLUMN, check_uscc
from gaoxin.registry.models import Enterprise
from gaoxin.reports import rollups
from gaoxin.reports.checks import MAX_VALUE, NOT_ABOVE, not_above_message
from gaoxin.reports.models import (
    FACT_COUNTS,
    FACT_FLAGS,
    FACT_MONEY,
    Basis,
    Frequency,
    Report,
    ReportFact,
    ReportField,
    ReportForm,
    ReportPeriod,
    ReportRevision,
    ReportStatus,
    default_due_on,
)

REPORTS = "reports"
KIND_PREFIX = "reports:"
PLACES = 6  # decimals kept of an entered value (before converting 万元 → 元)
YES = {"是": True, "有": True, "1": True, "true": True, "y": True, "yes": True}
NO = {"否": False, "无": False, "0": False, "false": False, "n": False, "no": False}
_MONTHLY = (
    # 2019-03, 2019.3, 2019/3, 2019年3月, 201903, and date cells (2019-03-01 00:00:00)
    r"^(\d{4})\s*(?:[-./年]\s*(\d{1,2})\s*月?|(\d{2}))(?:[-./]\d{1,2}(?:\s+00:00:00)?)?$"
)
_ANNUAL = r"^(\d{4})\s*年?(?:度)?$"


def _period_columns(form: ReportForm) -> tuple[pl.Expr, pl.Expr]:
    text = pl.col("period").str.normalize("NFKC").str.strip_chars()
    if form.frequency == Frequency.ANNUAL:
        year = text.str.extract(_ANNUAL, 1).cast(pl.Int32, strict=False)
        return year, pl.lit(None, pl.Int32)
    parts = text.str.extract_groups(_MONTHLY)
    year = parts.struct.field("1").cast(pl.Int32, strict=False)
    month = pl.coalesce(parts.struct.field("2"), parts.struct.field("3")).cast(
        pl.Int32, strict=False
    )
    return year, month


def _columns(fields: list[ReportField]) -> tuple[Column, ...]:
    base = (
        replace(USCC_COLUMN, help="必填,企业库中已有的企业"),
        Column(
            "报告期",
            "period",
            required=True,
            aliases=("报表期", "统计期", "期别", "所属期", "年月", "年份", "年度"),
            help="月报写 2019-03、2019.3 或 2019年3月;年报写 2019",
            example="2019-03",
        ),
        Column("企业名称", "name", aliases=("单位名称", "企业(单位)名称"), help="仅供核对"),
    )
    return base + tuple(
        Column(
            f.label,
            f"f_{f.key}",
            aliases=(f.name, f.key),
            help=f.help_text,
        )
        for f in fields
    )


def _json_string(expr: pl.Expr) -> pl.Expr:
    encoded = pl.struct(expr.cast(pl.String).alias("v")).struct.json_encode()
    return encoded.str.slice(5).str.strip_suffix("}")


@dataclass
class ReportImportPlan:
    form: ReportForm
    fields: list[ReportField]
    created: pl.DataFrame
    updated: pl.DataFrame  # with `id`, `revision` (the accepted revisions so far)
    unchanged: int
    new_periods: list[tuple[int, int | None]] = field(default_factory=list)

    @property
    def counts(self) -> tuple[int, int, int]:
        return self.created.height, self.updated.height, self.unchanged

    def changes(self, action: str) -> pl.Expr:
        return pl.col("_values")


class ReportTarget:
    """Plans and writes reports, revisions, fact rows and audit rows for one form."""

    def __init__(self, form: ReportForm, fields: list[ReportField]) -> None:
        self.form = form
        self.fields = fields

    def plan(self, frame: pl.DataFrame, ctx: ImportContext) -> ReportImportPlan:
        periods = {
            (p.year, p.month): p.pk for p in ReportPeriod.objects.filter(form_code=self.form.code)
        }
        keys = frame.select("_year", "_month").unique().rows()
        new_periods = sorted(
            ((y, m) for y, m in keys if (y, m) not in periods), key=lambda k: (k[0], k[1] or 0)
        )
        frame = _with_period_ids(frame, periods)
        existing = self._existing(frame)
        joined = frame.join(existing, on=["enterprise_id", "_period_id"], how="left")
        is_new = pl.col("id").is_null()
        same = (pl.col("_old_values") == pl.col("_values")) & (
            pl.col("_old_status") == ReportStatus.ACCEPTED
        )
        created = joined.filter(is_new)
        updated = joined.filter(~is_new & ~same.fill_null(False))
        return ReportImportPlan(
            form=self.form,
            fields=self.fields,
            created=created,
            updated=updated,
            unchanged=joined.height - created.height - updated.height,
            new_periods=new_periods,
        )

    def _existing(self, frame: pl.DataFrame) -> pl.DataFrame:
        schema = {
            "enterprise_id": pl.Int64,
            "_period_id": pl.Int64,
            "id": pl.Int64,
            "_old_status": pl.String,
            "_old_values": pl.String,
            "_old_revision": pl.Int64,
        }
        period_ids = frame.get_column("_period_id").drop_nulls().unique().to_list()
        if not period_ids:
            return pl.DataFrame(schema=schema)
        rows = []
        wanted = set(frame.select("enterprise_id", "_period_id").rows())
        qs = Report.objects.filter(period_id__in=period_ids).values_list(
            "enterprise_id", "period_id", "id", "status", "values", "revision"
        )
        for enterprise_id, period_id, pk, status, values, revision in qs.iterator(chunk_size=5000):
            if (enterprise_id, period_id) in wanted:
                rows.append((enterprise_id, period_id, pk, status, _canonical(values), revision))
        return pl.DataFrame(rows, schema=schema, orient="row")

    def apply(self, plan: ReportImportPlan, *, actor: Any, batch: uuid.UUID) -> None:
        # A larger SQLite page cache for the whole write: reports, revisions, facts, audit
        # rows and the roll-up all grow indexes that otherwise spill.
        with bulk_session():
            self._apply(plan, actor=actor, batch=batch)

    def _apply(self, plan: ReportImportPlan, *, actor: Any, batch: uuid.UUID) -> None:
        now = timezone.now()
        actor_id = actor.pk if getattr(actor, "pk", None) else None
        period_ids = self._create_periods(plan, actor=actor, batch=batch)
        created = plan.created
        if created.height:
            created = _with_period_ids(created.drop("_period_id"), period_ids)
            insert_frame(
                Report,
                created.select(
                    pl.col("enterprise_id"),
                    pl.col("_period_id").alias("period_id"),
                    pl.lit(self.form.pk).alias("form_id"),
                    pl.lit(ReportStatus.ACCEPTED).alias("status"),
                    pl.col("_values").alias("values"),
                    pl.lit("[]").alias("findings"),
                    pl.lit(1).alias("revision"),
                    pl.lit(db_literal(Report._meta.get_field("reviewed_at"), now)).alias(
                        "reviewed_at"
                    ),
                    pl.lit(actor_id, pl.Int64).alias("reviewed_by_id"),
                ),
                now=now,
            )
            ids = self._ids(created)
            created = created.drop("id").join(ids, on=["enterprise_id", "_period_id"], how="left")
            self._revisions_and_facts(
                created,
                number=pl.lit(1),
                now=now,
                actor_id=actor_id,
                bases=(Basis.FIRST, Basis.REVISED),
            )
            self._audit(created, "create", actor=actor, batch=batch, now=now)
        updated = plan.updated
        if updated.height:
            qn = connection.ops.quote_name
            json_param = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
            sql = (
                f"UPDATE {qn(Report._meta.db_table)} SET {qn('values')} = {json_param},"  # noqa: S608
                f" {qn('status')} = %s, {qn('revision')} = {qn('revision')} + 1,"
                f" {qn('findings')} = {json_param}, {qn('return_reason')} = '',"
                f" {qn('reviewed_at')} = %s, {qn('reviewed_by_id')} = %s, {qn('updated_at')} = %s"
                f" WHERE {qn('id')} = %s AND {qn('revision')} = %s AND {qn('status')} = %s"
            )
            rows = [
                (v, ReportStatus.ACCEPTED, "[]", now, actor_id, now, pk, revision, status)
                for v, pk, revision, status in updated.select(
                    "_values", "id", "_old_revision", "_old_status"
                ).rows()
            ]
            touched = 0
            with connection.cursor() as cur:
                for row in rows:  # one by one: each must find the report as it was planned
                    cur.execute(sql, row)
                    touched += cur.rowcount
            if touched != len(rows):
                # Someone accepted, returned or corrected one of these reports meanwhile: the
                # whole import rolls back rather than number a revision twice.
                raise ImportRefused(_("导入期间有报表被他人修改,已全部撤销,请重新预检后再导入"))
            updated = updated.with_columns((pl.col("_old_revision") + 1).alias("_number"))
            ids = updated.get_column("id").to_list()
            for start in range(0, len(ids), ID_CHUNK):  # SQLite's variable limit
                ReportFact.objects.filter(
                    report_id__in=ids[start : start + ID_CHUNK], basis=Basis.REVISED
                ).delete()
            first_missing = updated.filter(pl.col("_old_revision") == 0)
            self._revisions_and_facts(
                updated,
                number=pl.col("_number"),
                now=now,
                actor_id=actor_id,
                bases=(Basis.REVISED,),
            )
            if first_missing.height:  # a draft or submitted report accepted for the first time
                self._facts(first_missing, (Basis.FIRST,), number=pl.lit(1))
            self._audit(updated, "update", actor=actor, batch=batch, now=now)
        if self.form.frequency == Frequency.MONTHLY:
            touched = pl.concat(
                [f.select("_year", "enterprise_id") for f in (created, updated) if f.height]
                or [pl.DataFrame(schema={"_year": pl.Int32, "enterprise_id": pl.Int64})]
            )
            for (year,), part in touched.group_by("_year"):
                rollups.refresh(
                    self.form.code, int(year), part.get_column("enterprise_id").unique().to_list()
                )

    def _create_periods(
        self, plan: ReportImportPlan, *, actor: Any, batch: uuid.UUID
    ) -> dict[tuple[int, int | None], int]:
        from gaoxin.core import audit

        for year, month in plan.new_periods:
            period = ReportPeriod.objects.create(
                form_code=self.form.code, year=year, month=month, due_on=default_due_on(year, month)
            )
            audit.record(
                actor=actor,
                action=AuditEntry.Action.CREATE,
                obj=period,
                changes={
                    "form_code": [None, period.form_code],
                    "due_on": [None, str(period.due_on)],
                },
                batch=batch,
            )
        return {
            (p.year, p.month): p.pk for p in ReportPeriod.objects.filter(form_code=self.form.code)
        }

    @staticmethod
    def _ids(frame: pl.DataFrame) -> pl.DataFrame:
        period_ids = frame.get_column("_period_id").unique().to_list()
        rows = Report.objects.filter(period_id__in=period_ids).values_list(
            "enterprise_id", "period_id", "id"
        )
        return pl.DataFrame(
            list(rows.iterator(chunk_size=5000)),
            schema={"enterprise_id": pl.Int64, "_period_id": pl.Int64, "id": pl.Int64},
            orient="row",
        )

    def _revisions_and_facts(
        self,
        frame: pl.DataFrame,
        *,
        number: pl.Expr,
        now: dt.datetime,
        actor_id: int | None,
        bases: tuple[str, ...],
    ) -> None:
        insert_frame(
            ReportRevision,
            frame.select(
                pl.col("id").alias("report_id"),
                number.cast(pl.Int64).alias("number"),
                pl.col("_values").alias("values"),
                pl.lit("[]").alias("findings"),
                pl.lit(_("批量导入")).alias("explanation"),
                pl.lit(db_literal(ReportRevision._meta.get_field("accepted_at"), now)).alias(
                    "accepted_at"
                ),
                pl.lit(actor_id, pl.Int64).alias("accepted_by_id"),
            ),
            now=now,
        )
        self._facts(frame, bases, number=number)

    def _facts(self, frame: pl.DataFrame, bases: tuple[str, ...], *, number: pl.Expr) -> None:
        keys = {c[len("_v_") :] for c in frame.columns if c.startswith("_v_")}
        columns = []
        for key in FACT_MONEY:
            value = pl.col(f"_v_{key}") if key in keys else pl.lit(None, pl.String)
            columns.append(value.alias(key))
        for key in FACT_COUNTS:
            value = pl.col(f"_v_{key}") if key in keys else pl.lit(None, pl.String)
            columns.append(value.cast(pl.Float64).cast(pl.Int64).alias(key))
        for key in FACT_FLAGS:
            value = pl.col(f"_v_{key}") if key in keys else pl.lit(None, pl.Boolean)
            columns.append(value.alias(key))
        for basis in bases:
            insert_frame(
                ReportFact,
                frame.select(
                    pl.col("id").alias("report_id"),
                    pl.col("enterprise_id"),
                    pl.lit(self.form.code).alias("form_code"),
                    pl.col("_year").cast(pl.Int64).alias("year"),
                    pl.col("_month").cast(pl.Int64).alias("month"),
                    pl.lit(basis).alias("basis"),
                    number.cast(pl.Int64).alias("revision"),
                    *columns,
                ),
                now=timezone.now(),
            )

    def _audit(
        self, frame: pl.DataFrame, action: str, *, actor: Any, batch: uuid.UUID, now: dt.datetime
    ) -> None:
        label = pl.col("_label")
        write_audit(
            frame,
            model=Report,
            action=AuditEntry.Action.CREATE if action == "create" else AuditEntry.Action.UPDATE,
            changes=pl.concat_str(
                [
                    pl.lit('{"status":[null,"accepted"],"values":[null,'),
                    pl.col("_values"),
                    pl.lit("]}"),
                ]
            )
            if action == "create"
            else pl.concat_str(
                [
                    pl.lit('{"values":['),
                    pl.col("_old_values").fill_null("null"),
                    pl.lit(","),
                    pl.col("_values"),
                    pl.lit("]}"),
                ]
            ),
            actor=actor,
            batch=batch,
            now=now,
            object_repr=label,
            enterprise_id=pl.col("enterprise_id"),
        )


ID_CHUNK = 10_000


def _with_period_ids(
    frame: pl.DataFrame, periods: dict[tuple[int, int | None], int]
) -> pl.DataFrame:
    table = pl.DataFrame(
        [(y, m, pk) for (y, m), pk in periods.items()],
        schema={"_year": pl.Int32, "_month": pl.Int32, "_period_id": pl.Int64},
        orient="row",
    )
    return frame.join(table, on=["_year", "_month"], how="left", nulls_equal=True)


def _stamp(model: Any, name: str, now: dt.datetime) -> Any:
    return db_literal(model._meta.get_field(name), now)


def _canonical(values: Any) -> str:
    if isinstance(values, str):
        values = json.loads(values)
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def validate(
    checks: Checks, ctx: ImportContext, *, form: ReportForm, fields: list[ReportField]
) -> pl.DataFrame:
    """Rows -> (enterprise_id, year, month, values JSON in canonical units, per-field columns)."""
    has = checks.has
    # Enterprise by credit code: the registry import's check (format and check digit).
    check_uscc(checks)
    codes = checks.frame.filter(pl.col("_uscc_ok")).get_column("_uscc").unique().to_list()
    ids = dict(Enterprise.objects.filter(uscc__in=codes).values_list("uscc", "id"))
    checks.with_columns(
        pl.col("_uscc")
        .replace_strict(ids, default=None, return_dtype=pl.Int64)
        .alias("enterprise_id")
    )
    checks.add(
        pl.col("_uscc_ok") & pl.col("enterprise_id").is_null(),
        column="uscc",
        reason=_("企业库中没有该统一社会信用代码的企业,请先导入或新增企业"),
    )
    # Period.
    checks.required("period", _("报告期不能为空"))
    year, month = _period_columns(form)
    checks.with_columns(year.alias("_year"), month.alias("_month"))
    monthly = form.frequency == Frequency.MONTHLY
    bad_period = pl.col("period").is_not_null() & (
        pl.col("_year").is_null()
        | ~pl.col("_year").is_between(2000, 2100)
        | (pl.lit(monthly) & (pl.col("_month").is_null() | ~pl.col("_month").is_between(1, 12)))
    )
    checks.add(
        bad_period,
        column="period",
        reason=_("报告期格式应为 2019-03、2019.3 或 2019年3月")
        if monthly
        else _("报告期应为年份,如 2019"),
    )
    # Fields: parse, convert to canonical units, check.
    values: dict[str, pl.Expr] = {}
    for f in fields:
        key = f"f_{f.key}"
        if not has(key):
            if f.required:
                checks.add(
                    pl.lit(True),
                    column=key,
                    value=pl.lit(""),
                    reason=_("“%(field)s”必须填写(文件中没有这一列)") % {"field": f.label},
                )
            continue
        if f.kind == ReportField.Kind.BOOLEAN:
            checks.with_columns(
                lookup(pl.col(key), {**YES, **NO}, dtype=pl.Boolean).alias(f"_v_{f.key}")
            )
            checks.add(
                pl.col(key).is_not_null() & pl.col(f"_v_{f.key}").is_null(),
                column=key,
                reason=_("“%(field)s”应填“是”或“否”") % {"field": f.label},
            )
        elif f.kind == ReportField.Kind.TEXT:
            checks.with_columns(pl.col(key).alias(f"_v_{f.key}"))
        else:
            checks.with_columns(parse_decimal(pl.col(key), places=PLACES).alias(f"_n_{f.key}"))
            number = pl.col(f"_n_{f.key}")
            checks.add(
                pl.col(key).is_not_null() & number.is_null(),
                column=key,
                reason=pl.format(
                    _("“%(field)s”应填数值,“{}”不是数值") % {"field": f.label}, pl.col(key)
                ),
            )
            if f.non_negative:
                checks.add(
                    number.str.starts_with("-"),
                    column=key,
                    reason=_("“%(field)s”不能为负数") % {"field": f.label},
                )
            if f.kind == ReportField.Kind.INTEGER:
                checks.add(
                    number.str.contains(".", literal=True),
                    column=key,
                    reason=_("“%(field)s”应为整数") % {"field": f.label},
                )
            factor = int(f.factor)
            scaled = (
                number.cast(pl.Decimal(38, PLACES), strict=False)
                * pl.lit(factor).cast(pl.Decimal(38, 0))
            ).cast(pl.String)
            checks.with_columns(canonical_decimal(scaled).alias(f"_v_{f.key}"))
            too_large = pl.col(f"_v_{f.key}").is_null() | (
                pl.col(f"_v_{f.key}").cast(pl.Float64, strict=False).abs() >= float(MAX_VALUE)
            )
            checks.add(
                number.is_not_null() & too_large,
                column=key,
                reason=_("“%(field)s”数值过大,请核对单位") % {"field": f.label},
            )
        if f.required:
            checks.add(
                pl.col(key).is_null(),
                column=key,
                value=pl.lit(""),
                reason=_("“%(field)s”必须填写") % {"field": f.label},
            )
        values[f.key] = pl.col(f"_v_{f.key}")
    # A part may not exceed its whole: reports.checks' rules, vectorised.
    by_key = {f.key: f for f in fields}
    for part, whole, _code in NOT_ABOVE:
        if part in values and whole in values:
            a = values[part].cast(pl.Decimal(38, PLACES), strict=False)
            b = values[whole].cast(pl.Decimal(38, PLACES), strict=False)
            checks.add(
                a > b,
                column=f"f_{part}",
                reason=not_above_message(by_key[part], by_key[whole]),
            )
    checks.unique(
        ["enterprise_id", "_year", "_month"],
        column="period",
        reason=_("与第 {first} 行是同一企业的同一报告期"),
    )
    # The stored JSON: keys sorted, decimals as text, booleans bare; absent values left out.
    pieces = []
    for key in sorted(values):
        f = by_key[key]
        if f.kind == ReportField.Kind.BOOLEAN:
            value = pl.when(values[key]).then(pl.lit("true")).otherwise(pl.lit("false"))
        else:
            value = _json_string(values[key])
        pieces.append(
            pl.when(values[key].is_not_null())
            .then(pl.concat_str([pl.lit(json.dumps(key) + ":"), value]))
            .otherwise(None)
        )
    body = pl.concat_str(pieces, separator=",", ignore_nulls=True) if pieces else pl.lit("")
    label = pl.concat_str(
        [
            pl.col("name").fill_null(pl.col("_uscc")) if has("name") else pl.col("_uscc"),
            pl.lit(" "),
            pl.col("period"),
        ]
    )
    return checks.frame.select(
        pl.col(ROW),
        pl.col("enterprise_id"),
        pl.col("_year"),
        pl.col("_month"),
        pl.concat_str([pl.lit("{"), body.fill_null(""), pl.lit("}")]).alias("_values"),
        label.alias("_label"),
        *(pl.col(f"_v_{k}") for k in values),
    )


def report_importer(form: ReportForm) -> Importer:
    fields = list(form.fields.all())

    def run(checks: Checks, ctx: ImportContext) -> pl.DataFrame:
        return validate(checks, ctx, form=form, fields=fields)

    spec = SheetSpec(
        key=REPORTS,
        title=form.name,
        label=_("报表"),
        columns=_columns(fields),
        validate=run,
        target=ReportTarget(form, fields),
    )
    return Importer(kind=f"{KIND_PREFIX}{form.code}", title=form.name, sheets=(spec,))


def current_form(code: str) -> ReportForm:
    form = ReportForm.objects.filter(code=code).order_by("-version").first()
    if form is None:
        raise ReportForm.DoesNotExist(code)
    return form


def report_template(form: ReportForm) -> bytes:
    """The downloadable template of a form: one sheet of headers with an example row, and a
    说明 sheet saying what each column accepts."""
    import io

    import xlsxwriter

    fields = list(form.fields.all())
    columns = _columns(fields)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})
    must = book.add_format({"bold": True, "bg_color": "#FDE8E8", "border": 1})
    sheet = book.add_worksheet(form.name[:31])
    required = {"uscc", "period"} | {f"f_{f.key}" for f in fields if f.required}
    for c, col in enumerate(columns):
        sheet.write(0, c, col.header, must if col.key in required else head)
        sheet.set_column(c, c, max(12, len(col.header) * 2))
    example = {
        "uscc": "91450211MA5KXXXX0X",
        "period": "2019" if form.frequency == Frequency.ANNUAL else "2019-03",
    }
    for c, col in enumerate(columns):
        if col.key in example:
            sheet.write_string(1, c, example[col.key])
    notes = book.add_worksheet(_("说明"))
    notes.write_row(0, 0, [_("列"), _("单位"), _("必填"), _("说明")], head)
    notes.set_column(0, 0, 36)
    notes.set_column(3, 3, 60)
    by_key = {f"f_{f.key}": f for f in fields}
    for r, col in enumerate(columns, start=1):
        f = by_key.get(col.key)
        notes.write_row(
            r,
            0,
            [
                col.header,
                f.get_unit_display() if f is not None and f.unit != "none" else "",
                _("是") if col.key in required else "",
                col.help,
            ],
        )
    book.close()
    return buffer.getvalue()
