"""python manage.py indicator CODE --year YYYY [--month M] [--by chain|sei|industry] [--revised]
   python manage.py indicator policy_paid_total --year YYYY [--by policy]

Prints the value, or one `key<TAB>value` line per breakdown; a plain call's last line is the
bare number. `--by policy` groups the money paid out by the policy it was paid under (from the
ledger), so it applies to `policy_paid_total` only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gaoxin.indicators.engine import BREAKDOWNS, FIRST, REVISED, Scope, breakdown, compute


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return "NA"  # nothing to divide by: no data, which is not zero
    if value == value.to_integral():
        return str(int(value))
    return f"{value:.2f}"


class Command(BaseCommand):
    help = "Compute an indicator from the platform's records (figures are never typed in)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code")
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--month", type=int, choices=range(1, 13))
        parser.add_argument("--by", choices=(*BREAKDOWNS, "policy"))
        parser.add_argument("--revised", action="store_true", help="as revised (default)")
        parser.add_argument("--first", action="store_true", help="as first reported")

    def handle(self, *args: Any, **options: Any) -> None:
        scope = Scope(
            year=options["year"],
            month=options.get("month"),
            basis=FIRST if options["first"] else REVISED,
        )
        if options.get("by") == "policy":
            self._by_policy(options["code"], scope)
            return
        try:
            result = compute(options["code"], scope)
        except KeyError as exc:
            raise CommandError(str(exc.args[0])) from exc
        if options.get("by"):
            for key, value in breakdown(result, options["by"]).items():
                self.stdout.write(f"{key}\t{_fmt(value)}")
            return
        self.stdout.write(_fmt(result.value))

    def _by_policy(self, code: str, scope: Scope) -> None:
        if code != "policy_paid_total":
            raise CommandError("--by policy applies to policy_paid_total only")
        from gaoxin.policies.selectors import disbursements

        totals: dict[str, int] = {}
        for row in disbursements(scope.year):
            key = f"{row.policy} {row.doc_number}".strip()
            totals[key] = totals.get(key, 0) + row.paid_fen
        for key, fen in totals.items():
            self.stdout.write(f"{key}\t{_fmt(Decimal(fen) / 100)}")
