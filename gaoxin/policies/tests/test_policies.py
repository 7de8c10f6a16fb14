"""Policies, measures with versioned parameters, budgets, and the what-if over the zone."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from gaoxin.core.models import AuditEntry
from gaoxin.policies import selectors, services
from gaoxin.policies.tests.test_facts import WAN

pytestmark = pytest.mark.django_db


@pytest.fixture
def policy(zone_admin):
    return services.policy_create(
        data={
            "title": "柳州高新区促进科技创新若干措施",
            "issuer": "柳州高新区管委会",
            "doc_number": "柳高管发〔2019〕1号",
            "effective_from": dt.date(2019, 1, 1),
        },
        acting_user=zone_admin,
    )


def test_a_policy_needs_its_title_issuer_and_start(zone_admin):
    with pytest.raises(ValidationError) as refused:
        services.policy_create(
            data={"title": " ", "effective_from": dt.date(2019, 1, 1)}, acting_user=zone_admin
        )
    assert set(refused.value.message_dict) == {"title", "issuer"}


def test_changing_parameters_makes_a_new_version_and_keeps_the_old(policy, zone_admin):
    measure = services.measure_add(policy=policy, code="rd_subsidy", acting_user=zone_admin)
    first = measure.current()
    assert (first.number, first.params["rate_pct"]) == (1, 10)
    same = services.measure_params_set(
        measure=measure, params={"rate_pct": "10"}, acting_user=zone_admin
    )
    assert same.pk == first.pk  # nothing changed, no new version
    second = services.measure_params_set(
        measure=measure, params={"rate_pct": "20"}, acting_user=zone_admin
    )
    assert (second.number, second.params["rate_pct"]) == (2, 20)
    assert second.version != first.version
    first.refresh_from_db()
    assert first.params["rate_pct"] == 10  # the old version is untouched
    with pytest.raises(ValidationError) as bad:
        services.measure_params_set(
            measure=measure, params={"rate_pct": "十", "cap_fen": "-1"}, acting_user=zone_admin
        )
    assert set(bad.value.message_dict) == {"rate_pct", "cap_fen"}
    with pytest.raises(ValidationError, match="已有"):
        services.measure_add(policy=policy, code="rd_subsidy", acting_user=zone_admin)
    assert AuditEntry.objects.filter(model="policies.measure").count() == 2  # add + one change


def test_what_if_counts_beneficiaries_and_cost_against_the_budget(policy_zone, policy, zone_admin):
    for code in ("new_above_scale", "rd_subsidy", "loan_interest", "hte_recognition"):
        services.measure_add(policy=policy, code=code, acting_user=zone_admin)
    hte = policy.measures.get(code="hte_recognition")
    services.measure_add(policy=policy, code="gazelle", cap_fen=30 * WAN, acting_user=zone_admin)
    services.budget_set(measure=hte, year=2019, amount_fen=25 * WAN, acting_user=zone_admin)
    rows = {r.measure.code: r for r in selectors.what_if(policy, 2019)}
    assert (rows["new_above_scale"].beneficiaries, rows["new_above_scale"].total_fen) == (
        1,
        10 * WAN,
    )
    assert (rows["rd_subsidy"].beneficiaries, rows["rd_subsidy"].total_fen) == (1, 10 * WAN)
    assert (rows["loan_interest"].beneficiaries, rows["loan_interest"].total_fen) == (
        1,
        20 * WAN,
    )
    # A again (10万) and E first time (20万): 30万 against a budget of 25万.
    assert (rows["hte_recognition"].total_fen, rows["hte_recognition"].over_budget) == (
        30 * WAN,
        True,
    )
    assert rows["hte_recognition"].remaining_fen == -5 * WAN
    # A and E are 2019 gazelles: the top of the range (50万) capped at 30万 each.
    assert (rows["gazelle"].beneficiaries, rows["gazelle"].total_fen) == (2, 60 * WAN)
    assert rows["gazelle"].reviewer_sets_amount and rows["gazelle"].budget_fen is None


def test_budgets_are_set_once_per_year_and_audited(policy, zone_admin):
    measure = services.measure_add(policy=policy, code="new_above_scale", acting_user=zone_admin)
    services.budget_set(measure=measure, year=2019, amount_fen=100 * WAN, acting_user=zone_admin)
    services.budget_set(measure=measure, year=2019, amount_fen=100 * WAN, acting_user=zone_admin)
    services.budget_set(measure=measure, year=2019, amount_fen=120 * WAN, acting_user=zone_admin)
    assert measure.budgets.get().amount_fen == 120 * WAN
    assert AuditEntry.objects.filter(model="policies.measurebudget").count() == 2
    with pytest.raises(ValidationError):
        services.budget_set(measure=measure, year=2019, amount_fen=-1, acting_user=zone_admin)


def test_a_policy_is_published_once_it_has_measures_then_withdrawn(policy, zone_admin):
    with pytest.raises(ValidationError, match="至少一项条款"):
        services.policy_set_status(policy=policy, status="published", acting_user=zone_admin)
    services.measure_add(policy=policy, code="gazelle", acting_user=zone_admin)
    stale = type(policy).objects.get(pk=policy.pk)  # what a second open page holds
    services.policy_set_status(policy=policy, status="published", acting_user=zone_admin)
    assert policy.status == "published"
    with pytest.raises(ValidationError, match="不能改为"):
        services.policy_set_status(policy=policy, status="draft", acting_user=zone_admin)
    with pytest.raises(ValidationError, match="已被他人修改"):
        services.policy_set_status(policy=stale, status="published", acting_user=zone_admin)
    services.policy_set_status(policy=policy, status="withdrawn", acting_user=zone_admin)
    statuses = AuditEntry.objects.filter(model="policies.policy", action="update")
    assert [e.changes["status"] for e in statuses.order_by("id")] == [
        ["draft", "published"],
        ["published", "withdrawn"],
    ]
