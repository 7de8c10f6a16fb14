from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gaoxin.accounts import services
from gaoxin.accounts.models import ApiToken
from gaoxin.accounts.roles import Cap, Role


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.role == Role.ENTERPRISE and user.enterprise_id:
        return redirect("registry:detail", pk=user.enterprise_id)
    if user.role == Role.BRANCH_SECRETARY:
        return redirect("accounts:my_party_org")
    context = {}
    if user.can(Cap.REGISTRY_VIEW_ALL):
        from gaoxin.registry.selectors import registry_overview

        context["overview"] = registry_overview()
    return render(request, "home.html", context)


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    secret = None
    if request.method == "POST":
        _token, secret = services.token_create(user=request.user, name=request.POST.get("name", ""))
        messages.success(request, _("令牌已创建。请立即复制保存,它只显示这一次。"))
    return render(
        request,
        "accounts/tokens.html",
        {"tokens": ApiToken.objects.filter(user=request.user), "secret": secret},
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.token_revoke(token=token, acting_user=request.user)
    messages.success(request, _("令牌已作废"))
    return redirect("accounts:tokens")


@login_required
def my_party_org(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.can(Cap.PARTY_OWN) and user.party_org_id):
        raise Http404
    org = user.party_org
    children = org.children.all().order_by("name")
    return render(request, "accounts/party_org.html", {"org": org, "children": children})
