"""The one place reports and periods are fetched for a user. Anything not visible answers 404.

An enterprise user (REPORTS_FILL) sees only their own enterprise's reports; staff with
REPORTS_VIEW_ALL see every report. Periods are zone-wide: whoever may fill in or follow up reports
may see them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from gaoxin.accounts.roles import Cap
from gaoxin.registry.models import Enterprise
from gaoxin.reports.models import Report, ReportPeriod


def can_fill(user: Any) -> bool:
    return bool(user.is_authenticated and user.can(Cap.REPORTS_FILL) and user.enterprise_id)


def reports_visible_to(user: Any) -> QuerySet[Report]:
    if not user.is_authenticated:
        return Report.objects.none()
    if user.can(Cap.REPORTS_VIEW_ALL):
        return Report.objects.all()
    if can_fill(user):
        return Report.objects.filter(enterprise_id=user.enterprise_id)
    return Report.objects.none()


def get_report_for_user(
    user: Any, pk: Any, *, for_fill: bool = False, for_review: bool = False
) -> Report:
    """The report `pk` if the user may see it; `for_fill` also requires it to be the user's own
    (only the enterprise fills in, corrects or submits), `for_review` the review capability."""
    if for_review and not (user.is_authenticated and user.can(Cap.REPORTS_REVIEW)):
        raise Http404
    try:
        report = (
            reports_visible_to(user)
            .select_related("enterprise", "period", "form", "submitted_by", "reviewed_by")
            .get(pk=pk)
        )
    except (ValueError, TypeError, Report.DoesNotExist) as exc:
        raise Http404 from exc
    if for_fill and not (can_fill(user) and report.enterprise_id == user.enterprise_id):
        raise Http404
    return report


def own_enterprise(user: Any) -> Enterprise:
    """The enterprise an enterprise user reports for; 404 for anyone who does not fill in."""
    if not can_fill(user):
        raise Http404
    return user.enterprise  # type: ignore[no-any-return]


def get_period_for_user(user: Any, pk: Any) -> ReportPeriod:
    if not (user.is_authenticated and (can_fill(user) or user.can(Cap.REPORTS_VIEW_ALL))):
        raise Http404
    try:
        return ReportPeriod.objects.get(pk=pk)
    except (ValueError, TypeError, ReportPeriod.DoesNotExist) as exc:
        raise Http404 from exc
