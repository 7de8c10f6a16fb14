from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.pagination import PageNumberPagination, paginate

from gaoxin.accounts.roles import Cap
from gaoxin.core.access import require
from gaoxin.core.selectors import audit_entries

router = Router(tags=["audit"])


class AuditEntryOut(Schema):
    id: int
    at: dt.datetime
    actor_label: str
    ip: str | None
    channel: str
    action: str
    model: str
    object_id: str
    object_repr: str
    enterprise_id: int | None
    changes: dict[str, Any]
    batch: str | None = Field(None)

    @staticmethod
    def resolve_batch(obj: Any) -> str | None:
        return str(obj.batch) if obj.batch else None


@router.get("/audit", response=list[AuditEntryOut], summary="审计记录查询")
@paginate(PageNumberPagination, page_size=50)
def list_audit(
    request: HttpRequest,
    q: str = "",
    actor: str = "",
    model: str = "",
    action: str = "",
    object_id: str = "",
    since: str = "",
    until: str = "",
) -> Any:
    require(request.user, Cap.AUDIT_VIEW)
    return audit_entries(
        q=q, actor=actor, model=model, action=action, object_id=object_id, since=since, until=until
    )
