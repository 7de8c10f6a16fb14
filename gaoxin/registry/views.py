from __future__ import annotations

import os
import tempfile
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gaoxin.accounts.roles import Cap
from gaoxin.core.access import (
    can_edit_enterprise,
    can_edit_qualifications,
    enterprises_visible_to,
    get_chain_for_user,
    get_enterprise_for_user,
    get_qualification_for_user,
    require,
)
from gaoxin.registry import selectors, services
from gaoxin.registry.exports import write_enterprise_list
from gaoxin.registry.forms import (
    ChainForm,
    EnterpriseFilterForm,
    EnterpriseForm,
    EnterpriseSelfForm,
    QualificationForm,
    SeiReviewForm,
)
from gaoxin.registry.models import Enterprise

LIST_PAGE_SIZE = 50
TIMELINE_PAGE_SIZE = 50


@login_required
def enterprise_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.REGISTRY_VIEW_ALL)
    today = timezone.localdate()
    params = selectors.enterprise_filter_params(request.GET)
    qs = selectors.enterprise_filter(params, base=enterprises_visible_to(request.user), today=today)
    # The qualifications shown are those valid on the date the filter asks about.
    qualification_day = selectors.parse_date_or_none(params.get("on", "")) or today
    qs = selectors.with_current_qualifications(
        qs.select_related("industry", "chain", "grid"), qualification_day
    )
    page = Paginator(qs, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    form = EnterpriseFilterForm(request.GET or None)
    if form.is_bound:
        form.is_valid()  # shows a wrong date; the selector ignores it
    return render(
        request,
        "registry/list.html",
        {
            "page": page,
            "form": form,
            "params": params,
            "sort": params.get("sort", "name"),
            "qualification_day": qualification_day,
            "can_create": request.user.can(Cap.REGISTRY_EDIT),
        },
    )


@login_required
def enterprise_export(request: HttpRequest) -> HttpResponseBase:
    """Exactly the list the page shows (same selector, same parameters), as .xlsx."""
    require(request.user, Cap.REGISTRY_VIEW_ALL)
    today = timezone.localdate()
    params = selectors.enterprise_filter_params(request.GET)
    qs = selectors.enterprise_filter(params, base=enterprises_visible_to(request.user), today=today)
    fd, path = tempfile.mkstemp(prefix="gaoxin-export-", suffix=".xlsx")
    os.close(fd)
    try:
        day = selectors.parse_date_or_none(params.get("on", "")) or today
        rows = write_enterprise_list(qs, path, qualification_day=day)
        services.enterprise_list_export_record(filters=params, rows=rows, acting_user=request.user)
        handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    finally:
        try:
            os.unlink(path)  # the open handle keeps the data until the response is sent
        except OSError:
            pass
    filename = _("企业名录_%(day)s.xlsx") % {"day": today.strftime("%Y%m%d")}
    return FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@login_required
def enterprise_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    enterprise = get_enterprise_for_user(user, pk)
    timeline = Paginator(
        selectors.enterprise_timeline(enterprise.pk).select_related("actor"), TIMELINE_PAGE_SIZE
    ).get_page(request.GET.get("tpage"))
    selectors.describe_changes(timeline.object_list)
    return render(
        request,
        "registry/detail.html",
        {
            "e": enterprise,
            "industry_path": selectors.industry_path(enterprise.industry),
            "qualification_groups": selectors.qualifications_by_kind(enterprise),
            "timeline": timeline,
            "can_edit": can_edit_enterprise(user, enterprise),
            "can_delete": user.can(Cap.REGISTRY_EDIT),
            "can_edit_qualifications": can_edit_qualifications(user),
            "can_audit": user.can(Cap.AUDIT_VIEW),
            "is_own": user.can(Cap.REGISTRY_OWN) and user.enterprise_id == enterprise.pk,
            "perms_policies": user.can(Cap.POLICIES_VIEW)
            or (user.can(Cap.POLICIES_OWN) and user.enterprise_id == enterprise.pk),
            "today": timezone.localdate(),
        },
    )


@login_required
def enterprise_create(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.REGISTRY_EDIT)
    form = EnterpriseForm(
        request.POST or None,
        initial={"status": Enterprise.Status.OPERATING, "is_non_public": True},
        can_review=request.user.can(Cap.REGISTRY_REVIEW),
    )
    if request.method == "POST" and form.is_valid():
        try:
            enterprise = services.enterprise_create(
                data=form.service_data(), acting_user=request.user
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已新增企业“%(name)s”") % {"name": enterprise.name})
            return redirect("registry:detail", pk=enterprise.pk)
    return render(request, "registry/enterprise_form.html", {"form": form, "e": None})


@login_required
def enterprise_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    enterprise = get_enterprise_for_user(user, pk, for_edit=True)
    staff = user.can(Cap.REGISTRY_EDIT)
    form_class = EnterpriseForm if staff else EnterpriseSelfForm
    form = form_class(
        request.POST or None, instance=enterprise, can_review=user.can(Cap.REGISTRY_REVIEW)
    )
    if request.method == "POST" and form.is_valid():
        update = services.enterprise_update if staff else services.enterprise_self_update
        try:
            update(enterprise=enterprise, data=form.service_data(), acting_user=user)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("registry:detail", pk=enterprise.pk)
    return render(
        request,
        "registry/enterprise_form.html",
        {"form": form, "e": enterprise, "self_service": not staff},
    )


@login_required
def enterprise_delete(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, Cap.REGISTRY_EDIT)
    enterprise = get_enterprise_for_user(request.user, pk, for_edit=True)
    error = None
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            error = _("请勾选“确认删除”后再提交")
        else:
            name = enterprise.name
            try:
                services.enterprise_delete(enterprise=enterprise, acting_user=request.user)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, _("已删除企业“%(name)s”") % {"name": name})
                return redirect("registry:list")
    return render(
        request,
        "registry/enterprise_delete.html",
        {
            "e": enterprise,
            "error": error,
            "qualification_count": enterprise.qualifications.count(),
        },
        status=400 if error else 200,
    )


@login_required
def qualification_create(request: HttpRequest, pk: int) -> HttpResponse:
    if not can_edit_qualifications(request.user):
        raise Http404
    enterprise = get_enterprise_for_user(request.user, pk)
    form = QualificationForm(request.POST or None, enterprise=enterprise)
    if request.method == "POST" and form.is_valid():
        try:
            services.qualification_create(
                enterprise=enterprise, data=form.service_data(), acting_user=request.user
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已添加资质"))
            return redirect("registry:detail", pk=enterprise.pk)
    return render(
        request, "registry/qualification_form.html", {"form": form, "e": enterprise, "q": None}
    )


@login_required
def qualification_edit(request: HttpRequest, pk: int) -> HttpResponse:
    qualification = get_qualification_for_user(request.user, pk, for_edit=True)
    form = QualificationForm(request.POST or None, instance=qualification)
    if request.method == "POST" and form.is_valid():
        try:
            services.qualification_update(
                qualification=qualification, data=form.service_data(), acting_user=request.user
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已保存资质"))
            return redirect("registry:detail", pk=qualification.enterprise_id)
    return render(
        request,
        "registry/qualification_form.html",
        {"form": form, "e": qualification.enterprise, "q": qualification},
    )


@login_required
def qualification_delete(request: HttpRequest, pk: int) -> HttpResponse:
    qualification = get_qualification_for_user(request.user, pk, for_edit=True)
    enterprise = qualification.enterprise
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        services.qualification_delete(qualification=qualification, acting_user=request.user)
        messages.success(request, _("已删除资质记录"))
        return redirect("registry:detail", pk=enterprise.pk)
    return render(
        request, "registry/qualification_delete.html", {"q": qualification, "e": enterprise}
    )


@login_required
def chain_list(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.REGISTRY_CONFIGURE)
    form = ChainForm(request.POST or None, initial={"is_active": True, "sort_order": 0})
    if request.method == "POST" and form.is_valid():
        try:
            chain = services.chain_save(
                chain=None, data=form.service_data(), acting_user=request.user
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已新增产业链“%(name)s”") % {"name": chain.name})
            return redirect("registry:chains")
    return render(
        request,
        "registry/chains.html",
        {"chains": selectors.chains_with_counts(), "form": form},
    )


@login_required
def chain_edit(request: HttpRequest, pk: int) -> HttpResponse:
    chain = get_chain_for_user(request.user, pk)
    form = ChainForm(request.POST or None, instance=chain)
    if request.method == "POST" and form.is_valid():
        try:
            services.chain_save(chain=chain, data=form.service_data(), acting_user=request.user)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("已保存产业链“%(name)s”") % {"name": chain.name})
            return redirect("registry:chains")
    return render(request, "registry/chain_form.html", {"form": form, "chain": chain})


@login_required
def sei_review(request: HttpRequest) -> HttpResponse:
    require(request.user, Cap.REGISTRY_REVIEW)
    page = Paginator(selectors.enterprises_declared_for_review(), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "registry/sei_review.html", {"page": page, "form": SeiReviewForm()})


@login_required
@require_POST
def sei_review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, Cap.REGISTRY_REVIEW)
    enterprise = get_enterprise_for_user(request.user, pk)
    form = SeiReviewForm(request.POST)
    if form.is_valid():
        try:
            services.enterprise_sei_review(
                enterprise=enterprise,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
                acting_user=request.user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            done = (
                _("已确认")
                if form.cleaned_data["decision"] == Enterprise.SeiStatus.CONFIRMED
                else _("已退回")
            )
            messages.success(request, f"{enterprise.name}:{done}")
    else:
        errors: list[Any] = [m for msgs in form.errors.values() for m in msgs]
        messages.error(request, f"{enterprise.name}:{' '.join(errors)}")
    return redirect("registry:sei_review")
