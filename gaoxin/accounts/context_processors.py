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
    (_("园区概览"), "indicators:dashboard", Cap.INDICATORS_VIEW),
    (_("指标"), "indicators:list", Cap.INDICATORS_VIEW),
    (_("政策资金"), "policies:list", Cap.POLICIES_VIEW),
    (_("资金申请"), "policies:applications", Cap.POLICIES_VIEW),
    (_("免申即享"), "policies:match_runs", Cap.POLICIES_VIEW),
    (_("公示"), "policies:notices", Cap.POLICIES_VIEW),
    (_("资金支付"), "policies:payments", Cap.POLICIES_PAY),
    (_("创新券"), "policies:voucher_list", Cap.POLICIES_VIEW),
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
    # One "统计报表" entry: an enterprise user fills in their own, staff follow up the worklist.
    in_reports = getattr(request.resolver_match, "namespace", "") == "reports"
    if user.can(Cap.REPORTS_FILL) and user.enterprise_id:
        items.append({"label": _("统计报表"), "url": reverse("reports:mine"), "active": in_reports})
    elif user.can(Cap.REPORTS_VIEW_ALL):
        url = reverse("reports:worklist")
        items.append({"label": _("统计报表"), "url": url, "active": in_reports})
    if user.can(Cap.POLICIES_OWN) and user.enterprise_id:
        url = reverse("policies:mine")
        items.append({"label": _("可享政策"), "url": url, "active": request.path == url})
        url = reverse("policies:applications")
        items.append({"label": _("我的申请"), "url": url, "active": request.path == url})
        url = reverse("policies:my_vouchers")
        items.append({"label": _("我的创新券"), "url": url, "active": request.path == url})
    if user.can(Cap.PARTY_OWN) and user.party_org_id:
        url = reverse("accounts:my_party_org")
        items.append({"label": _("本党组织"), "url": url, "active": request.path == url})
    items.append({"label": _("API令牌"), "url": reverse("accounts:tokens"), "active": False})
    return {"nav_items": items}
