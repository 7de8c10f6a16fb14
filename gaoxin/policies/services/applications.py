"""The application workflow, from draft to paid.

    draft → submitted → returned (→ submitted again) / rejected / passed
    passed → notice (公示) → approved (or rejected when an objection is upheld)
    approved → scheduled (in a payment batch) → paid, or failed → scheduled again
    paid → failed by reversal (the bank returned the money)
    approved or failed → cancelled (the commitment goes back to the budget)

Each step is a service that checks `TRANSITIONS`, moves the status by a conditional UPDATE
that must touch exactly one row (so a button pressed twice, or by two people, acts once),
writes an `ApplicationEvent` and an audit row. The applicant, the reviewer and the payer are
different people; the approval commits the money in the ledger and is refused beyond the
measure's remaining budget; a payment is executed once (see `payment_execute`)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gaoxin.core import audit
from gaoxin.policies.measures import SHIPPED, VOUCHER_CODES
from gaoxin.policies.models import (
    Application,
    ApplicationAttachment,
    ApplicationEvent,
    Measure,
    Notice,
    Objection,
    Policy,
)
from gaoxin.policies.selectors import decide_one
from gaoxin.policies.services.files import checked_upload
from gaoxin.policies.services.ledger import user_or_none
from gaoxin.policies.templatetags.money import yuan
from gaoxin.policies.workdays import notice_period
from gaoxin.registry.models import Enterprise

S = Application.Status

TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.SUBMITTED},
    S.SUBMITTED: {S.RETURNED, S.REJECTED, S.PASSED},
    S.RETURNED: {S.SUBMITTED},
    S.REJECTED: set(),
    S.PASSED: {S.NOTICE},
    S.NOTICE: {S.APPROVED, S.REJECTED},
    S.APPROVED: {S.SCHEDULED, S.CANCELLED},
    S.SCHEDULED: {S.PAID, S.FAILED},
    S.PAID: {S.FAILED},
    S.FAILED: {S.SCHEDULED, S.CANCELLED},
    S.CANCELLED: set(),
}
EDITABLE = {S.DRAFT, S.RETURNED}
# After a failed payment the enterprise may correct its receiving account (nothing else).
ACCOUNT_EDITABLE = {S.DRAFT, S.RETURNED, S.FAILED}
MIN_NOTICE_DAYS, MAX_NOTICE_DAYS = 1, 30
MIN_YEAR, MAX_YEAR = 2000, 2100
CLOSED = (S.REJECTED, S.CANCELLED)  # may be applied for again
ATTACHMENT_TYPES = {".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx", ".zip"}
ACCOUNT_FIELDS = ("account_bank", "account_name", "account_no")


def _move(
    application: Application,
    to: str,
    *,
    acting_user: Any,
    note: str = "",
    **fields: Any,
) -> Application:
    """The one way a status changes: checked against TRANSITIONS, a conditional UPDATE on the
    status the caller saw, an event and an audit row."""
    before = application.status
    if to not in TRANSITIONS.get(before, set()):
        raise ValidationError(
            {
                "status": _("申请当前为“%(now)s”,不能改为“%(to)s”")
                % {"now": application.get_status_display(), "to": S(to).label}
            }
        )
    touched = Application.objects.filter(pk=application.pk, status=before).update(
        status=to, updated_at=timezone.now(), **fields
    )
    if touched != 1:
        raise ValidationError({"status": _("申请状态已被他人修改,请刷新后重试")})
    application.refresh_from_db()
    ApplicationEvent.objects.create(
        application=application,
        from_status=before,
        to_status=to,
        actor=user_or_none(acting_user),
        reason=note,
    )
    changes: dict[str, list[Any]] = {"status": [before, to]}
    if note:
        changes["note"] = [None, note]
    for name, value in fields.items():
        changes[name] = [None, audit.jsonable(getattr(value, "pk", value))]
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.UPDATE,
        obj=application,
        changes=changes,
        enterprise_id=application.enterprise_id,
    )
    return application


def _not_same_person(user: Any, *others: Any, message: str) -> None:
    ids = {getattr(o, "pk", o) for o in others if o is not None}
    if getattr(user, "pk", None) is not None and user.pk in ids:
        raise ValidationError({"status": message})


# --- the enterprise's side ------------------------------------------------------------------------


def check_in_force(measure: Measure, year: int) -> None:
    """Refuses a measure whose policy is not published, or a year outside its period."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationError(
            {"year": _("年度应在%(low)s到%(high)s之间") % {"low": MIN_YEAR, "high": MAX_YEAR}}
        )
    policy = measure.policy
    if policy.status != Policy.Status.PUBLISHED:
        raise ValidationError({"measure": _("该政策未发布或已废止,不能申请")})
    if year < policy.effective_from.year or (
        policy.effective_to is not None and year > policy.effective_to.year
    ):
        raise ValidationError({"year": _("%(year)s年度不在该政策的施行期内") % {"year": year}})


@transaction.atomic
def application_start(
    *, enterprise: Enterprise, measure: Measure, year: int, acting_user: Any
) -> Application:
    """A draft pre-filled from the zone's records: the current rule version decided on the
    enterprise's facts for `year`, with the amount it computes. One live application per
    enterprise, measure and year."""
    if measure.code in VOUCHER_CODES:
        raise ValidationError({"measure": _("创新券由园区直接发放,无需申请")})
    check_in_force(measure, year)
    existing = (
        Application.objects.filter(enterprise=enterprise, measure=measure, year=year)
        .exclude(status__in=CLOSED)
        .first()
    )
    if existing is not None:
        raise ValidationError(
            {
                "measure": _("贵企业%(year)s年度已有该条款的申请(%(status)s)")
                % {"year": year, "status": existing.get_status_display()}
            }
        )
    decision = decide_one(enterprise, measure, year)
    application = Application(
        enterprise=enterprise,
        measure=measure,
        year=year,
        version=decision.version,
        facts=decision.facts,
        eligible=decision.eligible,
        computed_fen=decision.amount_fen,
        account_name=enterprise.name,
    )
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError as exc:  # the same draft started twice at once
        raise ValidationError({"measure": _("该条款本年度已有申请")}) from exc
    ApplicationEvent.objects.create(
        application=application, to_status=S.DRAFT, actor=user_or_none(acting_user)
    )
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=application,
        changes={
            "measure": [None, measure.pk],
            "year": [None, year],
            "rule_version": [None, decision.version.version],
            "computed_fen": [None, decision.amount_fen],
        },
        enterprise_id=enterprise.pk,
    )
    return application


@transaction.atomic
def application_update(
    *, application: Application, data: dict[str, Any], acting_user: Any
) -> Application:
    """The enterprise's own part of a draft or returned application: its statement and the
    receiving account; after a failed payment, the receiving account only (the next attempt
    pays to it)."""
    if application.status not in ACCOUNT_EDITABLE:
        raise ValidationError({"status": _("申请已提交,不能修改")})
    fields: tuple[str, ...] = ("statement", *ACCOUNT_FIELDS)
    if application.status == S.FAILED:
        fields = ACCOUNT_FIELDS
    before = audit.snapshot(application, fields)
    for name in fields:
        if name in data:
            setattr(application, name, str(data[name] or "").strip())
    if application.account_no and not application.account_no.replace(" ", "").isdigit():
        raise ValidationError({"account_no": _("银行账号只能包含数字")})
    application.account_no = application.account_no.replace(" ", "")
    after = audit.snapshot(application, fields)
    if before == after:
        return application
    application.save(update_fields=[*fields, "updated_at"])
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.UPDATE,
        obj=application,
        changes=audit.diff(before, after),
        enterprise_id=application.enterprise_id,
    )
    return application


@transaction.atomic
def application_attach(
    *, application: Application, upload: UploadedFile[bytes], acting_user: Any
) -> ApplicationAttachment:
    """Stores a file with a draft or returned application. Refuses files over 20 MB and types
    other than PDF, images, Word, Excel and ZIP; the same file attached again changes nothing."""
    if application.status not in EDITABLE:
        raise ValidationError({"file": _("申请已提交,不能再添加附件")})
    name = checked_upload(
        upload,
        field="file",
        suffixes=ATTACHMENT_TYPES,
        kinds=_("PDF、图片、Word、Excel或ZIP文件"),
    )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    sha = digest.hexdigest()
    existing = application.attachments.filter(sha256=sha).first()
    if existing is not None:
        return existing
    upload.seek(0)
    attachment = ApplicationAttachment(
        application=application,
        name=name,
        size=upload.size or 0,
        sha256=sha,
        uploaded_by=user_or_none(acting_user),
    )
    attachment.file.save(name, upload, save=False)
    attachment.save()
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=attachment,
        changes={"name": [None, name], "sha256": [None, sha]},
        enterprise_id=application.enterprise_id,
    )
    return attachment


@transaction.atomic
def attachment_remove(*, attachment: ApplicationAttachment, acting_user: Any) -> None:
    application = attachment.application
    if application.status not in EDITABLE:
        raise ValidationError({"file": _("申请已提交,不能删除附件")})
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.DELETE,
        obj=attachment,
        changes={"name": [attachment.name, None], "sha256": [attachment.sha256, None]},
        enterprise_id=application.enterprise_id,
    )
    stored = attachment.file
    attachment.delete()
    transaction.on_commit(lambda: stored.delete(save=False))


@transaction.atomic
def application_submit(*, application: Application, acting_user: Any) -> Application:
    """Submits a draft (or a returned application again). The decision is taken again on the
    records as they are now, with the current rule version; the receiving account is required;
    an enterprise the rule finds ineligible cannot submit, and is told which facts it read."""
    check_in_force(application.measure, application.year)
    missing = [f for f in ACCOUNT_FIELDS if not getattr(application, f)]
    if missing:
        raise ValidationError(dict.fromkeys(missing, _("请填写收款账户信息")))
    decision = decide_one(application.enterprise, application.measure, application.year)
    if not decision.eligible:
        raise ValidationError(
            {
                "status": _(
                    "按园区现有数据,贵企业不符合本条款的条件;如数据有误,请先更正报表或登记信息"
                )
            }
        )
    return _move(
        application,
        S.SUBMITTED,
        acting_user=acting_user,
        submitted_by=user_or_none(acting_user),
        submitted_at=timezone.now(),
        version=decision.version,
        facts=decision.facts,
        eligible=True,
        computed_fen=decision.amount_fen,
    )


# --- department review ----------------------------------------------------------------------------


def _reviewer_checks(application: Application, acting_user: Any) -> None:
    _not_same_person(
        acting_user,
        application.submitted_by_id,
        message=_("申请人不能审核自己提交的申请"),
    )


@transaction.atomic
def application_return(*, application: Application, reason: str, acting_user: Any) -> Application:
    """Sends a submitted application back to the enterprise with a reason it can act on."""
    if not reason.strip():
        raise ValidationError({"reason": _("请填写退回理由")})
    _reviewer_checks(application, acting_user)
    return _move(
        application,
        S.RETURNED,
        acting_user=acting_user,
        note=reason.strip(),
        reason=reason.strip(),
        reviewed_by=user_or_none(acting_user),
    )


@transaction.atomic
def application_reject(*, application: Application, reason: str, acting_user: Any) -> Application:
    """Decides not to support a submitted application; final (the enterprise may apply again)."""
    if not reason.strip():
        raise ValidationError({"reason": _("请填写不予支持的理由")})
    _reviewer_checks(application, acting_user)
    if application.status != S.SUBMITTED:
        raise ValidationError({"status": _("只有待审核的申请可以审核")})
    return _move(
        application,
        S.REJECTED,
        acting_user=acting_user,
        note=reason.strip(),
        reason=reason.strip(),
        reviewed_by=user_or_none(acting_user),
    )


@transaction.atomic
def application_pass(
    *,
    application: Application,
    acting_user: Any,
    amount_fen: int | None = None,
    reason: str = "",
) -> Application:
    """Passes a submitted application with the amount to be publicly noticed. The rule's
    amount is used; for measures whose amount the reviewer sets, `amount_fen` is required and
    must lie within the published range (and the measure's cap)."""
    _reviewer_checks(application, acting_user)
    spec = SHIPPED.get(application.measure.code)
    if spec is not None and spec.reviewer_sets_amount:
        params = application.version.params
        low, high = int(params["min_fen"]), int(params["max_fen"])
        if application.measure.cap_fen is not None:
            high = min(high, application.measure.cap_fen)
        if amount_fen is None:
            raise ValidationError({"amount_fen": _("请核定金额")})
        if not low <= amount_fen <= high:
            raise ValidationError(
                {
                    "amount_fen": _("核定金额应在%(low)s元到%(high)s元之间")
                    % {"low": yuan(low), "high": yuan(high)}
                }
            )
        granted = amount_fen
    else:
        if amount_fen is not None and amount_fen != application.computed_fen:
            raise ValidationError({"amount_fen": _("该条款的金额由规则计算,不能改动")})
        granted = application.computed_fen
    if granted <= 0:
        raise ValidationError({"amount_fen": _("核定金额为0,请改为不予支持")})
    return _move(
        application,
        S.PASSED,
        acting_user=acting_user,
        note=reason.strip(),
        amount_fen=granted,
        reviewed_by=user_or_none(acting_user),
    )


# --- public notice --------------------------------------------------------------------------------


@transaction.atomic
def notice_publish(
    *,
    policy: Policy,
    year: int,
    applications: Sequence[Application],
    published_on: dt.date,
    acting_user: Any,
    working_days: int = 5,
    title: str = "",
    contact: str = "",
    today: dt.date | None = None,
) -> Notice:
    """Publishes the passed applications of a policy and year in one notice that runs
    `working_days` working days (weekends and public holidays skipped). A notice is published
    today or later, never back-dated (its period must be a real chance to object), and runs
    1 to 30 working days."""
    today = today or timezone.localdate()
    if published_on < today:
        raise ValidationError({"published_on": _("发布日期不能早于今天")})
    if not MIN_NOTICE_DAYS <= working_days <= MAX_NOTICE_DAYS:
        raise ValidationError(
            {
                "working_days": _("公示期应为%(low)s到%(high)s个工作日")
                % {"low": MIN_NOTICE_DAYS, "high": MAX_NOTICE_DAYS}
            }
        )
    if not applications:
        raise ValidationError({"applications": _("请选择要公示的申请")})
    wrong = [a for a in applications if a.measure.policy_id != policy.pk or a.year != year]
    if wrong:
        raise ValidationError({"applications": _("所选申请不属于该政策和年度")})
    start, end = notice_period(published_on, working_days)
    notice = Notice.objects.create(
        policy=policy,
        year=year,
        title=title.strip()
        or _("%(policy)s %(year)s年度拟支持名单公示") % {"policy": policy.title, "year": year},
        published_on=published_on,
        working_days=working_days,
        starts_on=start,
        ends_on=end,
        contact=contact.strip(),
        published_by=user_or_none(acting_user),
    )
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=notice,
        changes={
            "published_on": [None, published_on.isoformat()],
            "ends_on": [None, end.isoformat()],
            "applications": [None, [a.pk for a in applications]],
        },
    )
    for application in applications:
        _move(application, S.NOTICE, acting_user=acting_user, notice=notice)
    return notice


@transaction.atomic
def objection_record(
    *,
    application: Application,
    objector: str,
    content: str,
    received_on: dt.date,
    acting_user: Any,
) -> Objection:
    """Records an objection received during the application's notice period. The application
    row is locked, so an approval at the same moment either sees the objection or makes this
    refuse (the application is no longer in notice)."""
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("notice")
        .get(pk=application.pk)
    )
    notice = application.notice
    if application.status != S.NOTICE or notice is None:
        raise ValidationError({"application": _("该申请不在公示期")})
    if not notice.published_on <= received_on <= notice.ends_on:
        raise ValidationError(
            {
                "received_on": _("异议应在公示期内(%(start)s至%(end)s)提出")
                % {"start": notice.starts_on, "end": notice.ends_on}
            }
        )
    if not objector.strip() or not content.strip():
        raise ValidationError({"content": _("请填写异议人和异议内容")})
    objection = Objection.objects.create(
        notice=notice,
        application=application,
        objector=objector.strip(),
        content=content.strip(),
        received_on=received_on,
        recorded_by=user_or_none(acting_user),
    )
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=objection,
        changes={"application": [None, application.pk], "received_on": [None, str(received_on)]},
        enterprise_id=application.enterprise_id,
    )
    return objection


@transaction.atomic
def objection_resolve(
    *, objection: Objection, upheld: bool, resolution: str, acting_user: Any
) -> Objection:
    """Resolves an objection. Upheld, the application is not supported (with the resolution
    as the reason); dismissed, it may be approved when the notice ends."""
    if not resolution.strip():
        raise ValidationError({"resolution": _("请填写处理意见")})
    touched = Objection.objects.filter(pk=objection.pk, upheld__isnull=True).update(
        upheld=upheld,
        resolution=resolution.strip(),
        resolved_by=user_or_none(acting_user),
        resolved_at=timezone.now(),
    )
    if touched != 1:
        raise ValidationError({"resolution": _("该异议已处理")})
    objection.refresh_from_db()
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.UPDATE,
        obj=objection,
        changes={"upheld": [None, upheld], "resolution": [None, resolution.strip()]},
        enterprise_id=objection.application.enterprise_id,
    )
    if upheld and objection.application.status != S.NOTICE:
        raise ValidationError(
            {
                "upheld": _("该申请已不在公示期(当前为“%(s)s”),请按撤销程序处理")
                % {"s": objection.application.get_status_display()}
            }
        )
    if upheld:
        reason = _("公示异议成立:%(r)s") % {"r": resolution.strip()}
        _move(
            objection.application, S.REJECTED, acting_user=acting_user, note=reason, reason=reason
        )
    return objection
