"""Writes to the registry. Each service validates, writes atomically and leaves audit rows."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from gaoxin.core import audit
from gaoxin.core.text import pinyin_initials
from gaoxin.core.validators import normalise_code, uscc_error
from gaoxin.registry.models import Enterprise, IndustryChain, Qualification
from gaoxin.registry.rules import default_valid_until

ENTERPRISE_FIELDS = (
    "uscc",
    "name",
    "former_names",
    "founded_on",
    "registered_capital",
    "legal_representative",
    "address",
    "industry",
    "sei_category",
    "sei_status",
    "chain",
    "chain_position",
    "grid",
    "status",
    "size",
    "is_non_public",
    "contact_name",
    "contact_phone",
    "description",
)
AUDITED_ENTERPRISE_FIELDS = (*ENTERPRISE_FIELDS, "name_initials")


def _clean_enterprise(enterprise: Enterprise) -> None:
    enterprise.uscc = normalise_code(enterprise.uscc)
    error = uscc_error(enterprise.uscc)
    if error:
        raise ValidationError({"uscc": error})
    enterprise.name = enterprise.name.strip()
    if not enterprise.name:
        raise ValidationError({"name": _("企业名称不能为空")})
    enterprise.former_names = ";".join(
        n.strip() for n in enterprise.former_names.replace(";", ";").split(";") if n.strip()
    )
    enterprise.name_initials = pinyin_initials(enterprise.name)
    if enterprise.founded_on and enterprise.founded_on > timezone.localdate():
        raise ValidationError({"founded_on": _("成立日期不能晚于今天")})
    if enterprise.registered_capital is not None and enterprise.registered_capital < 0:
        raise ValidationError({"registered_capital": _("注册资本不能为负数")})
    enterprise.full_clean(exclude=["industry", "sei_category", "chain", "grid"])


@transaction.atomic
def enterprise_create(*, data: Mapping[str, Any], acting_user: Any) -> Enterprise:
    """Creates an enterprise with a valid, unique USCC and leaves one audit row."""
    enterprise = Enterprise(**{k: v for k, v in data.items() if k in ENTERPRISE_FIELDS})
    _clean_enterprise(enterprise)
    enterprise.save()
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=enterprise,
        changes=audit.diff({}, audit.snapshot(enterprise, AUDITED_ENTERPRISE_FIELDS)),
        enterprise_id=enterprise.pk,
    )
    return enterprise


@transaction.atomic
def enterprise_update(
    *, enterprise: Enterprise, data: Mapping[str, Any], acting_user: Any
) -> Enterprise:
    """Applies changed fields only; records old and new values; no audit row if nothing changed."""
    before = audit.snapshot(enterprise, AUDITED_ENTERPRISE_FIELDS)
    for key, value in data.items():
        if key in ENTERPRISE_FIELDS:
            setattr(enterprise, key, value)
    _clean_enterprise(enterprise)
    after = audit.snapshot(enterprise, AUDITED_ENTERPRISE_FIELDS)
    changes = audit.diff(before, after)
    if not changes:
        return enterprise
    enterprise.save(update_fields=[*changes.keys(), "updated_at"])
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.UPDATE,
        obj=enterprise,
        changes=changes,
        enterprise_id=enterprise.pk,
    )
    return enterprise


@transaction.atomic
def enterprise_delete(*, enterprise: Enterprise, acting_user: Any) -> None:
    """Deletes an enterprise that nothing else refers to; the audit row keeps its last values.

    Records that must outlive the enterprise (user accounts, party organisations, later reports)
    protect it: the deletion is refused with a ValidationError naming what still refers to it.
    """
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.DELETE,
        obj=enterprise,
        changes=audit.diff(audit.snapshot(enterprise, AUDITED_ENTERPRISE_FIELDS), {}),
        enterprise_id=enterprise.pk,
    )
    # Qualifications go with the enterprise (CASCADE); each leaves its own delete row.
    audit.record_many(
        [
            _qualification_deleted(q, enterprise, acting_user)
            for q in enterprise.qualifications.all()
        ]
    )
    try:
        enterprise.delete()
    except (ProtectedError, RestrictedError) as exc:
        blocking = (
            exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        )
        counts = Counter(str(obj._meta.verbose_name) for obj in blocking)
        what = "、".join(f"{n} 个{label}" for label, n in sorted(counts.items()))
        raise ValidationError(
            _("不能删除:仍有%(what)s关联该企业,请先解除关联。") % {"what": what},
            code="protected",
        ) from exc


QUALIFICATION_FIELDS = (
    "kind",
    "level",
    "subtype",
    "certificate_no",
    "recognised_on",
    "valid_until",
    "notes",
)


def _clean_qualification(q: Qualification) -> None:
    if q.recognised_on and not q.valid_until:
        q.valid_until = default_valid_until(q.kind, q.recognised_on)
    if q.recognised_on and q.valid_until and q.valid_until < q.recognised_on:
        raise ValidationError({"valid_until": _("有效期至不能早于认定日期")})
    if q.kind == Qualification.Kind.RD_INSTITUTION and not q.subtype:
        raise ValidationError({"subtype": _("研发机构须填写机构类型(如企业技术中心)")})
    q.full_clean(exclude=["enterprise"], validate_constraints=False)
    clash = Qualification.objects.filter(
        enterprise_id=q.enterprise_id,
        kind=q.kind,
        subtype=q.subtype,
        recognised_on=q.recognised_on,
    ).exclude(pk=q.pk)
    if clash.exists():
        raise ValidationError(_("该企业在同一认定日期已有相同资质记录"))


@transaction.atomic
def qualification_create(
    *, enterprise: Enterprise, data: Mapping[str, Any], acting_user: Any
) -> Qualification:
    """Records a qualification; a missing end date defaults by kind (rules.default_valid_until)."""
    q = Qualification(
        enterprise=enterprise, **{k: v for k, v in data.items() if k in QUALIFICATION_FIELDS}
    )
    _clean_qualification(q)
    q.save()
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=q,
        object_repr=f"{enterprise.name} · {q}",
        changes=audit.diff({}, audit.snapshot(q, QUALIFICATION_FIELDS)),
        enterprise_id=enterprise.pk,
    )
    return q


@transaction.atomic
def qualification_update(
    *, qualification: Qualification, data: Mapping[str, Any], acting_user: Any
) -> Qualification:
    before = audit.snapshot(qualification, QUALIFICATION_FIELDS)
    for key, value in data.items():
        if key in QUALIFICATION_FIELDS:
            setattr(qualification, key, value)
    _clean_qualification(qualification)
    changes = audit.diff(before, audit.snapshot(qualification, QUALIFICATION_FIELDS))
    if changes:
        qualification.save(update_fields=list(changes.keys()))
        audit.record(
            actor=acting_user,
            action=audit.AuditEntry.Action.UPDATE,
            obj=qualification,
            object_repr=f"{qualification.enterprise.name} · {qualification}",
            changes=changes,
            enterprise_id=qualification.enterprise_id,
        )
    return qualification


@transaction.atomic
def qualification_delete(*, qualification: Qualification, acting_user: Any) -> None:
    _qualification_deleted(qualification, qualification.enterprise, acting_user).save()
    qualification.delete()


def _qualification_deleted(
    q: Qualification, enterprise: Enterprise, acting_user: Any
) -> audit.AuditEntry:
    """The audit row for a qualification about to be deleted: its last values, to nothing."""
    return audit.build(
        actor=acting_user,
        action=audit.AuditEntry.Action.DELETE,
        obj=q,
        object_repr=f"{enterprise.name} · {q}",
        changes=audit.diff(audit.snapshot(q, QUALIFICATION_FIELDS), {}),
        enterprise_id=enterprise.pk,
    )


CHAIN_FIELDS = ("code", "name", "group", "description", "sort_order", "is_active")


@transaction.atomic
def chain_save(
    *, chain: IndustryChain | None, data: Mapping[str, Any], acting_user: Any
) -> IndustryChain:
    """Creates or edits a zone industry chain (staff configuration)."""
    creating = chain is None
    chain = chain or IndustryChain()
    before = {} if creating else audit.snapshot(chain, CHAIN_FIELDS)
    for key, value in data.items():
        if key in CHAIN_FIELDS:
            setattr(chain, key, value)
    chain.full_clean()
    changes = audit.diff(before, audit.snapshot(chain, CHAIN_FIELDS))
    if not changes:
        return chain
    chain.save()
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE if creating else audit.AuditEntry.Action.UPDATE,
        obj=chain,
        changes=changes,
    )
    return chain


ENTERPRISE_SELF_SERVICE_FIELDS = (
    "contact_name",
    "contact_phone",
    "address",
    "description",
    "sei_category",
)


@transaction.atomic
def enterprise_self_update(
    *, enterprise: Enterprise, data: Mapping[str, Any], acting_user: Any
) -> Enterprise:
    """An enterprise user's own edit: only ENTERPRISE_SELF_SERVICE_FIELDS may change.

    Choosing a different emerging-industry category is a declaration that staff must review, so
    it sets sei_status to "declared" (or clears it with the category).
    """
    refused = sorted(set(data) - set(ENTERPRISE_SELF_SERVICE_FIELDS))
    if refused:
        raise ValidationError({name: _("企业用户不能修改此项") for name in refused})
    changes = dict(data)
    if "sei_category" in changes:
        new = changes["sei_category"]
        new_id = getattr(new, "pk", new)
        if new_id != enterprise.sei_category_id:
            changes["sei_status"] = (
                Enterprise.SeiStatus.DECLARED if new_id else Enterprise.SeiStatus.NONE
            )
    return enterprise_update(enterprise=enterprise, data=changes, acting_user=acting_user)


SEI_DECISIONS = (Enterprise.SeiStatus.CONFIRMED, Enterprise.SeiStatus.REJECTED)


@transaction.atomic
def enterprise_sei_review(
    *, enterprise: Enterprise, decision: str, acting_user: Any, reason: str = ""
) -> Enterprise:
    """Confirms or rejects a declared emerging-industry category; a rejection needs a reason.

    Only a pending declaration can be decided, and only once: the conditional UPDATE touches
    the row only while it is still "declared", so two reviewers cannot both decide it.
    """
    if decision not in SEI_DECISIONS:
        raise ValidationError({"decision": _("审核结论只能是“确认”或“退回”")})
    reason = reason.strip()
    if decision == Enterprise.SeiStatus.REJECTED and not reason:
        raise ValidationError({"reason": _("退回时请填写原因")})
    if enterprise.sei_category_id is None:
        raise ValidationError(_("该企业未申报战略性新兴产业类别"))
    now = timezone.now()
    touched = Enterprise.objects.filter(
        pk=enterprise.pk, sei_status=Enterprise.SeiStatus.DECLARED
    ).update(sei_status=decision, updated_at=now)
    if touched != 1:
        raise ValidationError(_("该企业的战新类别不在待审核状态,可能已被他人处理"))
    changes: dict[str, list[Any]] = {"sei_status": [Enterprise.SeiStatus.DECLARED, decision]}
    if reason:
        changes["review_reason"] = [None, reason[:500]]
    enterprise.sei_status = decision
    enterprise.updated_at = now
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.UPDATE,
        obj=enterprise,
        changes=changes,
        enterprise_id=enterprise.pk,
    )
    return enterprise


def enterprise_list_export_record(
    *, filters: Mapping[str, Any], rows: int, acting_user: Any
) -> audit.AuditEntry:
    """Leaves the audit row for an export of the enterprise list: which filters, how many rows."""
    return audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.EXPORT,
        model="registry.enterprise",
        object_id="list",
        object_repr=_("企业名录导出"),
        changes={"filters": dict(filters), "rows": rows},
    )
