from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gaoxin.accounts.roles import DEPARTMENT_CAPS, ROLE_CAPS, Department, Role


class User(AbstractUser):
    """A person with one role; enterprise users and branch secretaries are bound to one object."""

    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.LEADER)
    department = models.CharField(
        _("部门"), max_length=20, choices=Department.choices, blank=True, default=""
    )
    display_name = models.CharField(_("姓名"), max_length=60, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    enterprise = models.ForeignKey(
        "registry.Enterprise",
        verbose_name=_("所属企业"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    party_org = models.ForeignKey(
        "party.Organisation",
        verbose_name=_("所属党组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="secretaries",
    )

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role=Role.ENTERPRISE) | Q(enterprise__isnull=False),
                name="enterprise_user_has_enterprise",
            ),
            models.CheckConstraint(
                condition=Q(role=Role.ENTERPRISE) | Q(enterprise__isnull=True),
                name="only_enterprise_users_have_enterprise",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.BRANCH_SECRETARY) | Q(party_org__isnull=False),
                name="branch_secretary_has_org",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def capabilities(self) -> frozenset[str]:
        if not self.is_active:
            return frozenset()
        caps = ROLE_CAPS.get(self.role, frozenset())
        if self.role != Role.DEPT_STAFF:
            # A department's rights are its staff's work: a leader or an auditor assigned to
            # the department stays read-only.
            return caps
        return caps | DEPARTMENT_CAPS.get(self.department, frozenset())

    def can(self, cap: str) -> bool:
        return cap in self.capabilities

    @property
    def is_enterprise_user(self) -> bool:
        return self.role == Role.ENTERPRISE


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its hash is stored; the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=60)
    prefix = models.CharField(max_length=8, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API令牌")
        verbose_name_plural = _("API令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @staticmethod
    def new_secret() -> str:
        return "gx_" + secrets.token_urlsafe(32)
