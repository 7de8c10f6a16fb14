from django.urls import path

from gaoxin.policies.views import applications as app_views
from gaoxin.policies.views import matching as match_views
from gaoxin.policies.views import notices as notice_views
from gaoxin.policies.views import payments as pay_views
from gaoxin.policies.views import setup as views
from gaoxin.policies.views import vouchers as voucher_views

app_name = "policies"

urlpatterns = [
    path("", views.policy_list, name="list"),
    path("new/", views.policy_create, name="create"),
    path("mine/", views.my_policies, name="mine"),
    path("<int:pk>/", views.policy_detail, name="detail"),
    path("<int:pk>/status/", views.policy_status, name="status"),
    path("<int:pk>/document/", views.policy_document, name="document"),
    path("<int:pk>/document/upload/", views.policy_document_upload, name="document_upload"),
    path("<int:pk>/measures/", views.measure_add, name="measure_add"),
    path("<int:pk>/measures/<int:measure_pk>/params/", views.measure_params, name="measure_params"),
    path("<int:pk>/measures/<int:measure_pk>/budget/", views.budget_set, name="budget_set"),
    # Applications, from the enterprise's draft to payment
    path("applications/", app_views.application_list, name="applications"),
    path("applications/start/", app_views.application_start, name="application_start"),
    path("applications/<int:pk>/", app_views.application_detail, name="application"),
    path("applications/<int:pk>/edit/", app_views.application_edit, name="application_edit"),
    path(
        "applications/<int:pk>/files/<int:attachment_pk>/",
        app_views.attachment_download,
        name="attachment",
    ),
    path(
        "applications/<int:pk>/files/<int:attachment_pk>/delete/",
        app_views.attachment_delete,
        name="attachment_delete",
    ),
    path("applications/<int:pk>/review/", app_views.application_review, name="application_review"),
    path("applications/<int:pk>/objections/", app_views.objection_record, name="objection_record"),
    path(
        "applications/<int:pk>/objections/<int:objection_pk>/",
        app_views.objection_resolve,
        name="objection_resolve",
    ),
    path(
        "applications/<int:pk>/approve/", app_views.application_approve, name="application_approve"
    ),
    path("applications/<int:pk>/payment/", app_views.payment_action, name="payment_action"),
    path("applications/<int:pk>/cancel/", app_views.application_cancel, name="application_cancel"),
    path("enterprise/<int:pk>/", app_views.enterprise_funds, name="enterprise"),
    # Public notices (公示) and the calendar they are counted on
    path("notices/", notice_views.notice_list, name="notices"),
    path("notices/new/", notice_views.notice_create, name="notice_create"),
    path("notices/holidays/", notice_views.holidays, name="holidays"),
    path("notices/<int:pk>/", notice_views.notice_detail, name="notice"),
    path("notices/<int:pk>/approve/", notice_views.notice_approve_all, name="notice_approve_all"),
    path("notices/<int:pk>/public/", notice_views.public_notice, name="notice_public"),
    path(
        "notices/<int:pk>/public.<str:fmt>",
        notice_views.notice_download,
        name="notice_download",
    ),
    # Payments and what was paid out
    path("payments/", pay_views.payments, name="payments"),
    path("payments/batches/", pay_views.batch_create, name="batch_create"),
    path("payments/batches/<int:pk>/", pay_views.batch_detail, name="payment_batch"),
    path("payments/batches/<int:pk>/file/", pay_views.batch_download, name="batch_download"),
    path("disbursements/", pay_views.disbursements, name="disbursements"),
    # Proactive matching (免申即享)
    path("matching/", match_views.runs, name="match_runs"),
    path("matching/<int:pk>/", match_views.run_detail, name="match_run"),
    path("matching/<int:pk>/decide/", match_views.run_decide, name="match_decide"),
    # Innovation vouchers (创新券)
    path("vouchers/", voucher_views.voucher_list, name="voucher_list"),
    path("vouchers/issue/", voucher_views.voucher_issue, name="voucher_issue"),
    path("vouchers/mine/", voucher_views.my_vouchers, name="my_vouchers"),
    path("vouchers/<int:pk>/", voucher_views.voucher_detail, name="voucher_detail"),
    path("vouchers/<int:pk>/redeem/", voucher_views.voucher_redeem, name="voucher_redeem"),
    path("vouchers/<int:pk>/release/", voucher_views.voucher_release, name="voucher_release"),
    path("vouchers/providers/", voucher_views.provider_list, name="provider_list"),
    path("vouchers/providers/new/", voucher_views.provider_create, name="provider_create"),
    path("vouchers/providers/<int:pk>/settlement/", voucher_views.settlement, name="settlement"),
]
