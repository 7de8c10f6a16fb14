"""Writes to statistical reports. Each transition checks the status table below with a
conditional UPDATE (so two reviewers cannot both accept), and leaves an audit row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gaoxin.core import audit
from gaoxin.registry.models import Enterprise
from gaoxin.reports import checks, rollups
from gaoxin.reports.models import (
    Basis,
    Report,
    ReportFact,
    ReportPeriod,
    ReportRevision,
    ReportStatus,
    fact_values,
)
from gaoxin.reports.selectors import history_for, in_form_units

S = ReportStatus
# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "save": (frozenset({S.DRAFT, S.RETURNED}), S.DRAFT),
    "submit": (frozenset({S.DRAFT, S.RETURNED}), S.SUBMITTED),
    "return": (frozenset({S.SUBMITTED}), S.RETURNED),
    "accept": (frozenset({S.SUBMITTED}), S.ACCEPTED),
    "correct": (frozenset({S.ACCEPTED}), S.DRAFT),
}


def _refuse(report: Report, action: str) -> ValidationError:
    return ValidationError(
        _("报表当前状态为“%(status)s”,不能执行此操作") % {"status": report.get_status_display()},
        code=f"bad_status_{action}",
    )


def _move(report: Report, action: str, **changes: Any) -> None:
    """The guarded transition: UPDATE … WHERE status IN (allowed) must touch exactly one row."""
    allowed, target = TRANSITIONS[action]
    if report.status not in allowed:
        raise _refuse(report, action)
    before = report.status
    changes["status"] = target
    changes["updated_at"] = timezone.now()
    touched = Report.objects.filter(pk=report.pk, status__in=allowed).update(**changes)
    if touched != 1:
        report.refresh_from_db()
        raise _refuse(report, action)
    for name, value in changes.items():
        setattr(report, name, value)
    report._status_before = before  # type: ignore[attr-defined]


def _audit(report: Report, actor: Any, changes: Mapping[str, Any]) -> None:
    audit.record(
        actor=actor,
        action=audit.AuditEntry.Action.UPDATE,
        obj=report,
        changes=dict(changes),
        enterprise_id=report.enterprise_id,
    )


@transaction.atomic
def report_open(*, enterprise: Enterprise, period: ReportPeriod, acting_user: Any) -> Report:
    """The enterprise's report for the period, created as an empty draft on first use."""
    report = Report.objects.filter(enterprise=enterprise, period=period).first()
    if report is not None:
        return report
    try:
        with transaction.atomic():  # a savepoint: a double click may have created it meanwhile
            report = Report.objects.create(enterprise=enterprise, period=period, form=period.form())
    except IntegrityError:
        return Report.objects.get(enterprise=enterprise, period=period)
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=report,
        changes={"status": [None, report.status]},
        enterprise_id=enterprise.pk,
    )
    return report


def _evaluate(report: Report, entered: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    history = history_for(report)
    return checks.check(
        report.form.fields.all(),
        entered,
        last_year=history.last_year,
        last_period=history.last_period,
        last_period_same_year=history.last_period_same_year,
    )


@transaction.atomic
def report_save(
    *,
    report: Report,
    entered: Mapping[str, Any],
    acting_user: Any,
    explanation: str | None = None,
) -> Report:
    """Stores the entered values (converted to canonical units) as a draft with their findings.
    A draft may hold errors; only submission is blocked by them."""
    values, findings = _evaluate(report, entered)
    before = dict(report.values)
    changes: dict[str, Any] = {
        "values": values,
        "findings": [f.as_dict() for f in findings],
    }
    if explanation is not None:
        changes["explanation"] = explanation.strip()
    _move(report, "save", **changes)
    _audit(report, acting_user, _values_diff(before, values))
    return report


def report_submit(
    *,
    report: Report,
    acting_user: Any,
    entered: Mapping[str, Any] | None = None,
    explanation: str | None = None,
) -> Report:
    """Submits the report. Refused while a hard check fails, or while a soft check fails and no
    explanation is given: then what was entered is kept as a draft with its findings, so nothing
    typed is lost, and the ValidationError lists what to fix."""
    if report.status not in TRANSITIONS["submit"][0]:
        raise _refuse(report, "submit")
    if entered is None:  # submit what was saved, in the form's units as if typed again
        entered = in_form_units(report.form.fields.all(), report.values)
    values, findings = _evaluate(report, entered)
    text = (explanation if explanation is not None else report.explanation).strip()
    stored = [f.as_dict() for f in findings]
    if checks.has_hard(findings) or (checks.has_soft(findings) and not text):
        report_save(report=report, entered=entered, acting_user=acting_user, explanation=text)
        messages = [f.message for f in findings if f.level == checks.HARD]
        if not messages:
            messages = [_("以下数据波动较大,请填写情况说明后再报送:")] + [
                f.message for f in findings
            ]
        raise ValidationError(messages, code="report_checks")
    with transaction.atomic():
        _submit(report, acting_user, values, stored, text)
    return report


def _submit(
    report: Report, acting_user: Any, values: dict[str, Any], stored: list[Any], text: str
) -> None:
    before = dict(report.values)
    _move(
        report,
        "submit",
        values=values,
        findings=stored,
        explanation=text,
        return_reason="",
        submitted_at=timezone.now(),
        submitted_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    _audit(
        report,
        acting_user,
        {
            "status": [report._status_before, report.status],  # type: ignore[attr-defined]
            **_values_diff(before, values),
        },
    )


@transaction.atomic
def report_return(*, report: Report, acting_user: Any, reason: str) -> Report:
    """Sends a submitted report back to the enterprise with the reviewer's reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("退回时必须填写原因")})
    _move(
        report,
        "return",
        return_reason=reason,
        reviewed_at=timezone.now(),
        reviewed_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    _audit(
        report, acting_user, {"status": [S.SUBMITTED, S.RETURNED], "return_reason": [None, reason]}
    )
    return report


@transaction.atomic
def report_accept(*, report: Report, acting_user: Any) -> ReportRevision:
    """Accepts a submitted report and freezes what was accepted as the next revision."""
    now = timezone.now()
    _move(
        report,
        "accept",
        revision=report.revision + 1,
        reviewed_at=now,
        reviewed_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    revision = ReportRevision.objects.create(
        report=report,
        number=report.revision,
        values=report.values,
        findings=report.findings,
        explanation=report.explanation,
        correction_reason=report.correction_reason,
        accepted_at=now,
        accepted_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    facts_record(report, revision)
    _audit(
        report,
        acting_user,
        {"status": [S.SUBMITTED, S.ACCEPTED], "revision": [report.revision - 1, report.revision]},
    )
    return revision


def facts_record(report: Report, revision: ReportRevision) -> None:
    """The typed copy the indicator engine aggregates: revision 1 is both "as first reported"
    and "as revised"; a later revision replaces only "as revised"."""
    columns = fact_values(revision.values)
    period = report.period
    bases = [Basis.FIRST, Basis.REVISED] if revision.number == 1 else [Basis.REVISED]
    for basis in bases:
        ReportFact.objects.update_or_create(
            report=report,
            basis=basis,
            defaults={
                "enterprise_id": report.enterprise_id,
                "form_code": period.form_code,
                "year": period.year,
                "month": period.month,
                "revision": revision.number,
                **columns,
            },
        )
    if period.month:
        rollups.refresh(period.form_code, period.year, [report.enterprise_id])


@transaction.atomic
def report_correct(*, report: Report, acting_user: Any, reason: str) -> Report:
    """Reopens an accepted report for a correction. The accepted revision stays as it was; the
    corrected values become a new revision when accepted again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("更正时必须填写原因")})
    _move(report, "correct", correction_reason=reason, return_reason="")
    _audit(
        report, acting_user, {"status": [S.ACCEPTED, S.DRAFT], "correction_reason": [None, reason]}
    )
    return report


def _values_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {f"values.{k}": v for k, v in audit.diff(before, after).items()}
