"""Import pages shared by every importer: upload -> dry-run preview -> confirm -> result, the
error report and the template download. An app describes its import with an `ImportFlow`
(capability, importer, URL names, texts) and routes to the views `flow_urls` builds. Everything
goes through gaoxin.core.imports, like the API and the management commands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gaoxin.core.access import require
from gaoxin.core.imports import (
    Importer,
    Limits,
    import_job_create,
    import_run,
    imports_dir,
    job_summary,
)
from gaoxin.core.models import ImportJob

PREVIEW_ERRORS = 100
RECENT_JOBS = 20
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Choice:
    """A choice the upload form offers (which report form a file holds, say)."""

    value: str
    label: str


@dataclass(frozen=True)
class ImportFlow:
    namespace: str  # URL namespace of the app: "registry", "reports"
    cap: str  # capability needed for every page
    title: str  # 企业及资质导入 (lazy text)
    intro: str  # what the file holds and how rows are matched (lazy text)
    template_name: str  # file name of the template download, without .xlsx
    kinds: Callable[[], list[str]]  # ImportJob kinds this flow owns
    importer_for_kind: Callable[[str], Importer]
    template_for_kind: Callable[[str], bytes]
    choices: Callable[[], list[tuple[str, str]]] = field(default=lambda: [])  # (kind, label)
    apply_note: str = ""  # what confirming writes

    def url(self, name: str, *args: Any) -> str:
        return reverse(f"{self.namespace}:import{name}", args=args)


def _get_job(flow: ImportFlow, user: Any, pk: Any) -> ImportJob:
    require(user, flow.cap)
    try:
        return ImportJob.objects.get(pk=pk, kind__in=flow.kinds())
    except (ImportJob.DoesNotExist, ValueError) as exc:
        raise Http404 from exc


def _upload_too_big(request: HttpRequest, limits: Limits) -> bool:
    # Refuse on the declared length, before Django reads a huge body into temporary files.
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > limits.max_bytes + 16 * 1024  # room for the multipart envelope


def _default_kind(flow: ImportFlow) -> str:
    choices = flow.choices()
    return choices[0][0] if choices else flow.kinds()[0]


def _chosen_kind(flow: ImportFlow, value: str | None) -> str | None:
    choices = [k for k, _label in flow.choices()] or flow.kinds()
    if not value:
        return _default_kind(flow)
    return value if value in choices else None


def upload_view(flow: ImportFlow) -> Callable[[HttpRequest], HttpResponse]:
    @login_required
    def view(request: HttpRequest) -> HttpResponse:
        require(request.user, flow.cap)
        limits = Limits.for_upload()
        error = ""
        if request.method == "POST":
            kind = _chosen_kind(flow, request.POST.get("kind"))
            upload = request.FILES.get("file")
            if _upload_too_big(request, limits):
                error = _("文件大小超过上限 %(max)s MB") % {"max": limits.max_bytes // (1 << 20)}
            elif kind is None:
                error = _("请选择报表类型")
            elif upload is None:
                error = _("请选择要导入的文件")
            else:
                importer = flow.importer_for_kind(kind)
                job = import_job_create(
                    kind=importer.kind,
                    source=upload,
                    file_name=upload.name or "upload",
                    acting_user=request.user,
                    keep_valid=bool(request.POST.get("keep_valid")),
                    limits=limits,
                )
                import_run(
                    job=job,
                    importer=importer,
                    acting_user=request.user,
                    dry_run=True,
                    limits=limits,
                )
                return redirect(flow.url("_preview", job.pk))
        jobs = list(
            ImportJob.objects.filter(kind__in=flow.kinds()).select_related("created_by")[
                :RECENT_JOBS
            ]
        )
        for job in jobs:
            job.preview_url = flow.url("_preview", job.pk)  # type: ignore[attr-defined]
        return render(
            request,
            "core/import_upload.html",
            {
                "flow": flow,
                "jobs": jobs,
                "error": error,
                "choices": flow.choices(),
                "template_url": flow.url("_template"),
                "max_mb": limits.max_bytes // (1 << 20),
                "max_rows": limits.max_rows,
            },
            status=400 if error else 200,
        )

    return view


def preview_view(flow: ImportFlow) -> Callable[[HttpRequest, Any], HttpResponse]:
    @login_required
    def view(request: HttpRequest, pk: Any) -> HttpResponse:
        """The dry run's findings (or the applied result) and, when it can go ahead, the
        button."""
        job = _get_job(flow, request.user, pk)
        summary = job_summary(job)
        can_apply = (
            job.status == ImportJob.Status.PREVIEWED
            and bool(job.stored_path)
            and (job.rejected == 0 or job.keep_valid)
            and (job.total_rows > job.rejected)
        )
        return render(
            request,
            "core/import_preview.html",
            {
                "flow": flow,
                "job": job,
                "summary": summary,
                "errors": job.errors[:PREVIEW_ERRORS],
                "more_errors": max(0, int(summary.get("error_count") or 0) - PREVIEW_ERRORS),
                "multi_sheet": len(summary.get("sheets") or []) > 1,
                "can_apply": can_apply,
                "has_report": bool(job.error_report_path) and Path(job.error_report_path).is_file(),
                "apply_url": flow.url("_apply", job.pk),
                "errors_url": flow.url("_errors", job.pk),
                "back_url": flow.url(""),
            },
        )

    return view


def apply_view(flow: ImportFlow) -> Callable[[HttpRequest, Any], HttpResponse]:
    @login_required
    @require_POST
    def view(request: HttpRequest, pk: Any) -> HttpResponse:
        """Applies a previewed job: the file is read and validated again (and must be
        unchanged). import_run claims the job (PREVIEWED -> APPLYING in one conditional UPDATE),
        so of two concurrent confirmations only one runs; the other is a conflict."""
        job = _get_job(flow, request.user, pk)
        outcome = import_run(
            job=job,
            importer=flow.importer_for_kind(job.kind),
            acting_user=request.user,
            dry_run=False,
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
        return redirect(flow.url("_preview", job.pk))

    return view


def errors_view(flow: ImportFlow) -> Callable[[HttpRequest, Any], HttpResponse]:
    @login_required
    def view(request: HttpRequest, pk: Any) -> HttpResponse:
        job = _get_job(flow, request.user, pk)
        report = Path(job.error_report_path) if job.error_report_path else None
        # Only files the pipeline wrote, under DATA_DIR/imports.
        if (
            report is None
            or not report.is_file()
            or imports_dir().resolve() not in report.resolve().parents
        ):
            messages.info(request, _("这次导入没有错误明细"))
            return redirect(flow.url("_preview", job.pk))
        name = f"导入错误明细-{Path(job.file_name).stem}.xlsx"
        return FileResponse(report.open("rb"), as_attachment=True, filename=name)

    return view


def template_view(flow: ImportFlow) -> Callable[[HttpRequest], HttpResponse]:
    @login_required
    def view(request: HttpRequest) -> HttpResponse:
        require(request.user, flow.cap)
        kind = _chosen_kind(flow, request.GET.get("kind"))
        if kind is None:
            raise Http404
        response = HttpResponse(flow.template_for_kind(kind), content_type=XLSX)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=str(flow.template_name) + ".xlsx"
        )
        return response

    return view


def flow_urls(flow: ImportFlow) -> list[URLPattern]:
    """The five routes of an import, named import, import_template, import_preview,
    import_apply and import_errors inside the app's namespace."""
    return [
        path("import/", upload_view(flow), name="import"),
        path("import/template.xlsx", template_view(flow), name="import_template"),
        path("import/<uuid:pk>/", preview_view(flow), name="import_preview"),
        path("import/<uuid:pk>/apply/", apply_view(flow), name="import_apply"),
        path("import/<uuid:pk>/errors.xlsx", errors_view(flow), name="import_errors"),
    ]
