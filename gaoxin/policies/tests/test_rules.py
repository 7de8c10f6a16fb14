"""One rule definition, two evaluations: the vectorised (polars) path and the one-enterprise
(Python) path must agree on every expression and every row, nulls included."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaoxin.policies.rules import (
    Expr,
    Rule,
    RuleError,
    coalesce,
    col,
    from_data,
    greatest,
    least,
    lit,
    param,
    when,
)

INT_COLUMNS = ("i1", "i2", "i3")
BOOL_COLUMNS = ("b1", "b2")
PARAMS = {"p1": 3, "p2": 100, "yes": True}

ints = st.one_of(st.none(), st.integers(-1_000_000, 1_000_000))
bools = st.one_of(st.none(), st.booleans())
constants = st.one_of(st.integers(-100, 100).map(lit), st.sampled_from(["p1", "p2"]).map(param))
positive = st.one_of(st.integers(1, 100).map(lit), st.sampled_from(["p1", "p2"]).map(param))


INT_LEAVES = st.one_of(st.sampled_from(INT_COLUMNS).map(col), ints.map(lit))
SIMPLE_BOOLS = st.one_of(
    st.sampled_from(BOOL_COLUMNS).map(col),
    bools.map(lit),
    st.tuples(INT_LEAVES, INT_LEAVES).map(lambda t: t[0] >= t[1]),
    st.tuples(INT_LEAVES, INT_LEAVES).map(lambda t: t[0] == t[1]),
)


def int_exprs() -> st.SearchStrategy[Expr]:
    leaves = st.one_of(
        st.sampled_from(INT_COLUMNS).map(col),
        ints.map(lit),
        st.sampled_from(["p1", "p2"]).map(param),
    )

    def extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        return st.one_of(
            st.tuples(inner, inner).map(lambda t: t[0] + t[1]),
            st.tuples(inner, inner).map(lambda t: t[0] - t[1]),
            st.tuples(inner, constants).map(lambda t: t[0] * t[1]),
            st.tuples(inner, positive).map(lambda t: t[0] // t[1]),
            st.tuples(SIMPLE_BOOLS, inner, inner).map(lambda t: when(*t)),
            st.lists(inner, min_size=2, max_size=3).map(lambda a: least(*a)),
            st.lists(inner, min_size=2, max_size=3).map(lambda a: greatest(*a)),
            st.lists(inner, min_size=2, max_size=3).map(lambda a: coalesce(*a)),
        )

    return st.recursive(leaves, extend, max_leaves=6)


def bool_exprs(numbers: st.SearchStrategy[Expr] | None = None) -> st.SearchStrategy[Expr]:
    if numbers is None:
        numbers = st.one_of(st.sampled_from(INT_COLUMNS).map(col), ints.map(lit))
    leaves = st.one_of(
        st.sampled_from(BOOL_COLUMNS).map(col), bools.map(lit), st.just(param("yes"))
    )
    comparisons = st.tuples(numbers, st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge"]), numbers)

    def compare(t: tuple[Expr, str, Expr]) -> Expr:
        a, op, b = t
        return {
            "eq": a == b,
            "ne": a != b,
            "lt": a < b,
            "le": a <= b,
            "gt": a > b,
            "ge": a >= b,
        }[op]

    def extend(inner: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        return st.one_of(
            st.tuples(inner, inner).map(lambda t: t[0] & t[1]),
            st.tuples(inner, inner).map(lambda t: t[0] | t[1]),
            inner.map(lambda e: ~e),
            numbers.map(lambda e: e.is_null()),
        )

    return st.recursive(st.one_of(leaves, comparisons.map(compare)), extend, max_leaves=5)


INTS = int_exprs()
BOOLS = bool_exprs(INTS)

rows = st.lists(
    st.fixed_dictionaries({**{c: ints for c in INT_COLUMNS}, **{c: bools for c in BOOL_COLUMNS}}),
    min_size=1,
    max_size=30,
)


def frame(data: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {c: pl.Int64 for c in INT_COLUMNS} | {c: pl.Boolean for c in BOOL_COLUMNS}
    return pl.DataFrame(data, schema=schema)


def typed(values: list[Any]) -> list[tuple[str, Any]]:
    """Compare values with their kind: True must not pass for 1."""
    return [(type(v).__name__, v) for v in values]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=st.one_of(INTS, BOOLS), data=rows)
def test_both_evaluations_agree_on_random_expressions_and_rows(expr: Expr, data: list[dict]):
    vectorised = frame(data).with_columns(expr.to_polars(PARAMS).alias("v"))["v"].to_list()
    one_by_one = [expr.evaluate(row, PARAMS) for row in data]
    assert typed(vectorised) == typed(one_by_one), expr.to_data()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(eligible=BOOLS, amount=INTS, data=rows)
def test_a_rule_decides_the_same_for_all_enterprises_and_for_one(
    eligible: Expr, amount: Expr, data: list[dict]
):
    rule = Rule(eligible=eligible, amount=amount)
    decided = rule.decide_all(frame(data), PARAMS)
    for row, (ok, fen) in zip(data, decided.select("eligible", "amount_fen").rows(), strict=True):
        one = rule.decide(row, PARAMS)
        assert (one.eligible, one.amount_fen) == (ok, fen)


@settings(max_examples=100, deadline=None)
@given(expr=st.one_of(INTS, BOOLS), data=rows)
def test_a_stored_rule_evaluates_like_the_code_it_came_from(expr: Expr, data: list[dict]):
    stored = from_data(json.loads(json.dumps(expr.to_data())))
    assert stored.to_data() == expr.to_data()
    assert typed([stored.evaluate(r, PARAMS) for r in data]) == typed(
        [expr.evaluate(r, PARAMS) for r in data]
    )


# --- the semantics, by hand ---------------------------------------------------------------------

R_AND_D = Rule(
    # R&D spending at least 3% of revenue, growing on last year: 10% of the increase, capped.
    eligible=(col("rd") * 100 >= col("revenue") * param("pct")) & (col("rd") > col("rd_last")),
    amount=least((col("rd") - col("rd_last")) * 10 // 100, param("cap")),
)
R_PARAMS = {"pct": 3, "cap": 200_000_000}


@pytest.mark.parametrize(
    ("rd", "revenue", "rd_last", "eligible", "amount"),
    [
        (300, 10_000, 100, True, 20),  # exactly 3%: eligible
        (299, 10_000, 100, False, 0),  # just under
        (300, 10_000, 300, False, 0),  # no increase
        (5_000_000_000, 10_000_000_000, 0, True, 200_000_000),  # the cap
        (300, None, 100, False, 0),  # revenue not known: not eligible, not an error
    ],
)
def test_threshold_increase_and_cap(rd, revenue, rd_last, eligible, amount):
    facts = {"rd": rd, "revenue": revenue, "rd_last": rd_last}
    decision = R_AND_D.decide(facts, R_PARAMS)
    assert (decision.eligible, decision.amount_fen) == (eligible, amount)
    assert decision.inputs == facts  # what the decision used, for the record
    vectorised = R_AND_D.decide_all(
        pl.DataFrame([facts], schema=dict.fromkeys(facts, pl.Int64)), R_PARAMS
    )
    assert vectorised.select("eligible", "amount_fen").row(0) == (eligible, amount)


def test_unknown_is_not_false():
    unknown = col("b")
    facts = {"b": None}
    assert (unknown & lit(False)).evaluate(facts, {}) is False
    assert (unknown & lit(True)).evaluate(facts, {}) is None
    assert (unknown | lit(True)).evaluate(facts, {}) is True
    assert (~unknown).evaluate(facts, {}) is None
    assert when(unknown, 1, 2).evaluate(facts, {}) == 2
    assert least(col("x"), 5).evaluate({"x": None}, {}) == 5


def test_rules_refuse_what_would_break_one_of_the_paths():
    with pytest.raises(RuleError, match="constant"):
        col("a") * col("b")  # two amounts multiplied could overflow 64-bit integers
    with pytest.raises(RuleError, match="constant"):
        col("a") // col("b")
    with pytest.raises(RuleError, match="positive"):
        (col("a") // lit(0)).evaluate({"a": 1}, {})
    with pytest.raises(RuleError, match="integers"):
        col("a") * 0.1  # no floats: money is fen, rates are integer percentages
    with pytest.raises(RuleError, match="truth value"):
        bool(col("a") > 1)  # `and`/`or` would silently drop half the rule
    with pytest.raises(RuleError, match="missing parameters: cap"):
        R_AND_D.decide({"rd": 1, "revenue": 1, "rd_last": 0}, {"pct": 3})


def test_the_version_follows_the_rule_and_its_parameters():
    assert R_AND_D.version(R_PARAMS) == Rule.from_json(R_AND_D.to_json()).version(R_PARAMS)
    assert R_AND_D.version(R_PARAMS) != R_AND_D.version({**R_PARAMS, "cap": 1})
    assert R_AND_D.columns() == ["rd", "rd_last", "revenue"]
