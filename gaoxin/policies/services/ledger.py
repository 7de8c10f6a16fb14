"""The ledger: double-entry postings in integer fen, per measure and budget year.

Every entry's postings sum to zero, so the whole ledger does. Accounts move money
appropriation → available (a budget) → committed (an approval, a voucher) → paid. An entry is
never edited: `entry_reverse` writes the negation. Anything that takes money out of
`available` locks the measure's budget row first, so two approvals at once cannot both spend
the last of it (on SQLite the write transaction is already exclusive)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from gaoxin.core import audit
from gaoxin.policies.models import (
    Account,
    Application,
    LedgerEntry,
    Measure,
    MeasureBudget,
    Posting,
    Voucher,
)
from gaoxin.policies.templatetags.money import yuan

Line = tuple[str, int]


def user_or_none(user: Any) -> Any:
    """The user to store on a row: None for the system (the demo load, a command)."""
    return user if getattr(user, "pk", None) else None


def balance(measure: Measure, year: int, account: str) -> int:
    total = Posting.objects.filter(measure=measure, year=year, account=account).aggregate(
        s=Sum("amount_fen")
    )["s"]
    return int(total or 0)


def balances(measure: Measure, year: int) -> dict[str, int]:
    """Each account's balance for a measure and year (0 where nothing was posted)."""
    out = dict.fromkeys(Account.values, 0)
    rows = (
        Posting.objects.filter(measure=measure, year=year)
        .values_list("account")
        .annotate(s=Sum("amount_fen"))
    )
    for account, total in rows:
        out[account] = int(total)
    return out


def post(
    *,
    kind: str,
    measure: Measure,
    year: int,
    lines: Sequence[Line],
    posted_on: dt.date,
    acting_user: Any,
    application: Application | None = None,
    voucher: Voucher | None = None,
    memo: str = "",
    reverses: LedgerEntry | None = None,
) -> LedgerEntry:
    """Writes one entry. Refuses lines that do not sum to zero or carry a zero amount: a
    programming error, never a user's, so it is an assertion that stops the transaction."""
    amounts = [amount for _account, amount in lines]
    if not lines or sum(amounts) != 0 or 0 in amounts:
        raise AssertionError(f"unbalanced ledger entry {kind}: {lines}")
    entry = LedgerEntry.objects.create(
        kind=kind,
        measure=measure,
        year=year,
        posted_on=posted_on,
        application=application,
        voucher=voucher,
        memo=memo[:200],
        reverses=reverses,
        created_by=user_or_none(acting_user),
    )
    Posting.objects.bulk_create(
        Posting(entry=entry, account=account, measure=measure, year=year, amount_fen=amount)
        for account, amount in lines
    )
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=entry,
        changes={
            "kind": [None, kind],
            "measure": [None, measure.pk],
            "year": [None, year],
            "lines": [None, [list(line) for line in lines]],
        },
        enterprise_id=application.enterprise_id if application is not None else None,
    )
    return entry


@transaction.atomic
def entry_reverse(
    *, entry: LedgerEntry, memo: str, posted_on: dt.date, acting_user: Any
) -> LedgerEntry:
    """Writes the entry that negates `entry`. An entry is reversed at most once (a one-to-one
    column), and a reversal is not itself reversed: post the original again instead."""
    if entry.kind == LedgerEntry.Kind.REVERSAL:
        raise ValidationError(_("冲正分录不能再冲正"))
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError(_("该分录已冲正"))
    lines = [(p.account, -p.amount_fen) for p in entry.postings.all()]
    return post(
        kind=LedgerEntry.Kind.REVERSAL,
        measure=entry.measure,
        year=entry.year,
        lines=lines,
        posted_on=posted_on,
        acting_user=acting_user,
        application=entry.application,
        voucher=entry.voucher,
        memo=memo,
        reverses=entry,
    )


def lock_budget(measure: Measure, year: int) -> MeasureBudget:
    """The measure's budget row for the year, locked until the transaction ends; refuses a
    year without a budget."""
    budget = MeasureBudget.objects.select_for_update().filter(measure=measure, year=year).first()
    if budget is None:
        raise ValidationError(
            {
                "amount_fen": _("“%(measure)s”没有%(year)s年度的预算,请先安排预算")
                % {"measure": measure.name, "year": year}
            }
        )
    return budget


def commit(
    *,
    measure: Measure,
    year: int,
    amount_fen: int,
    posted_on: dt.date,
    acting_user: Any,
    application: Application | None = None,
    voucher: Voucher | None = None,
    memo: str = "",
) -> LedgerEntry:
    """Moves `amount_fen` from the measure's available budget to committed; refuses more than
    what remains, saying how much remains. Call inside a transaction."""
    lock_budget(measure, year)
    available = balance(measure, year, Account.AVAILABLE)
    if amount_fen > available:
        raise ValidationError(
            {
                "amount_fen": _(
                    "超出预算:“%(measure)s”%(year)s年度剩余可用预算%(left)s元,本次需要%(need)s元"
                )
                % {
                    "measure": measure.name,
                    "year": year,
                    "left": yuan(available),
                    "need": yuan(amount_fen),
                }
            }
        )
    return post(
        kind=LedgerEntry.Kind.COMMIT,
        measure=measure,
        year=year,
        lines=[(Account.AVAILABLE, -amount_fen), (Account.COMMITTED, amount_fen)],
        posted_on=posted_on,
        acting_user=acting_user,
        application=application,
        voucher=voucher,
        memo=memo,
    )


def budget_post(
    *, budget: MeasureBudget, before_fen: int, posted_on: dt.date, acting_user: Any
) -> LedgerEntry | None:
    """Posts a budget's change from `before_fen` to its amount (appropriation ↔ available).
    Refuses to cut it below what is already approved or paid."""
    delta = budget.amount_fen - before_fen
    if delta == 0:
        return None
    measure, year = budget.measure, budget.year
    if delta < 0 and -delta > balance(measure, year, Account.AVAILABLE):
        spent = balance(measure, year, Account.COMMITTED) + balance(measure, year, Account.PAID)
        raise ValidationError(
            {
                "amount_fen": _("预算不能低于已批准和已支付的金额%(spent)s元")
                % {"spent": yuan(spent)}
            }
        )
    return post(
        kind=LedgerEntry.Kind.BUDGET,
        measure=measure,
        year=year,
        lines=[(Account.APPROPRIATION, -delta), (Account.AVAILABLE, delta)],
        posted_on=posted_on,
        acting_user=acting_user,
        memo=_("%(year)s年度预算调整为%(amount)s元")
        % {"year": year, "amount": yuan(budget.amount_fen)},
    )
