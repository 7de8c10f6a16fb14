"""python manage.py match_policies --year YYYY [--measure CODE]

Runs proactive matching (免申即享) of the published measures in force during the year against
every enterprise and records the run (snapshot, rule versions, matches). The last line is
`enterprises=N matches=N total_fen=N`."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gaoxin.core.context import acting
from gaoxin.policies import services


class Command(BaseCommand):
    help = "Run proactive policy matching for a year and record the run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--measure", help="only measures of this type (e.g. new_above_scale)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with acting(channel="cli"):
                run = services.match_run(
                    year=options["year"], code=options.get("measure"), acting_user=None
                )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"run={run.pk} seconds={run.seconds}")
        self.stdout.write(
            f"enterprises={run.enterprises} matches={run.matches} total_fen={run.total_fen}"
        )
