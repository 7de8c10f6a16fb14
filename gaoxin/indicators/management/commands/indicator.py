"""python manage.py indicator CODE --year YYYY [--month M] [--by chain|sei|industry] [--revised]

Prints the value, or one `key<TAB>value` line per breakdown; a plain call's last line is the
bare number."""

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
        parser.add_argument("--by", choices=BREAKDOWNS)
        parser.add_argument("--revised", action="store_true", help="as revised (default)")
        parser.add_argument("--first", action="store_true", help="as first reported")

    def handle(self, *args: Any, **options: Any) -> None:
        scope = Scope(
            year=options["year"],
            month=options.get("month"),
            basis=FIRST if options["first"] else REVISED,
        )
        try:
            result = compute(options["code"], scope)
        except KeyError as exc:
            raise CommandError(str(exc.args[0])) from exc
        if options.get("by"):
            for key, value in breakdown(result, options["by"]).items():
                self.stdout.write(f"{key}\t{_fmt(value)}")
            return
        self.stdout.write(_fmt(result.value))
