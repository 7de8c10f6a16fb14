"""Writes that set up and follow up reporting periods. Each leaves an audit row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from gaoxin.core import audit
from gaoxin.reports.models import Frequency, ReportForm, ReportPeriod

PERIOD_FIELDS = ("form_code", "year", "month", "due_on")


def _duplicate(form: ReportForm, year: int, month: int | None) -> ValidationError:
    period = _("%(year)s年%(month)s月") % {"year": year, "month": month} if month else None
    return ValidationError(
        _("“%(form)s”%(period)s的报告期已经存在")
        % {"form": form.name, "period": period or _("%(year)s年") % {"year": year}},
        code="duplicate_period",
    )


@transaction.atomic
def period_create(
    *, form_code: str, year: int, month: int | None, due_on: dt.date, acting_user: Any
) -> ReportPeriod:
    """Opens a reporting period of a form. Guarantees: the form exists; a monthly form's period
    has a month and an annual form's has none; the due date is not before the period starts;
    there is at most one period per (form, year, month) — a duplicate is refused with a
    ValidationError, also when two requests race (the database constraint decides)."""
    form = ReportForm.objects.filter(code=form_code).order_by("-version").first()
    if form is None:
        raise ValidationError({"form_code": _("没有表号为“%(code)s”的报表") % {"code": form_code}})
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": _("年份应在2000至2100之间")})
    if form.frequency == Frequency.MONTHLY:
        if month is None:
            raise ValidationError({"month": _("月报必须选择月份")})
        if not 1 <= month <= 12:
            raise ValidationError({"month": _("月份应在1至12之间")})
    elif month is not None:
        raise ValidationError({"month": _("年报按年报送,不选月份")})
    starts_on = dt.date(year, month or 1, 1)
    if due_on < starts_on:
        raise ValidationError({"due_on": _("报送截止日不能早于报告期开始日")})
    if ReportPeriod.objects.filter(form_code=form_code, year=year, month=month).exists():
        raise _duplicate(form, year, month)
    period = ReportPeriod(form_code=form_code, year=year, month=month, due_on=due_on)
    try:
        with transaction.atomic():
            period.save()
    except IntegrityError as exc:
        raise _duplicate(form, year, month) from exc
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=period,
        object_repr=f"{form.name} {period}",
        changes=audit.diff({}, audit.snapshot(period, PERIOD_FIELDS)),
    )
    return period


def worklist_export_record(
    *, period: ReportPeriod, filters: Mapping[str, Any], rows: int, acting_user: Any
) -> audit.AuditEntry:
    """Leaves the audit row for an export of a period's worklist (it carries contact details):
    which period, which filter, how many rows."""
    return audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.EXPORT,
        obj=period,
        object_repr=_("报表催报清单导出 %(code)s %(period)s")
        % {"code": period.form_code, "period": period},
        changes={"filters": dict(filters), "rows": rows},
    )
