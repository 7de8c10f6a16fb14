"""The shipped measures on hand-worked cases, boundaries included; each case is also decided
through the vectorised path, which must agree."""

from __future__ import annotations

import polars as pl
import pytest

from gaoxin.policies.measures import SHIPPED

WAN = 10_000 * 100  # fen


def decide(code: str, facts: dict, **params: int) -> tuple[bool, int]:
    spec = SHIPPED[code]
    merged = {**spec.defaults, **params}
    one = spec.rule.decide(facts, merged)
    frame = pl.DataFrame([facts]) if facts else pl.DataFrame()
    every = spec.rule.decide_all(frame, merged).select("eligible", "amount_fen").row(0)
    assert (one.eligible, one.amount_fen) == every
    return one.eligible, one.amount_fen


def above(industrial=True, now=True, before=False):
    return {"is_industrial": industrial, "above_scale": now, "above_scale_last_year": before}


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (above(), (True, 10 * WAN)),  # 100,000 CNY
        (above(before=True), (False, 0)),  # already above scale last year
        (above(now=False), (False, 0)),
        (above(industrial=False), (False, 0)),  # a service firm is not 规上工业
    ],
)
def test_new_above_scale_reward(facts, expected):
    assert decide("new_above_scale", facts) == expected


def rd(spend_wan, revenue_wan, last_wan):
    return {
        "rd_spend": spend_wan * WAN,
        "revenue": revenue_wan * WAN,
        "rd_spend_last_year": None if last_wan is None else last_wan * WAN,
    }


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        # exactly 3% of revenue: eligible; 10% of the 100万 increase = 10万
        (rd(300, 10_000, 200), (True, 10 * WAN)),
        (rd(299.99, 10_000, 200), (False, 0)),  # just under 3%
        (rd(300, 10_000, 300), (False, 0)),  # no increase
        (rd(300, 10_000, None), (False, 0)),  # no report last year: no increase to pay on
        # an increase of 3,000万 would give 300万: capped at 200万
        (rd(5_000, 100_000, 2_000), (True, 200 * WAN)),
        # an increase of exactly 2,000万: 200万, the cap itself
        (rd(4_000, 100_000, 2_000), (True, 200 * WAN)),
    ],
)
def test_rd_subsidy(facts, expected):
    facts = {k: (int(v) if v is not None else None) for k, v in facts.items()}
    assert decide("rd_subsidy", facts) == expected


def test_rd_subsidy_parameters_are_the_policys():
    facts = {k: int(v) for k, v in rd(300, 10_000, 200).items()}
    assert decide("rd_subsidy", facts, min_intensity_pct=4) == (False, 0)
    assert decide("rd_subsidy", facts, rate_pct=20) == (True, 20 * WAN)


@pytest.mark.parametrize(
    ("in_chain", "interest_wan", "expected"),
    [
        (True, 40, (True, 20 * WAN)),  # half of 40万
        (True, 100, (True, 50 * WAN)),  # exactly at the 50万 cap
        (True, 300, (True, 50 * WAN)),  # capped
        (False, 40, (False, 0)),  # not in a zone chain
        (True, 0, (False, 0)),  # no interest paid
    ],
)
def test_loan_interest(in_chain, interest_wan, expected):
    facts = {"in_chain": in_chain, "interest_paid": interest_wan * WAN}
    assert decide("loan_interest", facts) == expected


def test_high_tech_recognition_first_and_again():
    assert decide("hte_recognition", {"hte_recognised": True, "hte_first_time": True}) == (
        True,
        20 * WAN,
    )
    assert decide("hte_recognition", {"hte_recognised": True, "hte_first_time": False}) == (
        True,
        10 * WAN,
    )
    assert decide("hte_recognition", {"hte_recognised": False, "hte_first_time": True}) == (
        False,
        0,
    )


def test_reviewer_set_measures_count_the_top_of_their_range():
    assert SHIPPED["gazelle"].reviewer_sets_amount
    assert decide("gazelle", {"gazelle_recognised": True}) == (True, 50 * WAN)
    assert decide("innovation_team", {"innovation_team": False}) == (False, 0)
