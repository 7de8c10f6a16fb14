"""The one place scoped objects are fetched for a user. Anything not visible answers 404."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from gaoxin.accounts.roles import Cap

if TYPE_CHECKING:
    from gaoxin.policies.models import Application, Voucher
    from gaoxin.registry.models import Enterprise, IndustryChain, Qualification


def require(user: Any, cap: str) -> None:
    """404 rather than 403: do not reveal that a page exists to someone who may not use it."""
    if not (user.is_authenticated and user.can(cap)):
        raise Http404


def enterprises_visible_to(user: Any) -> QuerySet[Enterprise]:
    from gaoxin.registry.models import Enterprise

    if not user.is_authenticated:
        return Enterprise.objects.none()
    if user.can(Cap.REGISTRY_VIEW_ALL):
        return Enterprise.objects.all()
    if user.can(Cap.REGISTRY_OWN) and user.enterprise_id:
        return Enterprise.objects.filter(pk=user.enterprise_id)
    return Enterprise.objects.none()


def can_edit_enterprise(user: Any, enterprise: Enterprise) -> bool:
    if not user.is_authenticated:
        return False
    if user.can(Cap.REGISTRY_EDIT):
        return True
    return user.can(Cap.REGISTRY_OWN) and user.enterprise_id == enterprise.pk


def get_enterprise_for_user(user: Any, pk: Any, *, for_edit: bool = False) -> Enterprise:
    try:
        enterprise = get_object_or_404(
            enterprises_visible_to(user).select_related(
                "industry", "sei_category", "chain", "grid"
            ),
            pk=pk,
        )
    except (ValueError, TypeError) as exc:  # a pk that is not a number
        raise Http404 from exc
    if for_edit and not can_edit_enterprise(user, enterprise):
        raise Http404
    return enterprise


def can_edit_qualifications(user: Any) -> bool:
    """Qualifications are recognised by authorities: staff record them, enterprises do not."""
    return bool(user.is_authenticated and user.can(Cap.REGISTRY_EDIT))


def get_qualification_for_user(user: Any, pk: Any, *, for_edit: bool = False) -> Qualification:
    from gaoxin.registry.models import Qualification

    try:
        qualification = (
            Qualification.objects.select_related("enterprise")
            .filter(enterprise__in=enterprises_visible_to(user))
            .get(pk=pk)
        )
    except (ValueError, TypeError, Qualification.DoesNotExist) as exc:
        raise Http404 from exc
    if for_edit and not can_edit_qualifications(user):
        raise Http404
    return qualification


def get_chain_for_user(user: Any, pk: Any) -> IndustryChain:
    """Industry chains are zone configuration: only REGISTRY_CONFIGURE may open one to edit."""
    from gaoxin.registry.models import IndustryChain

    require(user, Cap.REGISTRY_CONFIGURE)
    try:
        return IndustryChain.objects.get(pk=pk)
    except (ValueError, TypeError, IndustryChain.DoesNotExist) as exc:
        raise Http404 from exc


def applications_visible_to(user: Any) -> QuerySet[Application]:
    """Policy-fund applications: staff who read policies see all; an enterprise user sees its
    own enterprise's."""
    from gaoxin.policies.models import Application

    if not user.is_authenticated:
        return Application.objects.none()
    if user.can(Cap.POLICIES_VIEW):
        return Application.objects.all()
    if user.can(Cap.POLICIES_OWN) and user.enterprise_id:
        return Application.objects.filter(enterprise_id=user.enterprise_id)
    return Application.objects.none()


def get_application_for_user(user: Any, pk: Any) -> Application:
    try:
        return (
            applications_visible_to(user)
            .select_related("enterprise", "measure__policy", "version", "notice", "match")
            .get(pk=pk)
        )
    except (ValueError, TypeError, ObjectDoesNotExist) as exc:
        raise Http404 from exc


def vouchers_visible_to(user: Any) -> QuerySet[Voucher]:
    """Innovation vouchers: staff who read policies see all; an enterprise user its own."""
    from gaoxin.policies.models import Voucher

    if not user.is_authenticated:
        return Voucher.objects.none()
    if user.can(Cap.POLICIES_VIEW):
        return Voucher.objects.all()
    if user.can(Cap.POLICIES_OWN) and user.enterprise_id:
        return Voucher.objects.filter(enterprise_id=user.enterprise_id)
    return Voucher.objects.none()
