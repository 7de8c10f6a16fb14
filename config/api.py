"""The assembled JSON API: one NinjaAPI, one router per app, session or bearer-token auth."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from gaoxin.core.api_bodies import service_error_body


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from gaoxin.accounts.models import ApiToken

        found = (
            ApiToken.objects.select_related("user")
            .filter(digest=ApiToken.hash(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if found is None:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        request.user = found.user
        return found.user


class SessionAuth(APIKeyCookie):
    """Django session, with CSRF checked on unsafe methods."""

    param_name = "sessionid"

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


api = NinjaAPI(
    title="Gaoxin API",
    version="1.0",
    description=(
        "高新区管理平台 JSON API。认证:会话(浏览器,写操作需 X-CSRFToken)"
        "或 Authorization: Bearer <令牌>(在“API令牌”页面创建)。"
        "Gaoxin JSON API. Auth: browser session or a bearer token."
    ),
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
)


@api.exception_handler(ValidationError)
def validation_errors(request: HttpRequest, exc: ValidationError) -> Any:
    fields = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "payload", "query")]
        fields.append({"field": ".".join(loc), "message": err.get("msg", "")})
    return api.create_response(request, {"detail": _("输入有误"), "errors": fields}, status=422)


@api.exception_handler(DjangoValidationError)
def service_errors(request: HttpRequest, exc: DjangoValidationError) -> Any:
    """A service refused the write: the same 422 shape as a schema error, one entry per field."""
    return api.create_response(request, service_error_body(exc), status=422)


@api.exception_handler(AuthenticationError)
def auth_error(request: HttpRequest, exc: AuthenticationError) -> Any:
    return api.create_response(request, {"detail": _("未登录或令牌无效")}, status=401)


def _register_routers() -> None:
    from gaoxin.core.api import router as core_router
    from gaoxin.core.import_api import import_router
    from gaoxin.indicators.api import router as indicators_router
    from gaoxin.policies.api import router as policies_router
    from gaoxin.policies.api_vouchers import router as vouchers_router
    from gaoxin.policies.api_workflow import (
        applications_router,
        disbursements_router,
        matching_router,
    )
    from gaoxin.registry.api import router as registry_router
    from gaoxin.registry.api_import import router as registry_import_router
    from gaoxin.reports.api import router as reports_router
    from gaoxin.reports.import_views import REPORT_FLOW

    api.add_router("/core", core_router)
    api.add_router("/registry", registry_router)
    api.add_router("/registry/imports", registry_import_router)
    api.add_router(
        "/reports/imports",
        import_router(REPORT_FLOW, base="/reports/imports", tag="reports-import"),
    )
    api.add_router("/reports", reports_router)
    api.add_router("/indicators", indicators_router)
    # Before "/policies": its "/{policy_id}" would otherwise take these paths.
    api.add_router("/policies/vouchers", vouchers_router)
    api.add_router("/policies/applications", applications_router)
    api.add_router("/policies/matching", matching_router)
    api.add_router("/policies/disbursements", disbursements_router)
    api.add_router("/policies", policies_router)


_register_routers()
