"""The application path as people walk it in the browser: the enterprise applies from 可享政策
and submits, the reviewer passes, staff publish the notice and approve, the payer pays from a
batch; the public reads the notice; another enterprise sees nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gaoxin.policies.models import Application, Holiday, Notice
from gaoxin.policies.tests.test_facts import WAN
from gaoxin.policies.tests.test_workflow import make_policy, user_of

pytestmark = pytest.mark.django_db
S = Application.Status


def on(monkeypatch, day: dt.date) -> None:
    """The pages' "today" (notices are never back-dated, approvals wait for their end)."""
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *args, **kwargs: day)


def test_from_apply_to_paid_through_the_pages(
    policy_zone, zone_admin, dept_reviewer, scitech_staff, payer, client_for, monkeypatch
):
    policy = make_policy(zone_admin)
    loan = policy.measures.get(code="loan_interest")
    a = policy_zone["A"]
    clerk = client_for(user_of(a, "a_clerk"))

    page = clerk.get(reverse("policies:mine"), {"year": 2019})
    assert "申请" in page.content.decode()
    response = clerk.post(reverse("policies:application_start"), {"measure": loan.pk, "year": 2019})
    application = Application.objects.get(enterprise=a, measure=loan)
    assert response.status_code == 302
    assert response["Location"] == reverse("policies:application", args=[application.pk])
    page = clerk.get(response["Location"]).content.decode()
    assert "200,000.00" in page  # the amount the rule computes, before submitting
    assert "400,000.00" in page  # the interest it read from the zone's records

    # Submitting without an account is refused with the field named, nothing changes.
    response = clerk.post(
        reverse("policies:application_edit", args=[application.pk]), {"submit": "1"}, follow=True
    )
    assert "请填写收款账户信息" in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.DRAFT

    response = clerk.post(
        reverse("policies:application_edit", args=[application.pk]),
        {
            "account_bank": "柳州银行高新支行",
            "account_name": a.name,
            "account_no": "6230000011112222",
            "statement": "2019年贷款利息已按期支付",
            "files": [SimpleUploadedFile("合同.pdf", b"%PDF-1.4 x", "application/pdf")],
            "submit": "1",
        },
        follow=True,
    )
    assert "申请已提交" in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.SUBMITTED
    attachment = application.attachments.get()
    assert (
        clerk.get(reverse("policies:attachment", args=[application.pk, attachment.pk])).status_code
        == 200
    )

    reviewer = client_for(dept_reviewer)
    reviewer.post(
        reverse("policies:application_review", args=[application.pk]), {"decision": "pass"}
    )
    application.refresh_from_db()
    assert application.status == S.PASSED

    staff = client_for(scitech_staff)
    on(monkeypatch, dt.date(2019, 9, 27))
    backdated = staff.post(
        reverse("policies:notice_create"),
        {
            "policy": policy.pk,
            "year": 2019,
            "applications": [application.pk],
            "published_on": "2019-09-20",
            "working_days": "5",
        },
    )
    assert "发布日期不能早于今天" in backdated.content.decode()
    form = staff.get(reverse("policies:notice_create"), {"policy": policy.pk, "year": 2019})
    assert a.name in form.content.decode()
    response = staff.post(
        reverse("policies:notice_create"),
        {
            "policy": policy.pk,
            "year": 2019,
            "applications": [application.pk],
            "published_on": "2019-09-27",
            "working_days": "5",
            "contact": "高新区科技局 0772-1234567",
        },
    )
    notice = Notice.objects.get()
    assert response["Location"] == reverse("policies:notice", args=[notice.pk])
    assert notice.ends_on == dt.date(2019, 10, 9)

    # The public reads the notice without signing in; no account number is shown in full.
    anonymous = Client()
    page = anonymous.get(reverse("policies:notice_public", args=[notice.pk])).content.decode()
    assert a.name in page and "200,000.00" in page and "2019年10月9日" in page
    assert "6230000011112222" not in page
    pdf = anonymous.get(reverse("policies:notice_download", args=[notice.pk, "pdf"]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    xlsx = anonymous.get(reverse("policies:notice_download", args=[notice.pk, "xlsx"]))
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"

    early = staff.post(reverse("policies:notice_approve_all", args=[notice.pk]), follow=True)
    assert "结束后才能批准" in early.content.decode()
    on(monkeypatch, dt.date(2019, 10, 10))
    response = staff.post(reverse("policies:notice_approve_all", args=[notice.pk]), follow=True)
    assert "已批准 1 件" in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.APPROVED

    on(monkeypatch, dt.date(2019, 10, 20))
    cashier = client_for(payer)
    page = cashier.get(reverse("policies:payments")).content.decode()
    assert a.name in page
    response = cashier.post(reverse("policies:batch_create"), {"applications": [application.pk]})
    batch_url = response["Location"]
    batch_page = cashier.get(batch_url).content.decode()
    assert "6230000011112222" in batch_page
    bank_file = cashier.get(batch_url + "file/")
    assert bank_file.status_code == 200 and bank_file.content[:2] == b"PK"
    for _ in range(2):  # a double click sends the same key twice: paid once
        cashier.post(
            reverse("policies:payment_action", args=[application.pk]),
            {
                "step": "paid",
                "paid_on": "2019-10-15",
                "bank_reference": "BK-1",
                "idempotency_key": "form-key-1",
            },
        )
    application.refresh_from_db()
    assert application.status == S.PAID
    assert application.payments.filter(status="paid").count() == 1

    report = client_for(zone_admin).get(reverse("policies:disbursements"), {"year": 2019})
    text = report.content.decode()
    assert "贷款贴息" in text and "200,000.00" in text

    # The enterprise sees its application paid, with the history of every step.
    page = clerk.get(reverse("policies:application", args=[application.pk])).content.decode()
    assert "已支付" in page and "已通过审核" in page and "公示中" in page

    # The enterprise profile lists its applications and payments (the match worklist is for
    # staff only).
    profile = clerk.get(reverse("registry:detail", args=[a.pk])).content.decode()
    assert reverse("policies:enterprise", args=[a.pk]) in profile
    funds = clerk.get(reverse("policies:enterprise", args=[a.pk]), HTTP_HX_REQUEST="true")
    text = funds.content.decode()
    assert "贷款贴息" in text and "2019-10-15" in text and "200,000.00" in text
    assert "免申即享匹配" not in text
    staff_view = client_for(zone_admin).get(reverse("policies:enterprise", args=[a.pk]))
    assert "免申即享匹配" in staff_view.content.decode()


def test_another_enterprise_cannot_see_or_touch_the_application(
    policy_zone, zone_admin, client_for, other_ent_user
):
    policy = make_policy(zone_admin)
    a = policy_zone["A"]
    clerk = user_of(a, "a_clerk")
    client_for(clerk).post(
        reverse("policies:application_start"),
        {"measure": policy.measures.get(code="loan_interest").pk, "year": 2019},
    )
    application = Application.objects.get()
    other = client_for(other_ent_user)
    assert other.get(reverse("policies:application", args=[application.pk])).status_code == 404
    assert (
        other.post(
            reverse("policies:application_edit", args=[application.pk]), {"statement": "x"}
        ).status_code
        == 404
    )
    listing = other.get(reverse("policies:applications")).content.decode()
    assert a.name not in listing


def test_the_worklist_filters_and_does_not_grow_queries_with_rows(
    policy_zone, zone_admin, client_for
):
    policy = make_policy(zone_admin)
    loan = policy.measures.get(code="loan_interest")
    for name, enterprise in policy_zone.items():
        Application.objects.create(
            enterprise=enterprise,
            measure=loan,
            year=2019,
            status=S.SUBMITTED if name in "AB" else S.DRAFT,
            version=loan.current(),
            computed_fen=WAN,
        )
    client = client_for(zone_admin)
    page = client.get(reverse("policies:applications"), {"status": "submitted"}).content.decode()
    assert policy_zone["A"].name in page and policy_zone["C"].name not in page
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("policies:applications"))
    Application.objects.filter(status=S.DRAFT).update(year=2018)
    with CaptureQueriesContext(connection) as same:
        client.get(reverse("policies:applications"), {"year": "2018"})
    assert len(same) == len(few)


def test_holidays_page_changes_how_notices_count(zone_admin, client_for):
    client = client_for(zone_admin)
    client.post(
        reverse("policies:holidays"), {"day": "2031-01-01", "is_workday": "0", "name": "元旦"}
    )
    assert Holiday.objects.get().name == "元旦"
    page = client.get(reverse("policies:holidays")).content.decode()
    assert "2031-01-01" in page
    client.post(reverse("policies:holidays"), {"day": "2031-01-01", "remove": "1"})
    assert not Holiday.objects.exists()


def test_the_policy_document_is_uploaded_and_read_by_who_may(
    zone_admin, client_for, ent_user, leader
):
    from gaoxin.policies.models import Policy

    admin = client_for(zone_admin)
    response = admin.post(
        reverse("policies:create"),
        {
            "title": "柳州高新区促进科技创新若干措施",
            "issuer": "柳州高新区管委会",
            "effective_from": "2019-01-01",
            "document": SimpleUploadedFile("柳高管发〔2019〕8号.pdf", b"%PDF-1.4 policy"),
        },
    )
    policy = Policy.objects.get()
    assert response["Location"] == reverse("policies:detail", args=[policy.pk])
    url = reverse("policies:document", args=[policy.pk])
    assert b"".join(client_for(leader).get(url).streaming_content) == b"%PDF-1.4 policy"
    assert client_for(ent_user).get(url).status_code == 404  # a draft is not public yet
    refused = admin.post(
        reverse("policies:document_upload", args=[policy.pk]),
        {"document": SimpleUploadedFile("run.exe", b"MZ")},
        follow=True,
    )
    assert "类型不支持" in refused.content.decode()
    Policy.objects.filter(pk=policy.pk).update(status=Policy.Status.PUBLISHED)
    assert client_for(ent_user).get(url).status_code == 200
