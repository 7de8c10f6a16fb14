"""The statistical report import pages: the shared import flow (gaoxin.core.import_views) with
one importer per report form, chosen on the upload page."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from gaoxin.accounts.roles import Cap
from gaoxin.core.import_views import ImportFlow
from gaoxin.core.imports import Importer
from gaoxin.reports.importers import KIND_PREFIX, current_form, report_importer, report_template
from gaoxin.reports.models import ReportForm


def _codes() -> list[tuple[str, str]]:
    latest: dict[str, str] = {}
    for code, name in ReportForm.objects.order_by("code", "version").values_list("code", "name"):
        latest[code] = name
    return [(KIND_PREFIX + code, name) for code, name in latest.items()]


def _importer(kind: str) -> Importer:
    return report_importer(current_form(kind.removeprefix(KIND_PREFIX)))


def _template(kind: str) -> bytes:
    return report_template(current_form(kind.removeprefix(KIND_PREFIX)))


REPORT_FLOW = ImportFlow(
    namespace="reports",
    cap=Cap.REPORTS_REVIEW,
    title=_("报表批量导入"),
    intro=_(
        "每行一家企业一个报告期,按统一社会信用代码和报告期匹配;通过校验的行直接记为已审核通过,"
        "已有报表数值不同的记为新的修订。"
    ),
    template_name=_("报表导入模板"),
    kinds=lambda: [kind for kind, _name in _codes()],
    importer_for_kind=_importer,
    template_for_kind=_template,
    choices=_codes,
    apply_note=_("预检通过。确认后写入报表并记为已审核通过,每张报表都会记入审计日志。"),
)
