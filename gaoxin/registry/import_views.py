"""The enterprise import pages: the shared import flow (gaoxin.core.import_views) with the
enterprise importer and its template."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from gaoxin.accounts.roles import Cap
from gaoxin.core.import_views import ImportFlow
from gaoxin.registry.importers import ENTERPRISE_IMPORTER, enterprise_template

ENTERPRISE_FLOW = ImportFlow(
    namespace="registry",
    cap=Cap.REGISTRY_IMPORT,
    title=_("企业及资质导入"),
    intro=_("按统一社会信用代码新增或更新企业及其资质。"),
    template_name=_("企业导入模板"),
    kinds=lambda: [ENTERPRISE_IMPORTER.kind],
    importer_for_kind=lambda kind: ENTERPRISE_IMPORTER,
    template_for_kind=lambda kind: enterprise_template(),
    apply_note=_("预检通过。确认后写入企业库,每条新增或修改都会记入审计日志。"),
)
