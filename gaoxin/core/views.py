from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gaoxin.accounts.roles import Cap
from gaoxin.core.access import require
from gaoxin.core.models import AuditEntry
from gaoxin.core.selectors import audit_entries


@login_required
def audit_search(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.AUDIT_VIEW)
    params = {
        k: request.GET.get(k, "").strip()
        for k in ("q", "actor", "model", "action", "since", "until")
    }
    qs = audit_entries(**params)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "core/audit_search.html",
        {"page": page, "params": params, "actions": AuditEntry.Action.choices},
    )


@login_required
def audit_object(request: HttpRequest, model: str, object_id: str) -> HttpResponse:
    require(request.user, Cap.AUDIT_VIEW)
    qs = audit_entries(model=model, object_id=object_id)
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "core/audit_search.html",
        {
            "page": page,
            "params": {"model": model},
            "object_id": object_id,
            "actions": AuditEntry.Action.choices,
        },
    )
