"""Reads for policy funds that take more than one query."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce

from gaoxin.indicators.engine import query_frame
from gaoxin.policies.facts import enterprise_facts, facts_of
from gaoxin.policies.measures import SHIPPED
from gaoxin.policies.models import Account, LedgerEntry, Measure, MeasureVersion, Policy, Posting
from gaoxin.policies.rules import Rule
from gaoxin.registry.models import Enterprise


@dataclass
class WhatIfRow:
    measure: Measure
    version: MeasureVersion
    beneficiaries: int
    total_fen: int
    budget_fen: int | None
    reviewer_sets_amount: bool

    @property
    def remaining_fen(self) -> int | None:
        return None if self.budget_fen is None else self.budget_fen - self.total_fen

    @property
    def over_budget(self) -> bool:
        return self.budget_fen is not None and self.total_fen > self.budget_fen


def what_if(policy: Policy, year: int, facts: pl.DataFrame | None = None) -> list[WhatIfRow]:
    """Each measure of the policy run over every enterprise with the records as they are now:
    how many would qualify and what it would cost (after the cap per enterprise), against the
    measure's budget for the year. The stored version of each rule is evaluated, as a decision
    would be. Measures whose amount the reviewer sets count the top of their range."""
    facts = enterprise_facts(year) if facts is None else facts
    measures = list(policy.measures.prefetch_related("versions", "budgets").order_by("order", "pk"))
    chosen = [(m, m.current()) for m in measures]
    decided = decide_measures(facts, chosen, with_facts=False)
    sums = dict(
        decided.group_by("measure_id")
        .agg(pl.len().alias("n"), pl.col("amount_fen").sum().alias("total"))
        .select("measure_id", pl.struct("n", "total"))
        .iter_rows()
    )
    rows = []
    for measure, version in chosen:
        got = sums.get(measure.pk, {"n": 0, "total": 0})
        budget = next((b.amount_fen for b in measure.budgets.all() if b.year == year), None)
        spec = SHIPPED.get(measure.code)
        rows.append(
            WhatIfRow(
                measure=measure,
                version=version,
                beneficiaries=int(got["n"]),
                total_fen=int(got["total"] or 0),
                budget_fen=budget,
                reviewer_sets_amount=bool(spec and spec.reviewer_sets_amount),
            )
        )
    return rows


def decide_measures(
    facts: pl.DataFrame,
    measures: Iterable[tuple[Measure, MeasureVersion]],
    *,
    with_facts: bool = True,
) -> pl.DataFrame:
    """The eligible (enterprise, measure) pairs of every enterprise in `facts`, with the
    amount capped per enterprise and (`with_facts`) the facts each decision read as a JSON
    object, in one frame: what a matching run records and what the what-if sums."""
    parts = []
    for measure, version in measures:
        rule = Rule.from_json(version.rule)
        amount = pl.col("amount_fen")
        if measure.cap_fen is not None:
            amount = pl.min_horizontal(amount, pl.lit(measure.cap_fen))
        used = rule.columns()
        decided = rule.decide_all(facts.select("enterprise_id", *used), version.params)
        parts.append(
            decided.filter("eligible").select(
                pl.col("enterprise_id"),
                pl.lit(measure.pk, pl.Int64).alias("measure_id"),
                pl.lit(version.pk, pl.Int64).alias("version_id"),
                amount.cast(pl.Int64).alias("amount_fen"),
                (pl.struct(used).struct.json_encode() if with_facts else pl.lit("")).alias("facts"),
            )
        )
    if not parts:
        return pl.DataFrame(
            schema={
                "enterprise_id": pl.Int64,
                "measure_id": pl.Int64,
                "version_id": pl.Int64,
                "amount_fen": pl.Int64,
                "facts": pl.Utf8,
            }
        )
    return pl.concat(parts)


@dataclass
class Decision:
    """A measure's stored rule version decided on one enterprise's facts for a year, the
    amount capped per enterprise: what an application records."""

    version: MeasureVersion
    facts: dict[str, Any]
    eligible: bool
    amount_fen: int


def capped(measure: Measure, amount_fen: int) -> int:
    """The measure's cap per enterprise and year applied to a rule's amount."""
    return amount_fen if measure.cap_fen is None else min(amount_fen, measure.cap_fen)


def decide_one(enterprise: Enterprise, measure: Measure, year: int) -> Decision:
    version = measure.current()
    rule = Rule.from_json(version.rule)
    decision = rule.decide(facts_of(enterprise, year), version.params)
    return Decision(
        version=version,
        facts=dict(decision.inputs),
        eligible=decision.eligible,
        amount_fen=capped(measure, decision.amount_fen) if decision.eligible else 0,
    )


@dataclass
class PreviewRow:
    policy: Policy
    measure: Measure
    version: MeasureVersion
    eligible: bool
    amount_fen: int
    reviewer_sets_amount: bool
    inputs: Mapping[str, object]
    issued_as_voucher: bool = False


def preview_for(enterprise: Enterprise, year: int) -> list[PreviewRow]:
    """What an enterprise would get from each measure of the published policies, on its records
    for `year`: the stored rule version decided on its facts, the amount capped per enterprise,
    and the facts the decision used (so it can see why)."""
    facts = facts_of(enterprise, year)
    rows = []
    policies = Policy.objects.filter(status=Policy.Status.PUBLISHED).prefetch_related(
        "measures__versions"
    )
    for policy in policies:
        for measure in policy.measures.all():
            version = measure.current()
            decision = Rule.from_json(version.rule).decide(facts, version.params)
            amount = capped(measure, decision.amount_fen)
            spec = SHIPPED.get(measure.code)
            rows.append(
                PreviewRow(
                    policy=policy,
                    measure=measure,
                    version=version,
                    eligible=decision.eligible,
                    amount_fen=amount,
                    reviewer_sets_amount=bool(spec and spec.reviewer_sets_amount),
                    inputs=decision.inputs,
                    issued_as_voucher=bool(spec and spec.issued_as_voucher),
                )
            )
    return rows


# --- money paid out, from the ledger -----------------------------------------------------------


@dataclass
class Disbursement:
    policy_id: int
    policy: str
    doc_number: str
    measure_id: int
    measure: str
    budget_year: int
    paid_fen: int
    count: int


def disbursements(year: int) -> list[Disbursement]:
    """What was paid out in `year` (by payment date), per policy, measure and budget year: the
    net of the `paid` account's postings in the year (a payment reversed in the same year
    nets to nothing), and the number of payments net of reversals."""
    rows = (
        Posting.objects.filter(account=Account.PAID, entry__posted_on__year=year)
        .values(
            "measure_id",
            "measure__name",
            "measure__policy_id",
            "measure__policy__title",
            "measure__policy__doc_number",
            "year",
        )
        .annotate(
            paid=Sum("amount_fen"),
            payments=Count("entry", filter=Q(entry__kind=LedgerEntry.Kind.PAYMENT)),
            reversals=Count("entry", filter=Q(entry__kind=LedgerEntry.Kind.REVERSAL)),
        )
        .order_by("measure__policy_id", "measure__order", "measure_id", "year")
    )
    return [
        Disbursement(
            policy_id=r["measure__policy_id"],
            policy=r["measure__policy__title"],
            doc_number=r["measure__policy__doc_number"],
            measure_id=r["measure_id"],
            measure=r["measure__name"],
            budget_year=r["year"],
            paid_fen=int(r["paid"] or 0),
            count=r["payments"] - r["reversals"],
        )
        for r in rows
        if r["paid"]
    ]


def paid_by_enterprise(year: int) -> pl.DataFrame:
    """(enterprise_id, paid_fen) of the money paid out in `year`: applications by their
    enterprise, vouchers by the enterprise that held the voucher."""
    qs = (
        Posting.objects.filter(account=Account.PAID, entry__posted_on__year=year)
        .annotate(
            beneficiary=Coalesce(
                F("entry__application__enterprise_id"), F("entry__voucher__enterprise_id")
            )
        )
        .values("beneficiary")
        .annotate(total=Sum("amount_fen"))
        .values_list("beneficiary", "total")
    )
    frame = query_frame(qs, {"enterprise_id": pl.Int64, "paid_fen": pl.Int64})
    return frame.filter(pl.col("enterprise_id").is_not_null() & (pl.col("paid_fen") != 0))
