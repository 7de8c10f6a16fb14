"""Roles and what each may do: the one table every permission check reads."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ZONE_ADMIN = "zone_admin", _("管委会管理员")
    DEPT_STAFF = "dept_staff", _("部门工作人员")
    REVIEWER = "reviewer", _("审核员")
    LEADER = "leader", _("领导(只读)")
    AUDITOR = "auditor", _("审计员")
    ENTERPRISE = "enterprise", _("企业填报员")
    BRANCH_SECRETARY = "branch_secretary", _("支部书记")


class Department(models.TextChoices):
    ECONOMIC = "economic", _("经济发展局")
    SCITECH = "scitech", _("科技局")
    PARTY = "party", _("党群工作部")
    FINANCE = "finance", _("财政局")
    INVESTMENT = "investment", _("招商局")
    APPROVAL = "approval", _("行政审批局")
    OFFICE = "office", _("管委会办公室")


class Cap:
    """Capability names. Strings so that later apps can add their own without touching this file."""

    REGISTRY_VIEW_ALL = "registry.view_all"
    REGISTRY_EDIT = "registry.edit"
    REGISTRY_IMPORT = "registry.import"
    REGISTRY_CONFIGURE = "registry.configure"  # industry chains, grids
    REGISTRY_REVIEW = "registry.review"  # confirm declared emerging-industry categories
    REGISTRY_OWN = "registry.own"  # the one enterprise the user is bound to
    AUDIT_VIEW = "audit.view"
    PARTY_VIEW_ALL = "party.view_all"
    PARTY_OWN = "party.own"
    ACCOUNTS_MANAGE = "accounts.manage"
    REPORTS_FILL = "reports.fill"  # the bound enterprise's own statistical reports
    REPORTS_VIEW_ALL = "reports.view_all"
    REPORTS_REVIEW = "reports.review"  # accept or return submitted reports
    REPORTS_CONFIGURE = "reports.configure"  # report periods and due dates
    INDICATORS_VIEW = "indicators.view"  # indicator values, lineage, dashboards, big screen
    INDICATORS_TARGETS = "indicators.targets"  # set the yearly targets
    POLICIES_VIEW = "policies.view"  # policies, measures, budgets, what-if results
    POLICIES_MANAGE = "policies.manage"  # write policies and measures, set budgets, run what-ifs
    POLICIES_OWN = "policies.own"  # the bound enterprise: what it may get, its applications
    POLICIES_REVIEW = "policies.review"  # review applications (pass, return, reject)
    POLICIES_APPROVE = "policies.approve"  # notices, objections, approval, matching runs, vouchers
    POLICIES_PAY = "policies.pay"  # payment batches, paying, failures, reversals, settlements


_STAFF_READ = {
    Cap.REGISTRY_VIEW_ALL,
    Cap.REPORTS_VIEW_ALL,
    Cap.INDICATORS_VIEW,
    Cap.POLICIES_VIEW,
}

ROLE_CAPS: dict[str, frozenset[str]] = {
    Role.ZONE_ADMIN: frozenset(
        _STAFF_READ
        | {
            Cap.REGISTRY_EDIT,
            Cap.REGISTRY_IMPORT,
            Cap.REGISTRY_CONFIGURE,
            Cap.REGISTRY_REVIEW,
            Cap.AUDIT_VIEW,
            Cap.PARTY_VIEW_ALL,
            Cap.ACCOUNTS_MANAGE,
            Cap.REPORTS_REVIEW,
            Cap.REPORTS_CONFIGURE,
            Cap.INDICATORS_TARGETS,
            Cap.POLICIES_MANAGE,
            Cap.POLICIES_REVIEW,
            Cap.POLICIES_APPROVE,
            Cap.POLICIES_PAY,
        }
    ),
    Role.DEPT_STAFF: frozenset(_STAFF_READ | {Cap.REGISTRY_EDIT, Cap.REGISTRY_IMPORT}),
    Role.REVIEWER: frozenset(
        _STAFF_READ | {Cap.REGISTRY_REVIEW, Cap.REPORTS_REVIEW, Cap.POLICIES_REVIEW}
    ),
    Role.LEADER: frozenset(_STAFF_READ),
    Role.AUDITOR: frozenset(_STAFF_READ | {Cap.AUDIT_VIEW}),
    Role.ENTERPRISE: frozenset({Cap.REGISTRY_OWN, Cap.REPORTS_FILL, Cap.POLICIES_OWN}),
    Role.BRANCH_SECRETARY: frozenset({Cap.PARTY_OWN}),
}

# Departments add to the role's capabilities: party affairs staff see all party organisations;
# the economic development bureau owns the statistical reports (reviews them, sets periods).
DEPARTMENT_CAPS: dict[str, frozenset[str]] = {
    Department.PARTY: frozenset({Cap.PARTY_VIEW_ALL}),
    Department.ECONOMIC: frozenset(
        {Cap.REPORTS_REVIEW, Cap.REPORTS_CONFIGURE, Cap.INDICATORS_TARGETS}
    ),
    # The science and technology bureau writes the zone's support policies, reviews the
    # applications and runs notices, approvals and matching; the finance bureau pays. Who may
    # act on one application is narrower still: applicant, reviewer and payer must differ.
    Department.SCITECH: frozenset({Cap.POLICIES_MANAGE, Cap.POLICIES_REVIEW, Cap.POLICIES_APPROVE}),
    Department.FINANCE: frozenset({Cap.POLICIES_PAY}),
}
