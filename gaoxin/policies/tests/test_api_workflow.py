"""The workflow through the JSON API: the enterprise applies and submits, staff review, approve
and pay with Idempotency-Key replays, matching runs are created, read, verified and decided."""

from __future__ import annotations

import json

import pytest

from gaoxin.policies import services
from gaoxin.policies.models import Application, LedgerEntry
from gaoxin.policies.tests.test_facts import WAN
from gaoxin.policies.tests.test_workflow import NOTICE_DAY, make_policy, user_of

pytestmark = pytest.mark.django_db
BASE = "/api/policies/applications"


def post(client, url, body=None, **headers):
    return client.post(url, json.dumps(body or {}), content_type="application/json", **headers)


def test_the_path_through_the_api(
    policy_zone, zone_admin, dept_reviewer, scitech_staff, payer, client_for, other_ent_user
):
    policy = make_policy(zone_admin)
    loan = policy.measures.get(code="loan_interest")
    clerk = client_for(user_of(policy_zone["A"], "a_clerk"))
    created = post(clerk, BASE, {"measure_id": loan.pk, "year": 2019})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["computed_fen"], body["facts"]["interest_paid"]) == (
        "draft",
        20 * WAN,
        40 * WAN,
    )
    pk = body["id"]
    refused = post(clerk, f"{BASE}/{pk}/submit")
    assert refused.status_code == 422
    assert {e["field"] for e in refused.json()["errors"]} == {"account_bank", "account_no"}
    patched = clerk.patch(
        f"{BASE}/{pk}",
        json.dumps({"account_bank": "柳州银行", "account_no": "6230000011112222"}),
        content_type="application/json",
    )
    assert patched.json()["account_no"] == "6230000011112222"
    assert post(clerk, f"{BASE}/{pk}/submit").json()["status"] == "submitted"
    assert client_for(other_ent_user).get(f"{BASE}/{pk}").status_code == 404

    reviewer = client_for(dept_reviewer)
    assert post(reviewer, f"{BASE}/{pk}/review", {"decision": "pass"}).json()["status"] == "passed"
    application = Application.objects.get(pk=pk)
    services.notice_publish(
        policy=policy,
        year=2019,
        applications=[application],
        published_on=NOTICE_DAY,
        today=NOTICE_DAY,
        acting_user=scitech_staff,
    )
    # Approval waits for the notice to end (it ended in 2019), then is idempotent by key.
    staff = client_for(scitech_staff)
    first = post(staff, f"{BASE}/{pk}/approve", HTTP_IDEMPOTENCY_KEY="approve-1")
    again = post(staff, f"{BASE}/{pk}/approve", HTTP_IDEMPOTENCY_KEY="approve-1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert LedgerEntry.objects.filter(kind="commit").count() == 1
    without_key = post(staff, f"{BASE}/{pk}/approve")
    assert without_key.status_code == 422  # already approved

    cashier = client_for(payer)
    assert post(cashier, f"{BASE}/{pk}/schedule").json()["status"] == "scheduled"
    pay = {"paid_on": "2019-10-15", "bank_reference": "BK-9"}
    one = post(cashier, f"{BASE}/{pk}/pay", pay, HTTP_IDEMPOTENCY_KEY="pay-1")
    two = post(cashier, f"{BASE}/{pk}/pay", pay, HTTP_IDEMPOTENCY_KEY="pay-1")
    assert one.status_code == two.status_code == 200
    assert one.json()["status"] == "paid" and one.json() == two.json()
    (paid,) = one.json()["payments"]
    assert (paid["status"], paid["amount_fen"], paid["paid_on"]) == ("paid", 20 * WAN, "2019-10-15")
    # A copy arriving while the first is still running is told to wait, and acts on nothing.
    from gaoxin.core.models import IdempotencyKey

    running = IdempotencyKey.objects.get(key="pay-1")
    IdempotencyKey.objects.create(user=running.user, key="pay-3", fingerprint=running.fingerprint)
    assert post(cashier, f"{BASE}/{pk}/pay", pay, HTTP_IDEMPOTENCY_KEY="pay-3").status_code == 409
    other_body = post(
        cashier, f"{BASE}/{pk}/pay", {"paid_on": "2019-10-16"}, HTTP_IDEMPOTENCY_KEY="pay-1"
    )
    assert other_body.status_code == 422
    second_key = post(cashier, f"{BASE}/{pk}/pay", pay, HTTP_IDEMPOTENCY_KEY="pay-2")
    assert second_key.status_code == 422
    assert "不能重复支付" in second_key.json()["errors"][0]["message"]
    assert LedgerEntry.objects.filter(kind="payment").count() == 1

    report = client_for(zone_admin).get("/api/policies/disbursements", {"year": 2019}).json()
    assert [(r["measure"], r["paid_fen"], r["count"]) for r in report] == [
        ("贷款贴息", 20 * WAN, 1)
    ]
    assert [e["to_status"] for e in clerk.get(f"{BASE}/{pk}").json()["events"]][-1] == "paid"


def test_the_payer_must_not_be_the_reviewer_through_the_api(
    policy_zone, zone_admin, client_for, scitech_staff
):
    policy = make_policy(zone_admin)
    loan = policy.measures.get(code="loan_interest")
    application = Application.objects.create(
        enterprise=policy_zone["A"],
        measure=loan,
        year=2019,
        status=Application.Status.APPROVED,
        version=loan.current(),
        eligible=True,
        computed_fen=20 * WAN,
        amount_fen=20 * WAN,
        reviewed_by=zone_admin,
        account_bank="柳州银行",
        account_name="A",
        account_no="1",
    )
    response = post(client_for(zone_admin), f"{BASE}/{application.pk}/schedule")
    assert response.status_code == 422
    assert "不能是该申请的申请人、审核人或批准人" in response.json()["errors"][0]["message"]


def test_matching_runs_through_the_api(policy_zone, zone_admin, scitech_staff, client_for, leader):
    make_policy(zone_admin, codes=("loan_interest", "hte_recognition"))
    staff = client_for(scitech_staff)
    assert post(client_for(leader), "/api/policies/matching", {"year": 2019}).status_code == 404
    run = post(staff, "/api/policies/matching", {"year": 2019})
    assert run.status_code == 201
    body = run.json()
    assert (body["enterprises"], body["matches"], body["total_fen"]) == (5, 3, 50 * WAN)
    matches = staff.get(f"/api/policies/matching/{body['id']}/matches").json()
    assert {m["code"] for m in matches} == {"loan_interest", "hte_recognition"}
    assert staff.get(f"/api/policies/matching/{body['id']}/verify").json()["same"] is True
    loan_match = next(m for m in matches if m["code"] == "loan_interest")
    decided = post(
        staff,
        f"/api/policies/matching/{body['id']}/decide",
        {"match_ids": [loan_match["id"]]},
        HTTP_IDEMPOTENCY_KEY="confirm-1",
    )
    replay = post(
        staff,
        f"/api/policies/matching/{body['id']}/decide",
        {"match_ids": [loan_match["id"]]},
        HTTP_IDEMPOTENCY_KEY="confirm-1",
    )
    assert decided.json() == replay.json()
    (pk,) = decided.json()["applications"]
    assert Application.objects.get(pk=pk).source == Application.Source.MATCHED
    assert Application.objects.count() == 1
