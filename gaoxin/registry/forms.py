"""Registry forms: parse and explain input in Chinese; the services do the writing.

The same forms validate the pages and the JSON API, so a rule is stated once and a user gets
the same message from either. Forms are plain `forms.Form`s (not ModelForms) on purpose: a
ModelForm changes the instance while validating, and the services diff "before" against "after".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.forms.models import model_to_dict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gaoxin.core.validators import normalise_code, uscc_error
from gaoxin.registry.models import (
    EmergingCategory,
    Enterprise,
    Grid,
    IndustryCategory,
    IndustryChain,
    Qualification,
)
from gaoxin.registry.selectors import ENTERPRISE_SORTS
from gaoxin.registry.services import (
    CHAIN_FIELDS,
    ENTERPRISE_SELF_SERVICE_FIELDS,
    QUALIFICATION_FIELDS,
)

_INDUSTRY_CODE = re.compile(r"^(?P<letter>[A-Z]?)(?P<digits>\d{0,4})$")


class ChineseForm(forms.Form):
    """Required-field messages that name the field, and a helper to show service errors."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.error_messages["required"] = _("请填写“%(label)s”") % {"label": field.label}
            if isinstance(field, forms.DateField):
                field.error_messages["invalid"] = _("“%(label)s”不是有效日期,格式如 2019-12-31") % {
                    "label": field.label
                }
                field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
                field.widget.is_required = field.required
            if isinstance(field, forms.DecimalField | forms.IntegerField):
                field.error_messages["invalid"] = _("“%(label)s”应为数字") % {"label": field.label}

    def add_service_errors(self, exc: ValidationError) -> None:
        """Puts a service's ValidationError on the matching fields (or on the whole form)."""
        if hasattr(exc, "error_dict"):
            for name, errors in exc.error_dict.items():
                target = name if name in self.fields else None
                for error in errors:
                    self.add_error(target, error)
        else:
            self.add_error(None, exc)

    def error_list(self) -> list[dict[str, str]]:
        """[{"field": ..., "message": ...}] — the API's error shape."""
        out: list[dict[str, str]] = []
        for name, errors in self.errors.items():
            field = name if name != NON_FIELD_ERRORS else "__all__"
            out.extend({"field": field, "message": str(message)} for message in errors)
        return out


class IndustryCodeField(forms.CharField):
    """A GB/T 4754-2017 code typed by a person: "3670", "C3670", "c 3670" or "3670 汽车…"."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> IndustryCategory | None:
        if isinstance(value, IndustryCategory):
            return value
        text = super().clean(value)
        if not text:
            return None
        raw = text.split()[0] if text.split() else text
        code = normalise_code(raw)
        shown = raw.strip()
        match = _INDUSTRY_CODE.match(code)
        if not match or not code:
            raise ValidationError(
                _("行业代码“%(code)s”格式不对:应为门类字母或2-4位数字,如 C 或 3670")
                % {"code": shown},
                code="invalid",
            )
        letter, digits = match["letter"], match["digits"]
        lookup = digits or letter
        industry = IndustryCategory.objects.filter(code=lookup).first()
        if industry is None:
            raise ValidationError(
                _("行业代码“%(code)s”不在《国民经济行业分类》(GB/T 4754-2017)中") % {"code": shown},
                code="unknown_industry",
            )
        if letter and digits and industry.section != letter:
            raise ValidationError(
                _("行业代码“%(code)s”的门类应为“%(section)s”(%(name)s)")
                % {"code": shown, "section": industry.section, "name": industry.name},
                code="section_mismatch",
            )
        return industry


def _former_names(value: str) -> str:
    parts = re.split(r"[;;\n\r,,、]+", value or "")
    return ";".join(p.strip() for p in parts if p.strip())


class EnterpriseForm(ChineseForm):
    """Everything staff with REGISTRY_EDIT may set on an enterprise."""

    uscc = forms.CharField(
        label=gettext_lazy("统一社会信用代码"),
        max_length=40,
        help_text=gettext_lazy("18位,GB 32100-2015,最后一位为校验码"),
    )
    name = forms.CharField(label=gettext_lazy("企业名称"), max_length=120)
    former_names = forms.CharField(
        label=gettext_lazy("曾用名"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("多个曾用名用分号或换行分隔"),
    )
    founded_on = forms.DateField(label=gettext_lazy("成立日期"), required=False)
    registered_capital = forms.DecimalField(
        label=gettext_lazy("注册资本(万元)"), required=False, max_digits=16, decimal_places=4
    )
    legal_representative = forms.CharField(
        label=gettext_lazy("法定代表人"), required=False, max_length=60
    )
    address = forms.CharField(label=gettext_lazy("注册地址"), required=False, max_length=200)
    industry = IndustryCodeField(
        label=gettext_lazy("行业代码"),
        required=False,
        help_text=gettext_lazy("《国民经济行业分类》代码,如 3670 或 C3670"),
    )
    sei_category = forms.ModelChoiceField(
        label=gettext_lazy("战略性新兴产业类别"),
        queryset=EmergingCategory.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("(无)"),
    )
    chain = forms.ModelChoiceField(
        label=gettext_lazy("产业链"),
        queryset=IndustryChain.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("(无)"),
    )
    chain_position = forms.ChoiceField(
        label=gettext_lazy("链上位置"),
        choices=[("", gettext_lazy("(无)")), *Enterprise.ChainPosition.choices],
        required=False,
    )
    grid = forms.ModelChoiceField(
        label=gettext_lazy("所在网格"),
        queryset=Grid.objects.all(),
        to_field_name="code",
        required=False,
        empty_label=gettext_lazy("(无)"),
    )
    status = forms.ChoiceField(label=gettext_lazy("企业状态"), choices=Enterprise.Status.choices)
    size = forms.ChoiceField(
        label=gettext_lazy("企业规模"),
        choices=[("", gettext_lazy("(未填)")), *Enterprise.Size.choices],
        required=False,
    )
    is_non_public = forms.BooleanField(label=gettext_lazy("非公有制企业"), required=False)
    contact_name = forms.CharField(label=gettext_lazy("联系人"), required=False, max_length=60)
    contact_phone = forms.CharField(label=gettext_lazy("联系电话"), required=False, max_length=30)
    description = forms.CharField(
        label=gettext_lazy("企业简介"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    sets_sei_status = True

    def __init__(
        self,
        *args: Any,
        instance: Enterprise | None = None,
        can_review: bool = False,
        **kwargs: Any,
    ) -> None:
        self.instance = instance
        self.can_review = can_review
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = enterprise_initial(instance)
        super().__init__(*args, **kwargs)
        allowed = self.field_names()
        for name in list(self.fields):
            if name not in allowed:
                del self.fields[name]
        if "industry" in self.fields and instance is not None and instance.industry is not None:
            self.fields["industry"].help_text = _("现为 %(code)s %(name)s") % {
                "code": instance.industry.code,
                "name": instance.industry.name,
            }

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(cls.base_fields)

    def clean_uscc(self) -> str:
        code = normalise_code(self.cleaned_data["uscc"])
        error = uscc_error(code)
        if error:
            raise ValidationError(error, code="invalid_uscc")
        clash = Enterprise.objects.filter(uscc=code)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        other = clash.first()
        if other is not None:
            raise ValidationError(
                _("统一社会信用代码“%(code)s”已被企业“%(name)s”使用")
                % {"code": code, "name": other.name},
                code="duplicate_uscc",
            )
        return code

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("请填写“企业名称”"), code="required")
        return name

    def clean_former_names(self) -> str:
        return _former_names(self.cleaned_data.get("former_names", ""))

    def clean_founded_on(self) -> dt.date | None:
        day = self.cleaned_data.get("founded_on")
        if day and day > timezone.localdate():
            raise ValidationError(
                _("成立日期%(day)s晚于今天,请核对") % {"day": day.isoformat()}, code="future"
            )
        return day

    def clean_registered_capital(self) -> Any:
        value = self.cleaned_data.get("registered_capital")
        if value is not None and value < 0:
            raise ValidationError(_("注册资本不能为负数"), code="negative")
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("chain_position") and not data.get("chain"):
            self.add_error("chain_position", _("填写链上位置前请先选择产业链"))
        if self.sets_sei_status and "sei_category" in data:
            # The review state follows the category: a new category is confirmed only when the
            # person entering it may review categories; otherwise it joins the review queue.
            new = data["sei_category"]
            old_id = self.instance.sei_category_id if self.instance is not None else None
            if new is None:
                data["sei_status"] = Enterprise.SeiStatus.NONE
            elif new.pk != old_id:
                data["sei_status"] = (
                    Enterprise.SeiStatus.CONFIRMED
                    if self.can_review
                    else Enterprise.SeiStatus.DECLARED
                )
        return data

    def service_data(self) -> dict[str, Any]:
        names = [*self.fields, "sei_status"] if self.sets_sei_status else list(self.fields)
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}


class EnterpriseSelfForm(EnterpriseForm):
    """What an enterprise user may change about their own enterprise. A changed category becomes
    a declaration in services.enterprise_self_update."""

    sets_sei_status = False

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return ENTERPRISE_SELF_SERVICE_FIELDS


def enterprise_initial(e: Enterprise) -> dict[str, Any]:
    """Form values for an existing enterprise (codes for reference data, as the API uses)."""
    return {
        "uscc": e.uscc,
        "name": e.name,
        "former_names": e.former_names,
        "founded_on": e.founded_on,
        "registered_capital": e.registered_capital,
        "legal_representative": e.legal_representative,
        "address": e.address,
        "industry": e.industry.code if e.industry_id and e.industry else "",
        "sei_category": e.sei_category.code if e.sei_category_id and e.sei_category else "",
        "chain": e.chain.code if e.chain_id and e.chain else "",
        "chain_position": e.chain_position,
        "grid": e.grid.code if e.grid_id and e.grid else "",
        "status": e.status,
        "size": e.size,
        "is_non_public": e.is_non_public,
        "contact_name": e.contact_name,
        "contact_phone": e.contact_phone,
        "description": e.description,
    }


class QualificationForm(ChineseForm):
    kind = forms.ChoiceField(label=gettext_lazy("资质类型"), choices=Qualification.Kind.choices)
    level = forms.ChoiceField(
        label=gettext_lazy("级别"),
        choices=[("", gettext_lazy("(无)")), *Qualification.Level.choices[1:]],
        required=False,
        help_text=gettext_lazy("专精特新、研发机构须选择级别"),
    )
    subtype = forms.CharField(
        label=gettext_lazy("机构类型"),
        required=False,
        max_length=40,
        help_text=gettext_lazy("研发机构必填,如 企业技术中心、工程技术研究中心、重点实验室"),
    )
    certificate_no = forms.CharField(label=gettext_lazy("证书编号"), required=False, max_length=60)
    recognised_on = forms.DateField(label=gettext_lazy("认定日期"))
    valid_until = forms.DateField(
        label=gettext_lazy("有效期至"),
        required=False,
        help_text=gettext_lazy("不填则按类型推算:高企3年,科技型中小企业和规上当年年底,其他3年"),
    )
    notes = forms.CharField(label=gettext_lazy("备注"), required=False, max_length=200)

    LEVEL_REQUIRED = (Qualification.Kind.SRDI, Qualification.Kind.RD_INSTITUTION)

    def __init__(
        self,
        *args: Any,
        instance: Qualification | None = None,
        enterprise: Enterprise | None = None,
        **kwargs: Any,
    ) -> None:
        self.instance = instance
        self.enterprise = instance.enterprise if instance is not None else enterprise
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = qualification_initial(instance)
        super().__init__(*args, **kwargs)

    def clean_recognised_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["recognised_on"]
        if day > timezone.localdate():
            raise ValidationError(
                _("认定日期%(day)s晚于今天,请核对") % {"day": day.isoformat()}, code="future"
            )
        return day

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind = data.get("kind")
        if kind == Qualification.Kind.RD_INSTITUTION and not (data.get("subtype") or "").strip():
            self.add_error("subtype", _("研发机构须填写机构类型(如企业技术中心)"))
        if kind in self.LEVEL_REQUIRED and not data.get("level"):
            self.add_error(
                "level",
                _("%(kind)s须选择级别") % {"kind": Qualification.Kind(kind).label},
            )
        start, end = data.get("recognised_on"), data.get("valid_until")
        if start and end and end < start:
            self.add_error(
                "valid_until",
                _("有效期至%(end)s早于认定日期%(start)s")
                % {"end": end.isoformat(), "start": start.isoformat()},
            )
        if kind and start:
            clash = Qualification.objects.filter(
                kind=kind, subtype=(data.get("subtype") or "").strip(), recognised_on=start
            )
            if self.enterprise is None:
                clash = clash.none()
            else:
                clash = clash.filter(enterprise=self.enterprise)
            if self.instance is not None:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("recognised_on", _("该企业在同一认定日期已有相同资质记录"))
        return data

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data.get(name) for name in self.fields}
        data["subtype"] = (data.get("subtype") or "").strip()
        if self.instance is not None and data.get("valid_until") is None:
            # An emptied end date is recomputed from the kind, as for a new record.
            from gaoxin.registry.rules import default_valid_until

            data["valid_until"] = default_valid_until(
                str(data["kind"]), self.cleaned_data["recognised_on"]
            )
        return data


def qualification_initial(q: Qualification) -> dict[str, Any]:
    return model_to_dict(q, fields=QUALIFICATION_FIELDS)


class ChainForm(ChineseForm):
    code = forms.SlugField(
        label=gettext_lazy("代码"),
        max_length=30,
        help_text=gettext_lazy("英文字母、数字、连字符,如 auto-parts"),
        error_messages={"invalid": gettext_lazy("代码只能包含英文字母、数字、连字符和下划线")},
    )
    name = forms.CharField(label=gettext_lazy("名称"), max_length=60)
    group = forms.ChoiceField(label=gettext_lazy("板块"), choices=IndustryChain.Group.choices)
    description = forms.CharField(
        label=gettext_lazy("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    sort_order = forms.IntegerField(
        label=gettext_lazy("排序"), min_value=0, max_value=32767, initial=0
    )
    is_active = forms.BooleanField(label=gettext_lazy("启用"), required=False, initial=True)

    def __init__(self, *args: Any, instance: IndustryChain | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = chain_initial(instance)
        super().__init__(*args, **kwargs)

    def _unique(self, field: str) -> str:
        value: str = self.cleaned_data[field].strip()
        clash = IndustryChain.objects.filter(**{field: value})
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError(
                _("已有%(label)s为“%(value)s”的产业链")
                % {"label": self.fields[field].label, "value": value},
                code="unique",
            )
        return value

    def clean_code(self) -> str:
        return self._unique("code")

    def clean_name(self) -> str:
        return self._unique("name")

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


def chain_initial(c: IndustryChain) -> dict[str, Any]:
    return model_to_dict(c, fields=CHAIN_FIELDS)


class SeiReviewForm(ChineseForm):
    decision = forms.ChoiceField(
        label=gettext_lazy("审核结论"),
        choices=[
            (Enterprise.SeiStatus.CONFIRMED, gettext_lazy("确认")),
            (Enterprise.SeiStatus.REJECTED, gettext_lazy("退回")),
        ],
    )
    reason = forms.CharField(label=gettext_lazy("审核意见"), required=False, max_length=500)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("decision") == Enterprise.SeiStatus.REJECTED and not data.get("reason"):
            self.add_error("reason", _("退回时请填写原因"))
        return data


SORT_LABELS = {
    "name": gettext_lazy("名称"),
    "uscc": gettext_lazy("信用代码"),
    "founded_on": gettext_lazy("成立日期"),
    "registered_capital": gettext_lazy("注册资本"),
    "updated_at": gettext_lazy("更新时间"),
}


def _pick(label: Any, choices: list[tuple[str, Any]] | None = None) -> forms.CharField:
    """A select that never fails validation: an unknown value simply matches no enterprise."""
    return forms.CharField(label=label, required=False, widget=forms.Select(choices=choices or []))


class EnterpriseFilterForm(forms.Form):
    """Renders the list page's filters. Filtering itself is selectors.enterprise_filter, which
    also accepts chain and grid codes (the selects use ids, as links from the home page do)."""

    q = forms.CharField(
        label=gettext_lazy("搜索"),
        required=False,
        widget=forms.TextInput(
            attrs={
                "placeholder": gettext_lazy("名称、曾用名、信用代码或拼音首字母"),
                "type": "search",
            }
        ),
    )
    industry = _pick(gettext_lazy("行业"))
    sei = _pick(gettext_lazy("战新类别"))
    chain = _pick(gettext_lazy("产业链"))
    qualification = _pick(
        gettext_lazy("持有资质"), [("", gettext_lazy("全部")), *Qualification.Kind.choices]
    )
    on = forms.DateField(
        label=gettext_lazy("资质有效日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("日期无效,格式如 2019-12-31;已按今天查询")},
    )
    size = _pick(gettext_lazy("规模"), [("", gettext_lazy("全部")), *Enterprise.Size.choices])
    status = _pick(gettext_lazy("状态"), [("", gettext_lazy("全部")), *Enterprise.Status.choices])
    street = _pick(gettext_lazy("街道/片区"))
    grid = _pick(gettext_lazy("网格"))
    sort = _pick(gettext_lazy("排序"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything = [("", _("全部"))]
        industries = IndustryCategory.objects.filter(level__lte=IndustryCategory.Level.DIVISION)
        sections: dict[str, list[tuple[str, str]]] = {}
        titles: dict[str, str] = {}
        for i in sorted(industries, key=lambda i: (i.section, i.level, i.code)):
            if i.level == IndustryCategory.Level.SECTION:
                titles[i.section] = f"{i.code} {i.name}"
                sections.setdefault(i.section, []).insert(
                    0, (i.code, _("%(code)s 整个门类") % {"code": i.code})
                )
            else:
                sections.setdefault(i.section, []).append((i.code, f"{i.code} {i.name}"))
        self.fields["industry"].widget.choices = everything + [
            (titles.get(section, section), options) for section, options in sections.items()
        ]
        self.fields["sei"].widget.choices = everything + [
            (c.code, f"{c.code} {c.name}") for c in EmergingCategory.objects.all()
        ]
        chains = list(IndustryChain.objects.all())
        self.fields["chain"].widget.choices = everything + [
            (str(c.pk), c.name if c.is_active else f"{c.name}({_('停用')})") for c in chains
        ]
        grids = list(Grid.objects.all())
        self.fields["grid"].widget.choices = everything + [(str(g.pk), g.name) for g in grids]
        streets = sorted({g.street for g in grids})
        self.fields["street"].widget.choices = everything + [(s, s) for s in streets]
        self.fields["sort"].widget.choices = [
            (f"{sign}{key}", _("%(f)s %(d)s") % {"f": SORT_LABELS[key], "d": direction})
            for key in ENTERPRISE_SORTS
            for sign, direction in (("", _("升序")), ("-", _("降序")))
        ]
        if self.is_bound:
            # Show ?chain=auto-parts as the selected option, like ?chain=3.
            data = dict(self.data.items())
            for name, objects in (("chain", chains), ("grid", grids)):
                value = data.get(name, "")
                match = next((o for o in objects if o.code == value), None)
                if match is not None:
                    data[name] = str(match.pk)
            self.data = data
