"""python manage.py import_enterprises FILE [--dry-run] [--keep-valid] [--errors OUT.xlsx]

The same import as the web page, for files too big to upload. The last line on stdout is
exactly `created=N updated=N unchanged=N rejected=N`; the exit status is 0 when applied (or a
clean dry run) and 2 when refused, in which case nothing was written.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from gaoxin.core.context import acting
from gaoxin.core.imports import Importer, Limits, import_job_create, import_run
from gaoxin.registry.importers import ENTERPRISE_IMPORTER

SHOWN_ERRORS = 20


class Command(BaseCommand):
    help = "导入企业及资质(.xlsx/.xls/.ods/.csv),与网页导入相同的校验和写入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="要导入的文件")
        parser.add_argument("--dry-run", action="store_true", help="只校验并报告,不写入")
        parser.add_argument(
            "--keep-valid", action="store_true", help="跳过有误的行,只导入有效行(默认全部或全不)"
        )
        parser.add_argument("--errors", metavar="OUT.xlsx", help="把错误明细写到此文件")
        parser.add_argument("--user", help="记在审计日志中的操作人用户名(默认 system)")
        parser.add_argument(
            "--max-bytes",
            type=int,
            default=max(settings.IMPORT_MAX_UPLOAD_BYTES, 2 << 30),
            help="文件大小上限(字节),命令行默认 2 GB",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        user = None
        if options.get("user"):
            from django.contrib.auth import get_user_model

            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                self._finish(None, _("找不到用户 %(name)s") % {"name": options["user"]})
        if not path.is_file():
            self._finish(None, _("文件不存在:%(path)s") % {"path": path})
        limits = Limits.for_upload(max_bytes=options["max_bytes"])
        importer = self.get_importer(options)
        with acting(channel="cli"):
            job = import_job_create(
                kind=importer.kind,
                source=path,
                file_name=path.name,
                acting_user=user,
                keep_valid=options["keep_valid"],
                limits=limits,
                copy=False,
            )
            outcome = import_run(
                job=job,
                importer=importer,
                acting_user=user,
                dry_run=options["dry_run"],
                limits=limits,
            )
        for error in outcome.errors[:SHOWN_ERRORS]:
            sheet = f"[{error['sheet']}] " if len(outcome.sheets) > 1 else ""
            self.stderr.write(
                sheet
                + _("第%(row)s行 %(column)s“%(value)s”:%(reason)s")
                % {
                    "row": error["row"],
                    "column": error["column"],
                    "value": error["value"] or "",
                    "reason": error["reason"],
                }
            )
        if outcome.error_count > SHOWN_ERRORS:
            self.stderr.write(
                _("…… 共 %(n)d 处错误,涉及 %(rows)d 行")
                % {"n": outcome.error_count, "rows": outcome.rejected}
            )
        if options.get("errors") and outcome.error_report:
            shutil.copyfile(outcome.error_report, options["errors"])
            self.stderr.write(_("错误明细已写入 %(path)s") % {"path": options["errors"]})
        message = outcome.message
        if not message and outcome.rejected and not outcome.job.keep_valid:
            message = _("有 %(n)d 行未通过校验(预检),未导入任何数据") % {"n": outcome.rejected}
        for sheet in outcome.sheets:
            self.stderr.write(
                _("%(title)s:%(total)d 行,新增 %(c)d,更新 %(u)d,不变 %(n)d,有误 %(r)d")
                % {
                    "title": sheet.title,
                    "total": sheet.total,
                    "c": sheet.created,
                    "u": sheet.updated,
                    "n": sheet.unchanged,
                    "r": sheet.rejected,
                }
            )
        self._finish(outcome, message, failed=not outcome.ok)

    def get_importer(self, options: dict[str, Any]) -> Importer:
        return ENTERPRISE_IMPORTER

    def _finish(self, outcome: Any, message: str, *, failed: bool = True) -> None:
        if message:
            self.stderr.write(message)
        line = (
            outcome.summary_line()
            if outcome is not None
            else ("created=0 updated=0 unchanged=0 rejected=0")
        )
        self.stdout.write(line)
        self.stdout.flush()
        if failed:
            sys.exit(2)
