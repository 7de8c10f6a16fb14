from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gaoxin.accounts.roles import Cap
from gaoxin.core.access import enterprises_visible_to, get_enterprise_for_user, require
from gaoxin.registry.selectors import search_filter


@login_required
def enterprise_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.REGISTRY_VIEW_ALL)
    qs = enterprises_visible_to(request.user).filter(search_filter(request.GET.get("q", "")))
    page = Paginator(qs.select_related("industry", "chain"), 50).get_page(request.GET.get("page"))
    return render(request, "registry/list.html", {"page": page})


@login_required
def enterprise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    enterprise = get_enterprise_for_user(request.user, pk)
    return render(request, "registry/detail.html", {"e": enterprise})


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.REGISTRY_IMPORT)
    return render(request, "registry/list.html", {})


@login_required
def chain_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.REGISTRY_CONFIGURE)
    return render(request, "registry/list.html", {})


@login_required
def sei_review(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.REGISTRY_REVIEW)
    return render(request, "registry/list.html", {})
