"""Validation of a report's values: hard checks block submission, soft checks need a written
explanation. One function per rule; each finding names the field and says what is wrong."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from gaoxin.reports.models import UNIT_FACTOR, ReportField

HARD = "hard"
SOFT = "soft"
YEAR_ON_YEAR_LIMIT = Decimal("0.5")  # more than ±50 % against the same period last year
EMPLOYEES_LIMIT = Decimal("0.3")  # more than ±30 % against the previous period
YTD_TOLERANCE = Decimal("0.005")


@dataclass(frozen=True)
class Finding:
    field: str
    level: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class NotANumber(ValueError):
    pass


class TooLarge(ValueError):
    pass


# 10^16 元 (a hundred million 亿): more than any enterprise reports, within every column.
MAX_VALUE = Decimal(10) ** 16


def parse_entered(field: ReportField, raw: Any) -> Any:
    """A value as typed (full-width digits, thousands separators, blanks) to its canonical
    stored form: money in 元 as a Decimal, integers as int, text as str, booleans as bool.
    None when blank. Raises NotANumber for text in a number field."""
    if raw is None:
        return None
    if field.kind == ReportField.Kind.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip()
        if not text:
            return None
        if text in ("是", "有", "1", "true", "True", "Y", "y", "yes"):
            return True
        if text in ("否", "无", "0", "false", "False", "N", "n", "no"):
            return False
        raise NotANumber(text)
    if field.kind == ReportField.Kind.TEXT:
        text = str(raw).strip()
        return text or None
    if isinstance(raw, int | Decimal) and not isinstance(raw, bool):
        number = Decimal(raw)
    else:
        # NFKC turns full-width digits, signs and separators (１２，３４５．６) into ASCII.
        text = unicodedata.normalize("NFKC", str(raw)).strip()
        text = text.replace(",", "").replace(" ", "")
        if not text:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation as exc:
            raise NotANumber(text) from exc
        if not number.is_finite():
            raise NotANumber(text)
    try:
        value = number * field.factor
        if abs(value) >= MAX_VALUE:
            raise TooLarge(str(raw))
        if field.unit in UNIT_FACTOR and value != value.to_integral():
            return value.quantize(Decimal("0.01"))  # money in 元 is kept to the fen
        return value
    except ArithmeticError as exc:  # an exponent no Decimal context can hold
        raise TooLarge(str(raw)) from exc


def canonical_text(value: Any) -> Any:
    """How a parsed value is kept in JSON: decimals as plain text, other values as they are."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def as_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def shown(field: ReportField, stored: Decimal) -> str:
    """A stored value in the unit the form shows, for messages."""
    value = (stored / field.factor).normalize()
    text = format(value, ",f")
    unit = field.get_unit_display() if field.unit not in ("none", "") else ""
    return f"{text}{unit}"


def check(
    fields: Iterable[ReportField],
    entered: Mapping[str, Any],
    *,
    last_year: Mapping[str, Any] | None = None,
    last_period: Mapping[str, Any] | None = None,
    last_period_same_year: bool = False,
) -> tuple[dict[str, Any], list[Finding]]:
    """Parses the entered values and checks them. Returns (canonical values, findings)."""
    fields = list(fields)
    by_key = {f.key: f for f in fields}
    values: dict[str, Any] = {}
    findings: list[Finding] = []
    for f in fields:
        try:
            value = parse_entered(f, entered.get(f.key))
        except TooLarge:
            findings.append(
                Finding(
                    f.key,
                    HARD,
                    "too_large",
                    _("“%(field)s”数值过大,请核对单位") % {"field": f.label},
                )
            )
            continue
        except NotANumber as exc:
            findings.append(
                Finding(
                    f.key,
                    HARD,
                    "not_a_number",
                    _("“%(field)s”应填数值,“%(value)s”不是数值")
                    % {"field": f.label, "value": str(exc)[:40]},
                )
            )
            continue
        if value is None:
            if f.required:
                findings.append(
                    Finding(f.key, HARD, "required", _("“%(field)s”必须填写") % {"field": f.label})
                )
            continue
        if f.is_number:
            if f.non_negative and value < 0:
                findings.append(
                    Finding(
                        f.key, HARD, "negative", _("“%(field)s”不能为负数") % {"field": f.label}
                    )
                )
            if f.kind == ReportField.Kind.INTEGER and value != value.to_integral():
                findings.append(
                    Finding(
                        f.key, HARD, "not_integer", _("“%(field)s”应为整数") % {"field": f.label}
                    )
                )
        values[f.key] = canonical_text(value)
    findings += _cross_field(by_key, values)
    findings += _against_history(
        by_key, values, last_year or {}, last_period or {}, last_period_same_year
    )
    return values, findings


# (part, whole, finding code): a part may not exceed its whole. The bulk import applies the same
# rules, vectorised (reports.importers).
NOT_ABOVE = (
    ("rd_spend", "revenue", "rd_above_revenue"),
    ("new_product_output", "gross_output", "new_product_above_output"),
    ("gross_output", "gross_output_ytd", "month_above_ytd"),
)


def not_above_message(part: ReportField, whole: ReportField) -> str:
    return _("“%(a)s”不能大于“%(b)s”") % {"a": part.label, "b": whole.label}


def _cross_field(by_key: Mapping[str, ReportField], values: Mapping[str, Any]) -> list[Finding]:
    out: list[Finding] = []
    for part, whole, code in NOT_ABOVE:
        if part not in by_key or whole not in by_key:
            continue
        a, b = as_decimal(values.get(part)), as_decimal(values.get(whole))
        if a is not None and b is not None and a > b:
            out.append(Finding(part, HARD, code, not_above_message(by_key[part], by_key[whole])))
    return out


def _change(now: Decimal, before: Decimal) -> Decimal | None:
    if before == 0:
        return None
    return (now - before) / abs(before)


def _against_history(
    by_key: Mapping[str, ReportField],
    values: Mapping[str, Any],
    last_year: Mapping[str, Any],
    last_period: Mapping[str, Any],
    same_year: bool,
) -> list[Finding]:
    out: list[Finding] = []
    for key, f in by_key.items():
        if not f.is_number or key.endswith("_ytd") or key == "employees":
            continue
        now, before = as_decimal(values.get(key)), as_decimal(last_year.get(key))
        if now is None or before is None:
            continue
        change = _change(now, before)
        if change is not None and abs(change) > YEAR_ON_YEAR_LIMIT:
            out.append(
                Finding(
                    key,
                    SOFT,
                    "year_on_year",
                    _("“%(field)s”比上年同期变化 %(pct)s%%(上年同期 %(before)s),请说明原因")
                    % {"field": f.label, "pct": f"{change * 100:+.1f}", "before": shown(f, before)},
                )
            )
    if "employees" in by_key:
        now, before = as_decimal(values.get("employees")), as_decimal(last_period.get("employees"))
        if now is not None and before is not None:
            change = _change(now, before)
            if change is not None and abs(change) > EMPLOYEES_LIMIT:
                out.append(
                    Finding(
                        "employees",
                        SOFT,
                        "employees_change",
                        _("“%(field)s”比上期变化 %(pct)s%%(上期 %(before)s),请说明原因")
                        % {
                            "field": by_key["employees"].label,
                            "pct": f"{change * 100:+.1f}",
                            "before": shown(by_key["employees"], before),
                        },
                    )
                )
    if "gross_output_ytd" in by_key and "gross_output" in by_key:
        ytd = as_decimal(values.get("gross_output_ytd"))
        month = as_decimal(values.get("gross_output"))
        previous = as_decimal(last_period.get("gross_output_ytd")) if same_year else Decimal(0)
        if ytd is not None and month is not None and previous is not None:
            expected = previous + month
            if expected and abs(ytd - expected) > abs(expected) * YTD_TOLERANCE:
                f = by_key["gross_output_ytd"]
                out.append(
                    Finding(
                        "gross_output_ytd",
                        SOFT,
                        "ytd_mismatch",
                        _("“%(field)s”应约等于上月累计加本月(%(expected)s),请核对或说明原因")
                        % {"field": f.label, "expected": shown(f, expected)},
                    )
                )
    return out


def has_hard(findings: Iterable[Finding | Mapping[str, Any]]) -> bool:
    return any((f.level if isinstance(f, Finding) else f.get("level")) == HARD for f in findings)


def has_soft(findings: Iterable[Finding | Mapping[str, Any]]) -> bool:
    return any((f.level if isinstance(f, Finding) else f.get("level")) == SOFT for f in findings)
