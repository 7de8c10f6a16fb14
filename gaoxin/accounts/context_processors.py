"""Navigation that fits the signed-in user's role."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from gaoxin.accounts.roles import Cap

# (label, url name, capability needed, url args from user)
NAV: list[tuple[Any, str, str | None]] = [
    (_("首页"), "home", None),
    (_("企业库"), "registry:list", Cap.REGISTRY_VIEW_ALL),
    (_("企业导入"), "registry:import", Cap.REGISTRY_IMPORT),
    (_("产业链配置"), "registry:chains", Cap.REGISTRY_CONFIGURE),
    (_("战新类别审核"), "registry:sei_review", Cap.REGISTRY_REVIEW),
    (_("审计日志"), "core:audit", Cap.AUDIT_VIEW),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, name, cap in NAV:
        if cap is None or user.can(cap):
            items.append(
                {"label": label, "url": reverse(name), "active": request.path == reverse(name)}
            )
    if user.can(Cap.REGISTRY_OWN) and user.enterprise_id:
        url = reverse("registry:detail", args=[user.enterprise_id])
        items.append({"label": _("本企业画像"), "url": url, "active": request.path == url})
    if user.can(Cap.PARTY_OWN) and user.party_org_id:
        url = reverse("accounts:my_party_org")
        items.append({"label": _("本党组织"), "url": url, "active": request.path == url})
    items.append({"label": _("API令牌"), "url": reverse("accounts:tokens"), "active": False})
    return {"nav_items": items}
