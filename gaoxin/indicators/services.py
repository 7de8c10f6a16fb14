"""Writes for indicators: targets only (values are computed, never typed in)."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from gaoxin.core import audit
from gaoxin.indicators.engine import Scope, indicator_by_code
from gaoxin.indicators.models import Target

MAX_TARGET = Decimal(10) ** 16  # the column holds 20 digits, 4 of them decimals


@transaction.atomic
def target_set(
    *,
    code: str,
    year: int,
    value: Any,
    note: str = "",
    acting_user: Any,
    batch: uuid.UUID | None = None,
) -> Target:
    """Sets (or changes) the target of an indicator for a year, with an audit row."""
    if indicator_by_code(code) is None:
        raise ValidationError({"code": _("没有代码为 %(code)s 的指标") % {"code": code}})
    if not 2000 <= int(year) <= 2100:
        raise ValidationError({"year": _("年份应在2000至2100之间")})
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError) as exc:
        raise ValidationError({"value": _("目标值应为数值")}) from exc
    if not number.is_finite() or number < 0:
        raise ValidationError({"value": _("目标值应为不小于0的数值")})
    if number >= MAX_TARGET or number != number.quantize(Decimal("0.0001")):
        raise ValidationError({"value": _("目标值过大或小数位超过4位")})
    target = Target.objects.filter(code=code, year=year).first()
    before = {"value": str(target.value.normalize()), "note": target.note} if target else {}
    if target is None:
        target = Target(code=code, year=year)
    target.value = number
    target.note = note.strip()
    target.save()
    after = {"value": str(number.normalize()), "note": target.note}
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.UPDATE if before else audit.AuditEntry.Action.CREATE,
        obj=target,
        changes=audit.diff(before, after),
        batch=batch,
    )
    return target


def lineage_export_record(*, code: str, scope: Scope, acting_user: Any) -> None:
    """The audit row for handing out an indicator's lineage (every enterprise behind the value
    with its figures), as .xlsx or over the API."""
    indicator = indicator_by_code(code)
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.EXPORT,
        model="indicators.indicator",
        object_id=code,
        object_repr=f"{indicator.name if indicator else code} {scope.year}",
        changes={"scope": [None, f"{scope.year}-{scope.month or ''} {scope.basis}"]},
    )
