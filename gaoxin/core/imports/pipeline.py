"""Running an import: store the upload, read it, validate, preview or apply, report errors.

The same `import_run` serves the web page, the API and the management command, so a file
behaves identically wherever it is imported.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import polars as pl
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gaoxin.accounts.roles import Cap
from gaoxin.core import audit
from gaoxin.core.imports.files import (
    CHUNK,
    ImportRefused,
    Limits,
    RawSheet,
    TableFile,
    open_table,
    read_sheet,
)
from gaoxin.core.imports.spec import (
    ERROR_SCHEMA,
    ROW,
    Checks,
    Column,
    ImportContext,
    SheetSpec,
    clean_text,
)
from gaoxin.core.imports.upsert import (
    bulk_session,
)
from gaoxin.core.models import AuditEntry, ImportJob

log = logging.getLogger(__name__)

MAX_ERRORS_KEPT = 200  # on the job row and in API answers; the report file has all of them
SAMPLE_ROWS = 20


@dataclass(frozen=True)
class Importer:
    """An import kind: its sheets in the order they are applied. A workbook sheet is matched to
    a spec by its name (SheetSpec.sheet_names) or else by its header row."""

    kind: str
    title: str
    sheets: tuple[SheetSpec, ...]
    # Sheets whose name contains one of these are instructions, never data.
    ignore_sheets: tuple[str, ...] = ("说明",)

    def spec(self, key: str) -> SheetSpec:
        return next(s for s in self.sheets if s.key == key)


@dataclass
class SheetOutcome:
    key: str
    title: str
    sheet_name: str
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ImportOutcome:
    """What happened. Counts are totals over all sheets; when nothing was written because rows
    were rejected, created/updated/unchanged are 0 for an apply and the planned figures for a
    dry run."""

    job: ImportJob
    dry_run: bool
    status: str = ImportJob.Status.PREVIEWED
    applied: bool = False
    message: str = ""
    total_rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    error_count: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    error_report: Path | None = None
    sheets: list[SheetOutcome] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    # An apply found the job no longer PREVIEWED (applied or being applied by someone else):
    # nothing was run and the job row was left as it was.
    conflict: bool = False

    @property
    def refused(self) -> bool:
        return self.status in (ImportJob.Status.REFUSED, ImportJob.Status.FAILED)

    @property
    def ok(self) -> bool:
        """Applied, or a dry run that could be applied as it stands."""
        if self.refused:
            return False
        return self.rejected == 0 or self.job.keep_valid

    def summary_line(self) -> str:
        return (
            f"created={self.created} updated={self.updated} "
            f"unchanged={self.unchanged} rejected={self.rejected}"
        )


# --- storing uploads -------------------------------------------------------------------------


def imports_dir() -> Path:
    path = Path(settings.DATA_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _safe_suffix(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ".bin"


def import_job_create(
    *,
    kind: str,
    source: IO[bytes] | Path | str,
    file_name: str,
    acting_user: Any,
    keep_valid: bool = False,
    limits: Limits | None = None,
    copy: bool = True,
) -> ImportJob:
    """Records an import job and stores its file under DATA_DIR/imports/<job id>/, hashing it as
    it streams. A file over the size limit is not kept: the job is returned REFUSED.

    With copy=False (management command, a path on disk) the file is used where it is.
    """
    limits = limits or Limits.for_upload()
    job = ImportJob.objects.create(
        kind=kind,
        file_name=Path(file_name).name[:255] or "upload",
        created_by=acting_user if getattr(acting_user, "pk", None) else None,
        keep_valid=keep_valid,
    )
    digest = hashlib.sha256()
    size = 0
    too_big = False
    if not copy:
        path = Path(source).resolve()  # type: ignore[arg-type]
        size = path.stat().st_size
        too_big = size > limits.max_bytes
        if not too_big:
            with path.open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    digest.update(chunk)
    else:
        folder = imports_dir() / str(job.id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"upload{_safe_suffix(file_name)}"
        chunks: Iterable[bytes]
        if isinstance(source, str | Path):
            chunks = _file_chunks(Path(source))
        elif hasattr(source, "chunks"):
            chunks = source.chunks(CHUNK)
        else:
            chunks = iter(lambda: source.read(CHUNK), b"")  # type: ignore[union-attr]
        with path.open("wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limits.max_bytes:
                    too_big = True
                    break
                digest.update(chunk)
                out.write(chunk)
        if too_big:
            shutil.rmtree(folder, ignore_errors=True)
    job.stored_path = "" if too_big else str(path)
    job.file_sha256 = "" if too_big else digest.hexdigest()
    update = ["stored_path", "file_sha256"]
    if too_big:
        job.status = ImportJob.Status.REFUSED
        job.message = _("文件大小超过上限 %(max)s MB") % {"max": limits.max_bytes // (1 << 20)}
        job.finished_at = timezone.now()
        update += ["status", "message", "finished_at"]
    job.save(update_fields=update)
    return job


def _file_chunks(path: Path) -> Iterable[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    for chunk in _file_chunks(path):
        digest.update(chunk)
    return digest.hexdigest()


# --- running ---------------------------------------------------------------------------------


@dataclass
class _Sheet:
    spec: SheetSpec
    raw: RawSheet
    frame: pl.DataFrame
    headers: dict[str, str]
    valid: pl.DataFrame = field(default_factory=pl.DataFrame)
    errors: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=ERROR_SCHEMA))
    plan: Any = None  # Plan, or a WriteTarget's own plan


def import_run(
    *,
    job: ImportJob,
    importer: Importer,
    acting_user: Any,
    dry_run: bool,
    limits: Limits | None = None,
) -> ImportOutcome:
    """Validates the job's file and, unless `dry_run`, applies it in one transaction.

    Guarantees: a refused file or an exception writes nothing and never escapes as an error
    page; with rejected rows and not `job.keep_valid` nothing is written; every created or
    updated object gets one audit row carrying batch=job.id; re-running an applied file
    changes nothing; a job is applied at most once (the apply claims it PREVIEWED -> APPLYING
    with a conditional UPDATE; a second apply gets `conflict`). The job row records the outcome.
    """
    outcome = ImportOutcome(job=job, dry_run=dry_run)
    if job.status == ImportJob.Status.REFUSED and not job.stored_path:
        outcome.status, outcome.message = job.status, job.message
        return outcome
    if not dry_run:
        claimed = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED).update(
            status=ImportJob.Status.APPLYING
        )
        if claimed != 1:
            job.refresh_from_db()
            outcome.status, outcome.conflict = job.status, True
            outcome.message = _("该导入正在处理或已处理过,不能重复确认")
            return outcome
        job.status = ImportJob.Status.APPLYING
    try:
        _run(outcome, job, importer, acting_user, dry_run, limits or Limits.for_upload())
        _record(job, outcome)
    except Exception:
        # Only recording can fail here (_run catches its own errors): the job must not stay
        # APPLYING, and the message must not claim a rollback when the data was committed.
        log.exception("import %s: recording the outcome failed", job.id)
        if outcome.applied:
            outcome.message = _("数据已导入,但导入记录未能保存完整,请联系管理员核对。")
        else:
            outcome.status = ImportJob.Status.FAILED
            outcome.message = _("导入过程中出错,已全部撤销,没有写入任何数据。请联系管理员。")
        ImportJob.objects.filter(pk=job.pk).update(
            status=outcome.status,
            created=outcome.created,
            updated=outcome.updated,
            unchanged=outcome.unchanged,
            rejected=outcome.rejected,
            message=outcome.message,
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
    return outcome


def _run(
    outcome: ImportOutcome,
    job: ImportJob,
    importer: Importer,
    acting_user: Any,
    dry_run: bool,
    limits: Limits,
) -> None:
    table: TableFile | None = None
    sheets: list[_Sheet] = []
    started = time.perf_counter()
    try:
        path = Path(job.stored_path)
        if not path.is_file():
            raise ImportRefused(_("上传的文件已不存在,请重新上传"))
        if job.file_sha256 and _sha256(path) != job.file_sha256:
            raise ImportRefused(_("上传的文件已被改动,请重新上传"))
        table = open_table(path, limits=limits)
        if table.format == "csv":  # a CSV's one "sheet" is named after the file the user sent
            table.sheet_names = [Path(job.file_name).stem or table.sheet_names[0]]
        sheets = _read_sheets(table, importer, limits)
        outcome.timings["read"] = time.perf_counter() - started
        mark = time.perf_counter()
        ctx = ImportContext(
            today=timezone.localdate(),
            acting_user=acting_user,
            can_review=_can_review(acting_user),
        )
        for sheet in sheets:
            _validate(sheet, ctx)
        outcome.timings["validate"] = time.perf_counter() - mark
        _collect(outcome, sheets)
        mark = time.perf_counter()
        if outcome.rejected and not job.keep_valid and not dry_run:
            outcome.status = ImportJob.Status.REFUSED
            outcome.message = _("有 %(n)d 行未通过校验,未导入任何数据") % {"n": outcome.rejected}
        elif dry_run:
            for sheet in sheets:
                sheet.plan = sheet.spec.target.plan(sheet.valid, ctx)
            _count(outcome, sheets)
            outcome.status = ImportJob.Status.PREVIEWED
        else:
            with bulk_session(), transaction.atomic():
                for sheet in sheets:
                    sheet.plan = sheet.spec.target.plan(sheet.valid, ctx)
                    sheet.spec.target.apply(sheet.plan, actor=acting_user, batch=job.id)
                _count(outcome, sheets)
                if outcome.created or outcome.updated:  # a run that wrote nothing is no write
                    _audit_job(job, outcome, acting_user)
            # Committed: from here on nothing may report the import as undone.
            outcome.status = ImportJob.Status.APPLIED
            outcome.applied = True
        outcome.timings["write"] = time.perf_counter() - mark
    except ImportRefused as refusal:
        outcome.status = ImportJob.Status.REFUSED
        outcome.message = refusal.message
    except Exception:
        log.exception("import %s failed", job.id)
        outcome.status = ImportJob.Status.FAILED
        outcome.applied = False
        outcome.created = outcome.updated = outcome.unchanged = 0
        outcome.message = _("导入过程中出错,已全部撤销,没有写入任何数据。请联系管理员。")
    finally:
        if table is not None:
            table.close()
    if outcome.refused:
        outcome.created = outcome.updated = outcome.unchanged = 0
    if outcome.status != ImportJob.Status.FAILED:
        _report(outcome, sheets)
    outcome.timings["total"] = time.perf_counter() - started


def _can_review(user: Any) -> bool:
    # The management command without --user runs as the server operator.
    if user is None:
        return True
    can = getattr(user, "can", None)
    return bool(can(Cap.REGISTRY_REVIEW)) if callable(can) else False


def _read_sheets(table: TableFile, importer: Importer, limits: Limits) -> list[_Sheet]:
    chosen: dict[str, _Sheet] = {}
    for index, name in enumerate(table.sheet_names):
        if any(word in name for word in importer.ignore_sheets):
            continue
        candidates = [s for s in importer.sheets if any(h in name for h in s.sheet_names)]
        candidates = candidates or list(importer.sheets)
        candidates = [s for s in candidates if s.key not in chosen]
        if not candidates:
            continue
        picked: dict[str, Any] = {}

        def finder(
            rows: list[list[str | None]],
            candidates: list[SheetSpec] = candidates,
            picked: dict[str, Any] = picked,
        ) -> int | None:
            best: tuple[int, int, int] | None = None
            for i, row in enumerate(rows):
                for spec in candidates:
                    matches = spec.match(row)
                    if not matches:
                        continue
                    required = sum(1 for c in matches.values() if c.required)
                    score = (required, len(matches), -i)
                    if best is None or score > best:
                        best = score
                        picked.update(index=i, spec=spec, matches=matches)
            # Two recognised headers make a header row; one alone may be a title or a note.
            if best is None or best[1] < 2:
                return None
            return int(picked["index"])

        result = read_sheet(table, index, limits=limits, find_header=finder)
        if result is None:
            continue
        header, raw = result
        spec: SheetSpec = picked["spec"]
        matches: dict[int, Column] = picked["matches"]
        missing = [c.header for c in spec.required if c not in matches.values()]
        if missing:
            raise ImportRefused(
                _("工作表“%(sheet)s”缺少必需的列:%(cols)s(表头须在前20行内)")
                % {"sheet": raw.name, "cols": "、".join(missing)}
            )
        frame = _frame(raw, matches, limits)
        headers = {c.key: str(header[i] or c.header) for i, c in matches.items()}
        chosen[spec.key] = _Sheet(spec=spec, raw=raw, frame=frame, headers=headers)
    if not chosen:
        expected = "、".join(c.header for c in importer.sheets[0].required)
        raise ImportRefused(
            _("未找到表头:请使用导入模板,表头须在前20行内,并包含 %(cols)s 等列")
            % {"cols": expected}
        )
    return [chosen[s.key] for s in importer.sheets if s.key in chosen]


def _frame(raw: RawSheet, matches: dict[int, Column], limits: Limits) -> pl.DataFrame:
    """The matched columns, cleaned and renamed to their keys, with the row number; rows
    without a value are dropped. Read batch by batch, so only these columns are ever held."""
    keys = [c.key for c in matches.values()]
    parts: list[pl.DataFrame] = []
    total = 0
    for batch in raw.read(sorted(matches)):
        exprs = [
            clean_text(
                pl.col(f"c{i}") if f"c{i}" in batch.columns else pl.lit(None, pl.String)
            ).alias(col.key)
            for i, col in matches.items()
        ]
        part = batch.select(pl.col(ROW).cast(pl.Int64), *exprs)
        part = part.filter(pl.any_horizontal(pl.col(k).is_not_null() for k in keys))
        total += part.height
        if total > limits.max_rows:
            raise ImportRefused(
                _("文件超过最大行数 %(n)s 行,请拆分后分批导入") % {"n": f"{limits.max_rows:,}"}
            )
        parts.append(part)
    if not parts:
        return pl.DataFrame(schema={ROW: pl.Int64, **{k: pl.String for k in keys}})
    return pl.concat(parts, how="vertical_relaxed").rechunk()


def _validate(sheet: _Sheet, ctx: ImportContext) -> None:
    checks = Checks(sheet.frame, sheet=sheet.raw.name, headers=sheet.headers)
    valid = sheet.spec.validate(checks, ctx)
    sheet.errors = checks.errors()
    bad = sheet.errors.get_column(ROW).unique()
    sheet.valid = valid.filter(~pl.col(ROW).is_in(bad.implode()))
    ctx.valid[sheet.spec.key] = sheet.valid
    ctx.rejected[sheet.spec.key] = checks.frame.filter(pl.col(ROW).is_in(bad.implode()))
    # Keep only what the preview's sample labels need: the raw strings are no longer used.
    labels = [c.key for c in sheet.spec.columns[:2] if c.key in sheet.frame.columns]
    sheet.frame = sheet.frame.select(ROW, *labels)


def _collect(outcome: ImportOutcome, sheets: list[_Sheet]) -> None:
    for sheet in sheets:
        rejected = sheet.errors.get_column(ROW).n_unique()
        outcome.sheets.append(
            SheetOutcome(
                key=sheet.spec.key,
                title=sheet.spec.title,
                sheet_name=sheet.raw.name,
                total=sheet.frame.height,
                rejected=rejected,
            )
        )
        outcome.total_rows += sheet.frame.height
        outcome.rejected += rejected
        outcome.error_count += sheet.errors.height


def _count(outcome: ImportOutcome, sheets: list[_Sheet]) -> None:
    outcome.created = outcome.updated = outcome.unchanged = 0
    for sheet, result in zip(sheets, outcome.sheets, strict=True):
        assert sheet.plan is not None  # noqa: S101
        result.created, result.updated, result.unchanged = sheet.plan.counts
        outcome.created += result.created
        outcome.updated += result.updated
        outcome.unchanged += result.unchanged
        result.samples = _samples(sheet)


def _samples(sheet: _Sheet) -> list[dict[str, Any]]:
    assert sheet.plan is not None  # noqa: S101
    out: list[dict[str, Any]] = []
    label_cols = [c.key for c in sheet.spec.columns[:2] if c.key in sheet.frame.columns]
    for action, frame in (("create", sheet.plan.created), ("update", sheet.plan.updated)):
        if not frame.height:
            continue
        part = frame.head(SAMPLE_ROWS).select(ROW, sheet.plan.changes(action).alias("changes"))
        labels = sheet.frame.join(part.select(ROW), on=ROW).select(ROW, *label_cols)
        names = dict(
            zip(labels.get_column(ROW).to_list(), labels.select(label_cols).rows(), strict=True)
        )
        for row, changes in part.rows():
            out.append(
                {
                    "action": action,
                    "row": row,
                    "label": " ".join(str(v) for v in names.get(row, ()) if v),
                    "changes": json.loads(changes),
                }
            )
    return out


def _audit_job(job: ImportJob, outcome: ImportOutcome, actor: Any) -> None:
    audit.record(
        actor=actor,
        action=AuditEntry.Action.IMPORT,
        obj=job,
        object_repr=f"{job.kind} {job.file_name}"[:200],
        changes={
            "file_sha256": [None, job.file_sha256],
            "created": [None, outcome.created],
            "updated": [None, outcome.updated],
            "unchanged": [None, outcome.unchanged],
            "rejected": [None, outcome.rejected],
        },
        batch=job.id,
    )


def _report(outcome: ImportOutcome, sheets: list[_Sheet]) -> None:
    """Keeps the first errors on the outcome and writes the full report. Runs after the outcome
    is settled (for an apply, after the commit): a report that cannot be written is logged and
    said in the message, and never changes what happened to the data."""
    errors = pl.concat([s.errors for s in sheets]) if sheets else pl.DataFrame(schema=ERROR_SCHEMA)
    outcome.errors = [
        {"sheet": s, "row": r, "column": c, "value": v, "reason": why}
        for s, r, c, v, why in errors.head(MAX_ERRORS_KEPT).rows()
    ]
    if not errors.height:
        return
    path = imports_dir() / str(outcome.job.id) / "errors.xlsx"
    try:
        error_report_write(path, errors, with_sheet=len(sheets) > 1)
    except Exception:
        log.exception("import %s: writing the error report failed", outcome.job.id)
        note = _("错误明细文件未能生成,请联系管理员。")
        outcome.message = f"{outcome.message} {note}".strip()
        return
    outcome.error_report = path


def error_report_write(path: Path, errors: pl.DataFrame, *, with_sheet: bool) -> None:
    """An .xlsx listing every error: (工作表,) 行号, 列, 值, 原因. Streams rows to disk."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_numbers": False}
    )
    try:
        sheet = workbook.add_worksheet(_("错误明细"))
        bold = workbook.add_format({"bold": True})
        headers = [_("行号"), _("列"), _("值"), _("原因")]
        if with_sheet:
            headers.insert(0, _("工作表"))
        sheet.write_row(0, 0, headers, bold)
        widths = [8, 20, 30, 60]
        if with_sheet:
            widths.insert(0, 12)
        for i, w in enumerate(widths):
            sheet.set_column(i, i, w)
        r = 1
        cols = (
            ["sheet", ROW, "column", "value", "reason"]
            if with_sheet
            else [ROW, "column", "value", "reason"]
        )
        for offset in range(0, errors.height, 10_000):
            for row in errors.slice(offset, 10_000).select(cols).rows():
                # Values are written as strings: a cell starting with "=" must not become a formula.
                for c, v in enumerate(row):
                    if isinstance(v, int):
                        sheet.write_number(r, c, v)
                    else:
                        sheet.write_string(r, c, "" if v is None else str(v)[:32767])
                r += 1
    finally:
        workbook.close()


def job_summary(job: ImportJob) -> dict[str, Any]:
    """What the last run of `job` found per sheet (counts, sample rows), for the preview page."""
    path = Path(settings.DATA_DIR) / "imports" / str(job.id) / "summary.json"  # read only
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"sheets": [], "error_count": len(job.errors)}
    return data


def _record(job: ImportJob, outcome: ImportOutcome) -> None:
    folder = imports_dir() / str(job.id)
    summary = {
        "dry_run": outcome.dry_run,
        "error_count": outcome.error_count,
        "sheets": [s.__dict__ for s in outcome.sheets],
        "timings": outcome.timings,
    }
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "summary.json").write_text(
            json.dumps(summary, ensure_ascii=False, default=str), encoding="utf-8"
        )
    except (OSError, TypeError, ValueError):  # only the preview's samples are lost
        log.exception("import %s: writing the summary failed", job.id)
    job.status = outcome.status
    job.total_rows = outcome.total_rows
    job.created, job.updated = outcome.created, outcome.updated
    job.unchanged, job.rejected = outcome.unchanged, outcome.rejected
    job.message = outcome.message
    job.errors = outcome.errors
    job.error_report_path = str(outcome.error_report or "")
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status",
            "total_rows",
            "created",
            "updated",
            "unchanged",
            "rejected",
            "message",
            "errors",
            "error_report_path",
            "finished_at",
        ]
    )
