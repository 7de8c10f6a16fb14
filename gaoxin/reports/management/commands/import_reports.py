"""python manage.py import_reports FILE [--form CODE] [--dry-run] [--keep-valid] [--errors OUT.xlsx]

Same contract and summary line as import_enterprises: the last line on stdout is exactly
`created=N updated=N unchanged=N rejected=N`; exit status 2 when refused (nothing written).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from gaoxin.core.imports import Importer
from gaoxin.registry.management.commands.import_enterprises import Command as ImportCommand
from gaoxin.reports.catalogue import INDUSTRY_MONTHLY
from gaoxin.reports.importers import current_form, report_importer
from gaoxin.reports.models import ReportForm


class Command(ImportCommand):
    help = "导入企业统计报表(一行一个企业一个报告期),与网页导入相同的校验和写入。"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--form",
            default=INDUSTRY_MONTHLY,
            help=f"报表表号(默认 {INDUSTRY_MONTHLY};年报 sci_annual)",
        )

    def get_importer(self, options: dict[str, Any]) -> Importer:
        try:
            return report_importer(current_form(options["form"]))
        except ReportForm.DoesNotExist as exc:
            raise CommandError(f"没有表号为 {options['form']} 的报表") from exc
