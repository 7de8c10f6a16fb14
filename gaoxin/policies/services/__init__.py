"""Writes for policy funds. Each service validates, writes in one transaction and leaves an
audit row. Split by area: setup (policies, measures, budgets, loans), applications (the
workflow to approval), payments, ledger, matching, vouchers."""

from gaoxin.policies.services.applications import (
    TRANSITIONS,
    application_attach,
    application_pass,
    application_reject,
    application_return,
    application_start,
    application_submit,
    application_update,
    attachment_remove,
    notice_publish,
    objection_record,
    objection_resolve,
)
from gaoxin.policies.services.matching import (
    match_confirm,
    match_dismiss,
    match_run,
    match_run_verify,
)
from gaoxin.policies.services.payments import (
    application_approve,
    application_cancel,
    payment_execute,
    payment_fail,
    payment_reverse,
    payment_schedule,
)
from gaoxin.policies.services.setup import (
    POLICY_TRANSITIONS,
    budget_set,
    interest_payment_record,
    loan_register,
    measure_add,
    measure_params_set,
    policy_attach_document,
    policy_create,
    policy_set_status,
)
from gaoxin.policies.services.vouchers import (
    provider_register,
    settlement_create,
    voucher_issue,
    voucher_redeem,
    voucher_release,
)

__all__ = [
    "POLICY_TRANSITIONS",
    "TRANSITIONS",
    "application_approve",
    "application_attach",
    "application_cancel",
    "application_pass",
    "application_reject",
    "application_return",
    "application_start",
    "application_submit",
    "application_update",
    "attachment_remove",
    "budget_set",
    "interest_payment_record",
    "loan_register",
    "measure_add",
    "match_confirm",
    "match_dismiss",
    "match_run",
    "match_run_verify",
    "measure_params_set",
    "notice_publish",
    "objection_record",
    "objection_resolve",
    "payment_execute",
    "payment_fail",
    "payment_reverse",
    "payment_schedule",
    "policy_attach_document",
    "policy_create",
    "policy_set_status",
    "provider_register",
    "settlement_create",
    "voucher_issue",
    "voucher_redeem",
    "voucher_release",
]
