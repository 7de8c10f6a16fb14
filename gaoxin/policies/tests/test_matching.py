"""Proactive matching (免申即享): a recorded run over the whole zone that agrees with the
one-enterprise decisions, reproduces from its snapshot, and leads through confirmation to the
usual review path; the command's output."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from gaoxin.core.models import AuditEntry
from gaoxin.policies import services
from gaoxin.policies.models import Application, Match
from gaoxin.policies.selectors import decide_one
from gaoxin.policies.tests.test_facts import WAN
from gaoxin.policies.tests.test_workflow import make_policy, user_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(policy_zone, zone_admin):
    return make_policy(
        zone_admin, codes=("new_above_scale", "rd_subsidy", "loan_interest", "hte_recognition")
    )


def test_a_run_matches_what_each_enterprise_would_be_decided(policy, policy_zone, scitech_staff):
    z = policy_zone
    run = services.match_run(year=2019, acting_user=scitech_staff)
    got = {
        (m.enterprise_id, m.measure.code): m.amount_fen
        for m in run.results.select_related("measure")
    }
    assert got == {
        (z["C"].pk, "new_above_scale"): 10 * WAN,
        (z["B"].pk, "rd_subsidy"): 10 * WAN,
        (z["A"].pk, "loan_interest"): 20 * WAN,
        (z["A"].pk, "hte_recognition"): 10 * WAN,
        (z["E"].pk, "hte_recognition"): 20 * WAN,
    }
    assert (run.enterprises, run.matches, run.total_fen) == (5, 5, 70 * WAN)
    # The same rule versions, one enterprise at a time, give the same.
    for match in run.results.select_related("enterprise", "measure"):
        one = decide_one(match.enterprise, match.measure, 2019)
        assert (one.eligible, one.amount_fen, one.version) == (
            True,
            match.amount_fen,
            match.version,
        )
        assert match.facts == one.facts
    assert run.versions.count() == 4
    assert AuditEntry.objects.filter(model="policies.matchrun", object_id=str(run.pk)).exists()


def test_a_run_reproduces_from_its_snapshot_even_after_the_data_and_rules_change(
    policy, policy_zone, scitech_staff, zone_admin
):
    run = services.match_run(year=2019, acting_user=scitech_staff)
    loan = policy.measures.get(code="loan_interest")
    services.measure_params_set(measure=loan, params={"share_pct": 80}, acting_user=zone_admin)
    check = services.match_run_verify(run)
    assert check.same and check.snapshot_intact
    later = services.match_run(year=2019, acting_user=scitech_staff)
    assert later.results.get(measure=loan).amount_fen == 32 * WAN  # 80% of 40万
    # A tampered snapshot is detected.
    run.snapshot.open("wb").write(b"not the facts")
    run.snapshot.close()
    check = services.match_run_verify(run)
    assert not check.same and not check.snapshot_intact


def test_confirmed_matches_become_applications_the_enterprise_confirms(
    policy, policy_zone, scitech_staff, dept_reviewer
):
    a = policy_zone["A"]
    run = services.match_run(year=2019, acting_user=scitech_staff, code="loan_interest")
    match = run.results.get()
    (application,) = services.match_confirm(matches=[match], acting_user=scitech_staff)
    assert (application.source, application.status, application.computed_fen) == (
        Application.Source.MATCHED,
        Application.Status.DRAFT,
        20 * WAN,
    )
    assert application.match == match
    match.refresh_from_db()
    assert match.status == Match.Status.CONFIRMED
    clerk = user_of(a, "a_clerk")
    services.application_update(
        application=application,
        data={"account_bank": "柳州银行", "account_no": "6230000011112222"},
        acting_user=clerk,
    )
    services.application_submit(application=application, acting_user=clerk)
    services.application_pass(application=application, acting_user=dept_reviewer)
    application.refresh_from_db()
    assert application.status == Application.Status.PASSED
    # A second run offers nothing new for that pair: it is marked as already applied.
    again = services.match_run(year=2019, acting_user=scitech_staff, code="loan_interest")
    assert again.results.get().status == Match.Status.DISMISSED
    with pytest.raises(Exception, match="已处理"):
        services.match_confirm(matches=[again.results.get()], acting_user=scitech_staff)


def test_the_command_records_a_run_and_ends_with_the_totals(policy):
    out = io.StringIO()
    call_command("match_policies", "--year", "2019", stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == (
        f"enterprises=5 matches=5 total_fen={70 * WAN}"
    )
    out = io.StringIO()
    call_command("match_policies", "--year", "2019", "--measure", "new_above_scale", stdout=out)
    assert (
        out.getvalue().strip().splitlines()[-1] == f"enterprises=5 matches=1 total_fen={10 * WAN}"
    )
