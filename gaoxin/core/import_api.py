"""Imports over the API, for any import flow: the same pipeline as the pages and the commands.
`import_router(flow, base)` gives upload (dry run or apply), job, apply and error report."""

import uuid
from pathlib import Path
from typing import Any

from django.http import FileResponse, Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from gaoxin.core.access import require
from gaoxin.core.import_views import ImportFlow
from gaoxin.core.imports import Limits, import_job_create, import_run, imports_dir
from gaoxin.core.models import ImportJob


class ImportErrorOut(Schema):
    sheet: str | None = None
    row: int
    column: str
    value: str | None = None
    reason: str


class ImportJobOut(Schema):
    job_id: uuid.UUID
    kind: str
    file_name: str
    status: str
    keep_valid: bool
    total_rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    message: str
    errors: list[ImportErrorOut]
    error_report_url: str | None = None


class ConflictOut(Schema):
    detail: str


def import_router(flow: ImportFlow, *, base: str, tag: str) -> Router:
    """`base` is the router's path under /api, for the error report's absolute URL."""
    router = Router(tags=[tag])
    name = flow.namespace

    def out(request: HttpRequest, job: ImportJob) -> dict[str, Any]:
        report = None
        if job.error_report_path:
            report = request.build_absolute_uri(f"/api{base}/{job.pk}/errors.xlsx")
        return {
            "job_id": job.pk,
            "kind": job.kind,
            "file_name": job.file_name,
            "status": job.status,
            "keep_valid": job.keep_valid,
            "total_rows": job.total_rows,
            "created": job.created,
            "updated": job.updated,
            "unchanged": job.unchanged,
            "rejected": job.rejected,
            "message": job.message,
            "errors": job.errors,
            "error_report_url": report,
        }

    def get(request: HttpRequest, job_id: uuid.UUID) -> ImportJob:
        require(request.user, flow.cap)
        return get_object_or_404(ImportJob, pk=job_id, kind__in=flow.kinds())

    @router.post(
        "",
        response={200: ImportJobOut, 422: ImportJobOut},
        summary=f"{flow.title}: 上传并导入(dry_run 只预检)",
        operation_id=f"{name}_import_upload",
    )
    def upload(
        request: HttpRequest,
        file: UploadedFile = File(...),  # noqa: B008 - django-ninja's declaration style
        dry_run: bool = Form(False),  # noqa: B008
        keep_valid: bool = Form(False),  # noqa: B008
        kind: str = Form(""),  # noqa: B008
    ) -> Any:
        """Refused files and, without keep_valid, files with rejected rows answer 422 with the
        same body; nothing is written then. `errors` holds the first 200 row errors. `kind`
        picks the importer where the flow offers several (a report form)."""
        require(request.user, flow.cap)
        choices = [k for k, _label in flow.choices()] or flow.kinds()
        chosen = kind or choices[0]
        if chosen not in choices:
            raise Http404
        importer = flow.importer_for_kind(chosen)
        limits = Limits.for_upload()
        job = import_job_create(
            kind=importer.kind,
            source=file,
            file_name=file.name or "upload",
            acting_user=request.user,
            keep_valid=keep_valid,
            limits=limits,
        )
        outcome = import_run(
            job=job, importer=importer, acting_user=request.user, dry_run=dry_run, limits=limits
        )
        job.refresh_from_db()
        return Status(200 if outcome.ok else 422, out(request, job))

    @router.get(
        "/{job_id}", response=ImportJobOut, summary="导入记录", operation_id=f"{name}_import_job"
    )
    def get_job(request: HttpRequest, job_id: uuid.UUID) -> Any:
        return out(request, get(request, job_id))

    @router.post(
        "/{job_id}/apply",
        response={200: ImportJobOut, 409: ConflictOut, 422: ImportJobOut},
        summary="确认导入已预检的文件",
        operation_id=f"{name}_import_apply",
    )
    def apply(request: HttpRequest, job_id: uuid.UUID) -> Any:
        """409 when the job is not (or no longer) awaiting confirmation: already applied,
        refused, or being applied by another request. Only one of two concurrent confirmations
        runs."""
        job = get(request, job_id)
        outcome = import_run(
            job=job,
            importer=flow.importer_for_kind(job.kind),
            acting_user=request.user,
            dry_run=False,
        )
        if outcome.conflict:
            return Status(409, {"detail": outcome.message})
        job.refresh_from_db()
        return Status(200 if outcome.applied else 422, out(request, job))

    @router.get(
        "/{job_id}/errors.xlsx",
        summary="下载错误明细",
        response={404: dict},
        operation_id=f"{name}_import_errors",
    )
    def error_report(request: HttpRequest, job_id: uuid.UUID) -> Any:
        job = get(request, job_id)
        path = Path(job.error_report_path) if job.error_report_path else None
        if (
            path is None
            or not path.is_file()
            or imports_dir().resolve() not in path.resolve().parents
        ):
            return Status(404, {"detail": "这次导入没有错误明细"})
        return FileResponse(path.open("rb"), as_attachment=True, filename=f"errors-{job.pk}.xlsx")

    return router
