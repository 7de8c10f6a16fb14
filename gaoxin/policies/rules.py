"""Policy rules: one definition, two evaluations.

A measure's eligibility and amount are written as expressions over an enterprise's facts
(`col("rd_spend") * 100 >= col("revenue") * param("min_intensity_pct")`). The same expression
compiles to a polars expression, to judge a million enterprises at once (proactive matching,
what-if), and evaluates on one enterprise's facts in plain Python (an application's preview
and its recorded decision). Both paths follow the same rules, proven equal on random data by
`tests/test_rules.py`:

- Values are integers (money in fen, counts, percentages as integers), booleans or null.
  Multiplying or dividing needs a constant on one side (a literal or a parameter), so a rule
  cannot overflow 64-bit integers by multiplying two amounts; division is floor division by a
  positive constant. Thresholds such as "R&D at least 3% of revenue" are written as integer
  comparisons (`rd * 100 >= revenue * 3`), exact at the boundary in both paths.
- Null is "not known": arithmetic and comparisons with null give null; `&`, `|` and `~`
  follow three-valued (Kleene) logic as polars does; `when` takes null as false; `least`,
  `greatest` and `coalesce` skip nulls. An enterprise is eligible only when the rule gives
  true, and an amount that comes out null is no amount.
- Expressions are data: `to_json` gives a canonical form and `version` its hash, so a decision
  can record the exact rule and parameters it used, and an old version can be evaluated
  again after the code has moved on (`from_json`).
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

Value = int | bool | None

ARITHMETIC = ("add", "sub", "mul", "floordiv")
COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")
LOGICAL = ("and", "or")
FUNCTIONS = ("least", "greatest", "coalesce")


class RuleError(ValueError):
    """A rule that cannot be built or evaluated (unknown column or parameter, bad operands)."""


class Expr(ABC):
    """A node of a rule expression. Build with `col`, `lit`, `param`, operators and the
    functions below; never instantiate directly."""

    # --- building -------------------------------------------------------------------------
    def __add__(self, other: Any) -> Expr:
        return Op("add", (self, _wrap(other)))

    def __radd__(self, other: Any) -> Expr:
        return Op("add", (_wrap(other), self))

    def __sub__(self, other: Any) -> Expr:
        return Op("sub", (self, _wrap(other)))

    def __rsub__(self, other: Any) -> Expr:
        return Op("sub", (_wrap(other), self))

    def __mul__(self, other: Any) -> Expr:
        return Op("mul", (self, _wrap(other)))

    def __rmul__(self, other: Any) -> Expr:
        return Op("mul", (_wrap(other), self))

    def __floordiv__(self, other: Any) -> Expr:
        return Op("floordiv", (self, _wrap(other)))

    def __eq__(self, other: Any) -> Expr:  # type: ignore[override]
        return Op("eq", (self, _wrap(other)))

    def __ne__(self, other: Any) -> Expr:  # type: ignore[override]
        return Op("ne", (self, _wrap(other)))

    def __lt__(self, other: Any) -> Expr:
        return Op("lt", (self, _wrap(other)))

    def __le__(self, other: Any) -> Expr:
        return Op("le", (self, _wrap(other)))

    def __gt__(self, other: Any) -> Expr:
        return Op("gt", (self, _wrap(other)))

    def __ge__(self, other: Any) -> Expr:
        return Op("ge", (self, _wrap(other)))

    def __and__(self, other: Any) -> Expr:
        return Op("and", (self, _wrap(other)))

    def __or__(self, other: Any) -> Expr:
        return Op("or", (self, _wrap(other)))

    def __invert__(self) -> Expr:
        return Op("not", (self,))

    def __bool__(self) -> bool:
        raise RuleError("a rule expression has no truth value; use & | ~ instead of and/or/not")

    __hash__ = object.__hash__

    def is_null(self) -> Expr:
        return Op("is_null", (self,))

    # --- the two evaluations --------------------------------------------------------------
    @abstractmethod
    def to_polars(self, params: Mapping[str, Value], dtype: Any = None) -> pl.Expr:
        """The polars expression; `dtype` is what the context expects, which types a bare
        null (polars has no boolean null otherwise)."""

    def kind(self, params: Mapping[str, Value]) -> Any:
        """pl.Boolean or pl.Int64 when known from the expression alone, else None."""
        return None

    def constant(self, params: Mapping[str, Value]) -> bool:
        """Whether the compiled expression is a single value rather than a column (polars
        folds it to a literal)."""
        return not self.columns()

    @abstractmethod
    def evaluate(self, facts: Mapping[str, Value], params: Mapping[str, Value]) -> Value:
        """The value for one enterprise's facts."""

    # --- as data --------------------------------------------------------------------------
    @abstractmethod
    def to_data(self) -> Any:
        """The expression as JSON-able lists (`from_data` rebuilds it)."""

    def columns(self) -> set[str]:
        """The facts the expression reads (what a decision records beside its result)."""
        return set()

    def params(self) -> set[str]:
        return set()


@dataclass(frozen=True, eq=False)
class Col(Expr):
    name: str

    def to_polars(self, params: Mapping[str, Value], dtype: Any = None) -> pl.Expr:
        return pl.col(self.name)

    def evaluate(self, facts: Mapping[str, Value], params: Mapping[str, Value]) -> Value:
        if self.name not in facts:
            raise RuleError(f"unknown fact: {self.name}")
        return facts[self.name]

    def to_data(self) -> Any:
        return ["col", self.name]

    def columns(self) -> set[str]:
        return {self.name}


@dataclass(frozen=True, eq=False)
class Lit(Expr):
    value: Value

    def to_polars(self, params: Mapping[str, Value], dtype: Any = None) -> pl.Expr:
        return _literal(self.value, dtype)

    def kind(self, params: Mapping[str, Value]) -> Any:
        return _kind_of(self.value)

    def evaluate(self, facts: Mapping[str, Value], params: Mapping[str, Value]) -> Value:
        return self.value

    def to_data(self) -> Any:
        return ["lit", self.value]


@dataclass(frozen=True, eq=False)
class Param(Expr):
    name: str

    def _value(self, params: Mapping[str, Value]) -> Value:
        if self.name not in params:
            raise RuleError(f"missing parameter: {self.name}")
        return params[self.name]

    def to_polars(self, params: Mapping[str, Value], dtype: Any = None) -> pl.Expr:
        return _literal(self._value(params), dtype)

    def kind(self, params: Mapping[str, Value]) -> Any:
        return _kind_of(params.get(self.name))

    def evaluate(self, facts: Mapping[str, Value], params: Mapping[str, Value]) -> Value:
        return self._value(params)

    def to_data(self) -> Any:
        return ["param", self.name]

    def params(self) -> set[str]:
        return {self.name}


@dataclass(frozen=True, eq=False)
class Op(Expr):
    op: str
    args: tuple[Expr, ...]

    def __post_init__(self) -> None:
        if self.op in ("mul", "floordiv"):
            constants = [isinstance(a, Lit | Param) for a in self.args]
            if self.op == "mul" and not any(constants):
                raise RuleError("multiply by a constant (a literal or a parameter)")
            if self.op == "floordiv" and not constants[1]:
                raise RuleError("divide by a constant (a literal or a parameter)")

    def constant(self, params: Mapping[str, Value]) -> bool:
        if self.op == "when" and self._same_branches(params):
            return True
        return all(a.constant(params) for a in self.args)

    def _same_branches(self, params: Mapping[str, Value]) -> bool:
        then, otherwise = self.args[1:]
        if not (then.constant(params) and otherwise.constant(params)):
            return False
        # Constant expressions do not depend on the facts: evaluate them with every fact unknown.
        a, b = then.evaluate(_UNKNOWN, params), otherwise.evaluate(_UNKNOWN, params)
        return a == b and type(a) is type(b)

    def kind(self, params: Mapping[str, Value]) -> Any:
        if self.op in ARITHMETIC:
            return pl.Int64
        if self.op in (*COMPARISONS, *LOGICAL, "not", "is_null"):
            return pl.Boolean
        branches = self.args[1:] if self.op == "when" else self.args
        for branch in branches:
            found = branch.kind(params)
            if found is not None:
                return found
        return None

    def _child_types(self, params: Mapping[str, Value], dtype: Any) -> list[Any]:
        """What each operand should be when it is a bare null."""
        op, n = self.op, len(self.args)
        if op in ARITHMETIC or op in ("lt", "le", "gt", "ge"):
            return [pl.Int64] * n
        if op in LOGICAL or op == "not":
            return [pl.Boolean] * n
        if op in ("eq", "ne", "is_null"):
            known = next((k for a in self.args if (k := a.kind(params)) is not None), pl.Int64)
            return [known] * n
        wanted = dtype or self.kind(params) or pl.Int64
        if op == "when":
            return [pl.Boolean, wanted, wanted]
        return [wanted] * n

    def to_polars(self, params: Mapping[str, Value], dtype: Any = None) -> pl.Expr:
        types = self._child_types(params, dtype)
        a = [x.to_polars(params, t) for x, t in zip(self.args, types, strict=True)]
        op = self.op
        if (
            op in COMPARISONS
            and self.args[0].constant(params)
            and not self.args[1].constant(params)
        ):
            # Constant on the right: polars 2.1 can give a length-1 result for `0 == when(…)`
            # over an all-null frame, which then fails to broadcast.
            a, op = [a[1], a[0]], MIRRORED[op]
        if op == "add":
            return a[0] + a[1]
        if op == "sub":
            return a[0] - a[1]
        if op == "mul":
            return a[0] * a[1]
        if op == "floordiv":
            _positive(self.args[1].evaluate({}, params))
            return a[0] // a[1]
        if op == "eq":
            return a[0] == a[1]
        if op == "ne":
            return a[0] != a[1]
        if op == "lt":
            return a[0] < a[1]
        if op == "le":
            return a[0] <= a[1]
        if op == "gt":
            return a[0] > a[1]
        if op == "ge":
            return a[0] >= a[1]
        if op == "and":
            return a[0] & a[1]
        if op == "or":
            return a[0] | a[1]
        if op == "not":
            return ~a[0]
        if op == "is_null":
            return a[0].is_null()
        if op == "when":
            if self._same_branches(params):
                # Either way the same constant; polars would fold this `when` into a
                # length-1 result that no longer broadcasts against the frame.
                return a[1]
            return pl.when(a[0]).then(a[1]).otherwise(a[2])
        if op == "least":
            return pl.min_horizontal(*a)
        if op == "greatest":
            return pl.max_horizontal(*a)
        if op == "coalesce":
            return pl.coalesce(*a)
        raise RuleError(f"unknown operation: {op}")

    def evaluate(self, facts: Mapping[str, Value], params: Mapping[str, Value]) -> Value:
        op = self.op
        if op == "when":
            condition = self.args[0].evaluate(facts, params)
            branch = self.args[1] if condition is True else self.args[2]
            return branch.evaluate(facts, params)
        v = [x.evaluate(facts, params) for x in self.args]
        if op in ARITHMETIC or op in COMPARISONS:
            a, b = v
            if op == "floordiv":
                _positive(b)
            if a is None or b is None:
                return None
            result: Value = _APPLY[op](a, b)
            return result
        if op == "and":
            if v[0] is False or v[1] is False:
                return False
            return None if None in v else True
        if op == "or":
            if v[0] is True or v[1] is True:
                return True
            return None if None in v else False
        if op == "not":
            return None if v[0] is None else not v[0]
        if op == "is_null":
            return v[0] is None
        known = [x for x in v if x is not None]
        if op == "least":
            return min(known) if known else None
        if op == "greatest":
            return max(known) if known else None
        if op == "coalesce":
            return known[0] if known else None
        raise RuleError(f"unknown operation: {op}")

    def to_data(self) -> Any:
        return [self.op, *(a.to_data() for a in self.args)]

    def columns(self) -> set[str]:
        return set().union(*(a.columns() for a in self.args))

    def params(self) -> set[str]:
        return set().union(*(a.params() for a in self.args))


class _Unknown(dict[str, Value]):
    """Facts where everything is known to be unknown (null)."""

    def __contains__(self, key: object) -> bool:
        return True

    def __missing__(self, key: str) -> Value:
        return None


_UNKNOWN = _Unknown()

MIRRORED = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}

_APPLY: dict[str, Any] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "floordiv": lambda a, b: a // b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


def _positive(divisor: Value) -> None:
    if not isinstance(divisor, int) or isinstance(divisor, bool) or divisor <= 0:
        raise RuleError("the divisor must be a positive integer")


def _kind_of(value: Value) -> Any:
    if value is None:
        return None
    return pl.Boolean if isinstance(value, bool) else pl.Int64


def _literal(value: Value, dtype: Any = None) -> pl.Expr:
    if value is None:
        return pl.lit(None, dtype=dtype or pl.Int64)
    if isinstance(value, bool):
        return pl.lit(value, dtype=pl.Boolean)
    return pl.lit(value, dtype=pl.Int64)


def _wrap(value: Any) -> Expr:
    if isinstance(value, Expr):
        return value
    if value is None or isinstance(value, bool | int):
        return Lit(value)
    raise RuleError(f"rules use integers (fen, counts, percentages) and booleans, not {value!r}")


# --- the vocabulary rule authors use ----------------------------------------------------------


def col(name: str) -> Expr:
    """A fact of the enterprise (a column of the facts frame)."""
    return Col(name)


def lit(value: Value) -> Expr:
    return _wrap(value)


def param(name: str) -> Expr:
    """A parameter of the policy (an amount, a rate, a threshold), set per policy version."""
    return Param(name)


def when(condition: Expr, then: Any, otherwise: Any = None) -> Expr:
    return Op("when", (condition, _wrap(then), _wrap(otherwise)))


def least(*args: Any) -> Expr:
    return Op("least", tuple(_wrap(a) for a in args))


def greatest(*args: Any) -> Expr:
    return Op("greatest", tuple(_wrap(a) for a in args))


def coalesce(*args: Any) -> Expr:
    return Op("coalesce", tuple(_wrap(a) for a in args))


def from_data(data: Any) -> Expr:
    """The expression `Expr.to_data` produced (a stored rule version)."""
    if not isinstance(data, list) or not data:
        raise RuleError(f"not a rule expression: {data!r}")
    head, *rest = data
    if head == "col":
        return Col(str(rest[0]))
    if head == "lit":
        return _wrap(rest[0])
    if head == "param":
        return Param(str(rest[0]))
    if head in (*ARITHMETIC, *COMPARISONS, *LOGICAL, *FUNCTIONS, "not", "is_null", "when"):
        return Op(head, tuple(from_data(x) for x in rest))
    raise RuleError(f"unknown operation: {head}")


# --- a measure's rule ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Rule:
    """Who qualifies and for how much (in fen), before the measure's cap per enterprise and
    year and its budget are applied."""

    eligible: Expr
    amount: Expr

    def to_json(self) -> str:
        data = {"eligible": self.eligible.to_data(), "amount": self.amount.to_data()}
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Rule:
        data = json.loads(text)
        return cls(eligible=from_data(data["eligible"]), amount=from_data(data["amount"]))

    def version(self, params: Mapping[str, Value]) -> str:
        """Identifies the rule and its parameters: equal versions decide equally."""
        canonical = self.to_json() + json.dumps(dict(sorted(params.items())))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def columns(self) -> list[str]:
        return sorted(self.eligible.columns() | self.amount.columns())

    def check(self, params: Mapping[str, Value]) -> None:
        missing = (self.eligible.params() | self.amount.params()) - set(params)
        if missing:
            raise RuleError(f"missing parameters: {', '.join(sorted(missing))}")

    # One enterprise: an application's preview and its recorded decision.
    def decide(self, facts: Mapping[str, Value], params: Mapping[str, Value]) -> Decision:
        self.check(params)
        eligible = self.eligible.evaluate(facts, params) is True
        amount = self.amount.evaluate(facts, params) if eligible else None
        return Decision(
            eligible=amount is not None,
            amount_fen=max(int(amount), 0) if amount is not None else 0,
            inputs={c: facts.get(c) for c in self.columns()},
        )

    # Every enterprise at once: proactive matching and what-if.
    def decide_all(self, facts: pl.DataFrame, params: Mapping[str, Value]) -> pl.DataFrame:
        """`facts` with two columns added: `eligible` (bool) and `amount_fen` (int, 0 when not
        eligible), exactly as `decide` gives them one enterprise at a time."""
        self.check(params)
        eligible = self.eligible.to_polars(params, pl.Boolean).fill_null(False)
        amount = self.amount.to_polars(params, pl.Int64).cast(pl.Int64)
        ok = eligible & amount.is_not_null()
        return facts.with_columns(
            ok.alias("eligible"),
            pl.when(ok).then(pl.max_horizontal(amount, pl.lit(0))).otherwise(0).alias("amount_fen"),
        )


@dataclass(frozen=True)
class Decision:
    eligible: bool
    amount_fen: int
    inputs: dict[str, Value]
