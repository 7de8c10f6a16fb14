"""Writes for policy funds. Each service validates, writes in one transaction and leaves an
audit row."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gaoxin.core import audit
from gaoxin.policies.measures import SHIPPED, MeasureSpec
from gaoxin.policies.models import (
    InterestPayment,
    Loan,
    Measure,
    MeasureBudget,
    MeasureVersion,
    Policy,
)
from gaoxin.policies.services import ledger
from gaoxin.policies.services.files import checked_upload
from gaoxin.registry.models import Enterprise

LOAN_FIELDS = (
    "bank",
    "contract_no",
    "principal_fen",
    "annual_rate_bp",
    "start_on",
    "end_on",
    "notes",
)


@transaction.atomic
def loan_register(
    *,
    enterprise: Enterprise,
    bank: str,
    contract_no: str,
    principal_fen: int,
    annual_rate_bp: int,
    start_on: dt.date,
    end_on: dt.date,
    notes: str = "",
    acting_user: Any,
) -> Loan:
    """Registers a loan once per bank and contract number; refuses a non-positive amount, a
    rate outside 0-36% and an end before the start, naming the field."""
    errors: dict[str, str] = {}
    if not bank.strip():
        errors["bank"] = _("请填写贷款银行")
    if not contract_no.strip():
        errors["contract_no"] = _("请填写合同编号")
    if principal_fen <= 0:
        errors["principal_fen"] = _("贷款金额应大于0")
    if not 0 < annual_rate_bp <= 3600:
        errors["annual_rate_bp"] = _("年利率应在0%到36%之间")
    if end_on <= start_on:
        errors["end_on"] = _("到期日期应晚于放款日期")
    if errors:
        raise ValidationError(errors)
    loan = Loan(
        enterprise=enterprise,
        bank=bank.strip(),
        contract_no=contract_no.strip(),
        principal_fen=principal_fen,
        annual_rate_bp=annual_rate_bp,
        start_on=start_on,
        end_on=end_on,
        notes=notes.strip(),
    )
    try:
        with transaction.atomic():
            loan.save()
    except IntegrityError as exc:
        raise ValidationError({"contract_no": _("该银行的这份贷款合同已登记")}) from exc
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=loan,
        changes=audit.diff({}, audit.snapshot(loan, LOAN_FIELDS)),
        enterprise_id=enterprise.pk,
    )
    return loan


@transaction.atomic
def interest_payment_record(
    *, loan: Loan, paid_on: dt.date, amount_fen: int, acting_user: Any
) -> tuple[InterestPayment, bool]:
    """Records the interest paid on a loan on a date. The same payment entered again changes
    nothing and returns (payment, False); a different amount for the same date is refused."""
    if amount_fen <= 0:
        raise ValidationError({"amount_fen": _("付息金额应大于0")})
    if not loan.start_on <= paid_on <= loan.end_on + dt.timedelta(days=31):
        raise ValidationError({"paid_on": _("付息日期不在贷款期限内")})
    existing = InterestPayment.objects.filter(loan=loan, paid_on=paid_on).first()
    if existing is not None:
        if existing.amount_fen != amount_fen:
            raise ValidationError(
                {"amount_fen": _("该笔贷款在这一天已有不同金额的付息记录,请核对")}
            )
        return existing, False
    payment = InterestPayment.objects.create(loan=loan, paid_on=paid_on, amount_fen=amount_fen)
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=payment,
        changes={"paid_on": [None, paid_on.isoformat()], "amount_fen": [None, amount_fen]},
        enterprise_id=loan.enterprise_id,
    )
    return payment, True


# --- policies, measures, budgets ------------------------------------------------------------

POLICY_FIELDS = ("title", "issuer", "doc_number", "effective_from", "effective_to", "full_text")


@transaction.atomic
def policy_create(*, data: dict[str, Any], acting_user: Any) -> Policy:
    """Creates a draft policy; the title, issuer and start date are required."""
    policy = Policy(**{k: v for k, v in data.items() if k in POLICY_FIELDS})
    errors: dict[str, str] = {}
    if not (policy.title or "").strip():
        errors["title"] = _("请填写政策名称")
    if not (policy.issuer or "").strip():
        errors["issuer"] = _("请填写发文机关")
    if policy.effective_from is None:
        errors["effective_from"] = _("请填写施行日期")
    elif policy.effective_to is not None and policy.effective_to < policy.effective_from:
        errors["effective_to"] = _("截止日期不能早于施行日期")
    if errors:
        raise ValidationError(errors)
    policy.save()
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=policy,
        changes=audit.diff({}, audit.snapshot(policy, POLICY_FIELDS)),
    )
    return policy


def _checked_params(spec: MeasureSpec, given: dict[str, Any]) -> dict[str, int]:
    """The spec's defaults overridden by `given`; every value a whole number ≥ 0."""
    params = dict(spec.defaults)
    errors: dict[str, str] = {}
    for key, value in given.items():
        if key not in spec.defaults:
            errors[key] = _("该条款没有参数“%(key)s”") % {"key": key}
            continue
        try:
            number = int(str(value).strip())
        except ValueError:
            errors[key] = _("“%(value)s”不是整数") % {"value": value}
            continue
        if number < 0:
            errors[key] = _("参数不能为负数")
            continue
        params[key] = number
    if not errors and "min_fen" in params and params["min_fen"] > params["max_fen"]:
        errors["min_fen"] = _("区间下限不能高于上限")
    if errors:
        raise ValidationError(errors)
    return params


@transaction.atomic
def measure_add(
    *,
    policy: Policy,
    code: str,
    params: dict[str, Any] | None = None,
    cap_fen: int | None = None,
    acting_user: Any,
) -> Measure:
    """Adds one of the shipped measures to a policy, with version 1 of its rule and parameters.
    A measure type appears once per policy."""
    spec = SHIPPED.get(code)
    if spec is None:
        raise ValidationError({"code": _("没有这种条款类型")})
    if policy.measures.filter(code=code).exists():
        raise ValidationError({"code": _("本政策已有这一条款")})
    if cap_fen is not None and cap_fen <= 0:
        raise ValidationError({"cap_fen": _("上限应大于0;不设上限请留空")})
    checked = _checked_params(spec, params or {})
    measure = Measure.objects.create(
        policy=policy,
        code=code,
        name=str(spec.name),
        cap_fen=cap_fen,
        order=policy.measures.count(),
    )
    version = _new_version(measure, spec, checked)
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=measure,
        changes={
            "code": [None, code],
            "cap_fen": [None, cap_fen],
            "params": [None, checked],
            "version": [None, version.version],
        },
    )
    return measure


def _new_version(measure: Measure, spec: MeasureSpec, params: dict[str, int]) -> MeasureVersion:
    last = measure.versions.order_by("-number").first()
    return MeasureVersion.objects.create(
        measure=measure,
        number=(last.number + 1) if last else 1,
        rule=spec.rule.to_json(),
        params=params,
        version=spec.rule.version(params),
    )


@transaction.atomic
def measure_params_set(
    *, measure: Measure, params: dict[str, Any], acting_user: Any
) -> MeasureVersion:
    """Writes a new version when the parameters change (earlier versions, and decisions made
    with them, stay as they were); returns the current version."""
    spec = SHIPPED[measure.code]
    current = measure.current()
    checked = _checked_params(spec, {**current.params, **params})
    if checked == current.params and current.rule == spec.rule.to_json():
        return current
    version = _new_version(measure, spec, checked)
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.UPDATE,
        obj=measure,
        changes={
            "params": [current.params, checked],
            "version": [current.version, version.version],
        },
    )
    return version


@transaction.atomic
def budget_set(
    *,
    measure: Measure,
    year: int,
    amount_fen: int,
    acting_user: Any,
    posted_on: dt.date | None = None,
) -> MeasureBudget:
    """Sets a measure's budget for a year (0 or more) and posts the change to the ledger
    (appropriation → available). Refuses to cut it below what is approved or paid."""
    if amount_fen < 0:
        raise ValidationError({"amount_fen": _("预算不能为负数")})
    if not 2000 <= year <= 2100:
        raise ValidationError({"year": _("年度应在2000到2100之间")})
    budget, created = MeasureBudget.objects.get_or_create(
        measure=measure, year=year, defaults={"amount_fen": 0}
    )
    budget = ledger.lock_budget(measure, year)
    before = budget.amount_fen
    if not created and before == amount_fen:
        return budget
    budget.amount_fen = amount_fen
    budget.save(update_fields=["amount_fen"])
    ledger.budget_post(
        budget=budget,
        before_fen=before,
        posted_on=posted_on or timezone.localdate(),
        acting_user=acting_user,
    )
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE if created else audit.AuditEntry.Action.UPDATE,
        obj=budget,
        changes={"amount_fen": [None if created else before, amount_fen]},
    )
    return budget


DOCUMENT_TYPES = {".pdf", ".doc", ".docx", ".ofd", ".jpg", ".jpeg", ".png"}


@transaction.atomic
def policy_attach_document(
    *, policy: Policy, upload: UploadedFile[bytes], acting_user: Any
) -> Policy:
    """Stores the policy's issued document (PDF, Word, OFD or a scan, at most 20 MB),
    replacing an earlier one; the old file stays in storage, the audit row names both."""
    name = checked_upload(
        upload, field="document", suffixes=DOCUMENT_TYPES, kinds=_("PDF、Word、OFD或图片")
    )
    before = policy.document.name or None
    policy.document.save(name, upload, save=False)
    policy.save(update_fields=["document", "updated_at"])
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.UPDATE,
        obj=policy,
        changes={"document": [before, policy.document.name]},
    )
    return policy


# --- the policy's own status ------------------------------------------------------------------

POLICY_TRANSITIONS: dict[str, set[str]] = {
    Policy.Status.DRAFT: {Policy.Status.PUBLISHED},
    Policy.Status.PUBLISHED: {Policy.Status.WITHDRAWN},
    Policy.Status.WITHDRAWN: set(),
}


@transaction.atomic
def policy_set_status(*, policy: Policy, status: str, acting_user: Any) -> Policy:
    """Publishes a draft (it needs at least one measure) or withdraws a published policy. The
    change is a conditional UPDATE on the status the page showed, so two people pressing at
    once change it once."""
    if status not in POLICY_TRANSITIONS.get(policy.status, set()):
        raise ValidationError(
            {
                "status": _("政策当前为“%(now)s”,不能改为“%(to)s”")
                % {"now": policy.get_status_display(), "to": Policy.Status(status).label}
            }
        )
    if status == Policy.Status.PUBLISHED and not policy.measures.exists():
        raise ValidationError({"status": _("请先添加至少一项条款再发布")})
    touched = Policy.objects.filter(pk=policy.pk, status=policy.status).update(status=status)
    if touched != 1:
        raise ValidationError({"status": _("政策状态已被他人修改,请刷新后重试")})
    before = policy.status
    policy.refresh_from_db()
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.UPDATE,
        obj=policy,
        changes={"status": [before, status]},
    )
    return policy
