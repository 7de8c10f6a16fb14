"""The payer's pages: what waits to be paid, payment batches (the bank file, recording each
payment's outcome), and the disbursement report from the ledger."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gaoxin.accounts.roles import Cap
from gaoxin.policies import exports, selectors, services
from gaoxin.policies.models import Application, PaymentBatch
from gaoxin.policies.views.notices import XLSX
from gaoxin.policies.views.setup import _fail, _require, _year

S = Application.Status


@login_required
def payments(request: HttpRequest) -> HttpResponse:
    _require(request, Cap.POLICIES_PAY)
    ready = (
        Application.objects.filter(status__in=(S.APPROVED, S.FAILED))
        .select_related("enterprise", "measure__policy")
        .order_by("measure__policy_id", "measure__order", "enterprise__name")
    )
    batches = PaymentBatch.objects.annotate(total=Sum("payments__amount_fen")).select_related(
        "created_by"
    )[:50]
    return render(
        request,
        "policies/payments/index.html",
        {"ready": ready, "batches": batches},
    )


@login_required
@require_POST
def batch_create(request: HttpRequest) -> HttpResponse:
    _require(request, Cap.POLICIES_PAY)
    ids = request.POST.getlist("applications")
    chosen = list(
        Application.objects.filter(pk__in=[i for i in ids if i.isdigit()]).select_related(
            "enterprise", "measure"
        )
    )
    try:
        batch = services.payment_schedule(applications=chosen, acting_user=request.user)
    except ValidationError as exc:
        _fail(request, exc)
        return redirect("policies:payments")
    messages.success(request, _("已生成支付批次 %(n)s") % {"n": batch.number})
    return redirect("policies:payment_batch", pk=batch.pk)


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Cap.POLICIES_PAY)
    batch = get_object_or_404(PaymentBatch, pk=pk)
    rows = batch.payments.select_related("application__enterprise", "application__measure")
    return render(
        request,
        "policies/payments/batch.html",
        {
            "batch": batch,
            "rows": rows,
            "total": sum(p.amount_fen for p in rows),
            "today": timezone.localdate(),
        },
    )


@login_required
def batch_download(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Cap.POLICIES_PAY)
    batch = get_object_or_404(PaymentBatch, pk=pk)
    response = HttpResponse(exports.payment_batch_xlsx(batch), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{batch.number}.xlsx"'
    return response


@login_required
def disbursements(request: HttpRequest) -> HttpResponse:
    """How much was paid out in a year, per policy and measure, from the ledger."""
    _require(request, Cap.POLICIES_VIEW)
    year = _year(request)
    rows = selectors.disbursements(year)
    if request.GET.get("format") == "xlsx":
        data = exports.disbursement_xlsx(
            [
                {
                    "policy": r.policy,
                    "doc_number": r.doc_number,
                    "measure": r.measure,
                    "budget_year": r.budget_year,
                    "paid_fen": r.paid_fen,
                    "count": r.count,
                }
                for r in rows
            ],
            year,
        )
        response = HttpResponse(data, content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="disbursements-{year}.xlsx"'
        return response
    return render(
        request,
        "policies/payments/disbursements.html",
        {"year": year, "rows": rows, "total": sum(r.paid_fen for r in rows)},
    )
