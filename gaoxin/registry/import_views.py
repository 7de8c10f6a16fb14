"""Enterprise import pages: upload -> dry-run preview -> confirm -> result, error report and
template downloads. Everything goes through gaoxin.core.imports, like the API and the command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gaoxin.accounts.roles import Cap
from gaoxin.core.access import require
from gaoxin.core.imports import Limits, import_job_create, import_run, imports_dir, job_summary
from gaoxin.core.models import ImportJob
from gaoxin.registry.importers import ENTERPRISE_IMPORTER, enterprise_template

PREVIEW_ERRORS = 100
RECENT_JOBS = 20


def get_import_job_for_user(user: Any, pk: Any) -> ImportJob:
    """An enterprise import job, for users who may import; 404 for everyone else."""
    require(user, Cap.REGISTRY_IMPORT)
    try:
        return ImportJob.objects.get(pk=pk, kind=ENTERPRISE_IMPORTER.kind)
    except (ImportJob.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def _upload_too_big(request: HttpRequest, limits: Limits) -> bool:
    # Refuse on the declared length, before Django reads a huge body into temporary files.
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > limits.max_bytes + 16 * 1024  # room for the multipart envelope


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.REGISTRY_IMPORT)
    limits = Limits.for_upload()
    error = ""
    if request.method == "POST":
        if _upload_too_big(request, limits):
            error = _("文件大小超过上限 %(max)s MB") % {"max": limits.max_bytes // (1 << 20)}
        else:
            upload = request.FILES.get("file")
            if upload is None:
                error = _("请选择要导入的文件")
            else:
                job = import_job_create(
                    kind=ENTERPRISE_IMPORTER.kind,
                    source=upload,
                    file_name=upload.name or "upload",
                    acting_user=request.user,
                    keep_valid=bool(request.POST.get("keep_valid")),
                    limits=limits,
                )
                import_run(
                    job=job,
                    importer=ENTERPRISE_IMPORTER,
                    acting_user=request.user,
                    dry_run=True,
                    limits=limits,
                )
                return redirect("registry:import_preview", pk=job.pk)
    jobs = ImportJob.objects.filter(kind=ENTERPRISE_IMPORTER.kind).select_related("created_by")
    return render(
        request,
        "registry/import_upload.html",
        {
            "jobs": jobs[:RECENT_JOBS],
            "error": error,
            "max_mb": limits.max_bytes // (1 << 20),
            "max_rows": limits.max_rows,
        },
        status=400 if error else 200,
    )


@login_required
def import_preview(request: HttpRequest, pk: Any) -> HttpResponse:
    """The dry run's findings (or the applied result) and, when it can go ahead, the button."""
    job = get_import_job_for_user(request.user, pk)
    summary = job_summary(job)
    can_apply = (
        job.status == ImportJob.Status.PREVIEWED
        and bool(job.stored_path)
        and (job.rejected == 0 or job.keep_valid)
        and (job.total_rows > job.rejected)
    )
    return render(
        request,
        "registry/import_preview.html",
        {
            "job": job,
            "summary": summary,
            "errors": job.errors[:PREVIEW_ERRORS],
            "more_errors": max(0, int(summary.get("error_count") or 0) - PREVIEW_ERRORS),
            "multi_sheet": len(summary.get("sheets") or []) > 1,
            "can_apply": can_apply,
            "has_report": bool(job.error_report_path) and Path(job.error_report_path).is_file(),
        },
    )


@login_required
@require_POST
def import_apply(request: HttpRequest, pk: Any) -> HttpResponse:
    """Applies a previewed job: the file is read and validated again (and must be unchanged)."""
    job = get_import_job_for_user(request.user, pk)
    # import_run claims the job (PREVIEWED -> APPLYING in one conditional UPDATE), so of two
    # concurrent confirmations only one runs; the other lands here as a conflict.
    outcome = import_run(
        job=job, importer=ENTERPRISE_IMPORTER, acting_user=request.user, dry_run=False
    )
    if outcome.conflict:
        messages.warning(request, outcome.message)
    elif outcome.applied:
        messages.success(
            request,
            _("导入完成:新增 %(c)d,更新 %(u)d,不变 %(n)d,跳过有误 %(r)d")
            % {
                "c": outcome.created,
                "u": outcome.updated,
                "n": outcome.unchanged,
                "r": outcome.rejected,
            },
        )
        if outcome.message:  # applied, but e.g. the error report could not be written
            messages.warning(request, outcome.message)
    else:
        messages.error(request, outcome.message or _("导入未完成"))
    return redirect("registry:import_preview", pk=job.pk)


@login_required
def import_errors(request: HttpRequest, pk: Any) -> HttpResponse:
    job = get_import_job_for_user(request.user, pk)
    path = Path(job.error_report_path) if job.error_report_path else None
    # Only files the pipeline wrote, under DATA_DIR/imports.
    if path is None or not path.is_file() or imports_dir().resolve() not in path.resolve().parents:
        messages.info(request, _("这次导入没有错误明细"))
        return redirect("registry:import_preview", pk=job.pk)
    name = f"导入错误明细-{Path(job.file_name).stem}.xlsx"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name)


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.REGISTRY_IMPORT)
    response = HttpResponse(
        enterprise_template(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=_("企业导入模板") + ".xlsx"
    )
    return response
