"""Report forms: the fill-in form built from a report form's fields, reasons, periods, filters.

Values are taken as typed (full-width digits, thousands separators …): checks.parse_entered
reads them and checks.check says what is wrong, so the fill-in form itself refuses nothing and
never loses what the user typed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gaoxin.registry.forms import ChineseForm
from gaoxin.reports.models import ReportField, ReportStatus

VALUE_PREFIX = "f_"
MAX_VALUE_LENGTH = 60


# --- How values are typed and shown ------------------------------------------------------------


def plain(value: Any) -> str:
    """A value in form units as the input shows it: 1234.5, 是/否, text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def pretty(value: Any) -> str:
    """A value in form units for reading: 1,234.5, 是/否, text; "—" when there is none."""
    if value is None or value == "":
        return "—"
    if isinstance(value, Decimal):
        return format(value.normalize(), ",f")
    return plain(value)


# --- Filling in ---------------------------------------------------------------------------------


class ReportValuesForm(forms.Form):
    """One text input per report field (a yes/no select for booleans), plus the explanation."""

    explanation = forms.CharField(
        label=gettext_lazy("情况说明"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("数据波动较大时,请说明原因(如新产线投产、订单变化)"),
    )

    def __init__(self, *args: Any, report_fields: list[ReportField], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.report_fields = report_fields
        for f in report_fields:
            attrs: dict[str, Any] = {"autocomplete": "off", "class": "report-value"}
            if f.kind == ReportField.Kind.BOOLEAN:
                widget: forms.Widget = forms.Select(
                    choices=[("", _("请选择")), ("是", _("是")), ("否", _("否"))], attrs=attrs
                )
            else:
                if f.is_number:
                    attrs["inputmode"] = "decimal"
                widget = forms.TextInput(attrs=attrs)
            self.fields[self.name_for(f)] = forms.CharField(
                label=f.label,
                required=False,
                max_length=MAX_VALUE_LENGTH,
                help_text=f.help_text,
                widget=widget,
            )

    @staticmethod
    def name_for(field: ReportField) -> str:
        return VALUE_PREFIX + field.key

    def entered(self) -> dict[str, str]:
        """What was typed, keyed by field key (whatever the form validation thought of it)."""
        return {
            f.key: (self.data.get(self.name_for(f)) or "")[: MAX_VALUE_LENGTH * 2]
            for f in self.report_fields
        }

    def explanation_text(self) -> str | None:
        """None when the explanation was not sent at all: the saved one is then kept."""
        if "explanation" not in self.data:
            return None
        return str(self.data.get("explanation", ""))[:2000]


def initial_values(report_fields: list[ReportField], shown: dict[str, Any]) -> dict[str, str]:
    """The fill-in form's initial data from values in form units (see selectors.in_form_units)."""
    return {ReportValuesForm.name_for(f): plain(shown.get(f.key)) for f in report_fields}


class ReturnForm(ChineseForm):
    reason = forms.CharField(
        label=gettext_lazy("退回原因"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("企业将看到此原因,请写明需要修改之处"),
    )


class CorrectForm(ChineseForm):
    reason = forms.CharField(
        label=gettext_lazy("更正原因"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("说明哪些数据有误、为什么更正;更正后需重新报送审核"),
    )


# --- Periods ------------------------------------------------------------------------------------


class PeriodForm(ChineseForm):
    form_code = forms.ChoiceField(label=gettext_lazy("报表"))
    year = forms.IntegerField(label=gettext_lazy("年份"), min_value=2000, max_value=2100)
    month = forms.TypedChoiceField(
        label=gettext_lazy("月份"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=gettext_lazy("年报不选月份"),
    )
    due_on = forms.DateField(label=gettext_lazy("报送截止日"))

    def __init__(self, *args: Any, form_names: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["form_code"].choices = [
            (code, f"{name}({code})") for code, name in form_names.items()
        ]
        self.fields["month"].choices = [("", _("(年报)"))] + [
            (str(m), _("%(m)s月") % {"m": m}) for m in range(1, 13)
        ]
        self.fields["year"].error_messages["min_value"] = _("年份应在2000至2100之间")
        self.fields["year"].error_messages["max_value"] = _("年份应在2000至2100之间")
        if not self.is_bound:
            self.initial.setdefault("year", timezone.localdate().year)

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "form_code": data["form_code"],
            "year": data["year"],
            "month": data["month"],
            "due_on": data["due_on"],
        }


# --- Worklist filter ----------------------------------------------------------------------------


def status_choices() -> list[tuple[str, str]]:
    return (
        [("", _("全部"))]
        + [(s.value, str(s.label)) for s in ReportStatus]
        + [("late", _("逾期未报"))]
    )


def due_label(due_on: dt.date, today: dt.date) -> str:
    days = (due_on - today).days
    if days < 0:
        return _("已过截止日 %(n)s 天") % {"n": -days}
    if days == 0:
        return _("今天截止")
    return _("还有 %(n)s 天截止") % {"n": days}
