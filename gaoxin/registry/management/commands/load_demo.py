"""`python manage.py load_demo`: reference data, the demo zone and one demo account per role."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gaoxin.core.context import acting
from gaoxin.policies.demo import load_policies
from gaoxin.registry.demo import (
    DEFAULT_ENTERPRISES,
    DEFAULT_SEED,
    DEMO_PASSWORD,
    DEMO_PASSWORD_ENV,
    MIN_ENTERPRISES,
    demo_password,
    generate_zone,
    load_demo,
)
from gaoxin.reports.demo import load_reports


class Command(BaseCommand):
    help = (
        "Load (or reload, idempotently) the reference data, the deterministic demo zone and the "
        f"demo accounts. The accounts' password is ${DEMO_PASSWORD_ENV} or '{DEMO_PASSWORD}'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
        parser.add_argument(
            "--enterprises",
            type=int,
            default=DEFAULT_ENTERPRISES,
            help=f"number of enterprises (default {DEFAULT_ENTERPRISES}, at least "
            f"{MIN_ENTERPRISES})",
        )
        parser.add_argument("--quiet", action="store_true", help="print only the summary line")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enterprises"] < MIN_ENTERPRISES:
            raise CommandError(f"--enterprises must be at least {MIN_ENTERPRISES}")
        password = demo_password()
        # Audit rows written by the load say they came from the command line.
        with acting(channel="cli"):
            result = load_demo(
                seed=options["seed"], n_enterprises=options["enterprises"], password=password
            )
            reports = load_reports(
                generate_zone(options["seed"], options["enterprises"]), batch=result.batch
            )
            with acting(channel="cli", batch=result.batch):
                policies = load_policies()
        if not options["quiet"]:
            self._print_accounts(result.accounts, password)
        tables = ("enterprises", "qualifications", "grids", "organisations", "users")
        parts = [
            f"{t} +{result.created[t]} ~{result.updated[t]} ={result.unchanged[t]}" for t in tables
        ]
        reference = sum(result.reference.values())
        parts.append(f"reports +{reports.created} ={reports.unchanged}")
        parts.append(f"targets +{reports.targets}")
        parts.append(f"policies +{policies}")
        self.stdout.write(
            f"演示数据已加载 demo loaded (+created ~updated =unchanged): {'; '.join(parts)}; "
            f"reference rows written {reference}"
            + (
                ""
                if result.changed or reports.created or reports.targets or policies
                else " (nothing changed)"
            )
        )
        extra = result.not_in_plan["qualifications"]
        if extra:
            # Usually an earlier load with another --seed or --enterprises: figures computed
            # from this database will then differ from the documented demo figures.
            self.stderr.write(
                f"注意: 演示企业另有 {extra} 条资质记录不在本次演示计划中，已保留 "
                f"({extra} qualifications of demo enterprises are not in this plan; kept)"
            )

    def _print_accounts(self, accounts: list[tuple[Any, str]], password: str) -> None:
        rows = [("用户名 username", "角色 role", "绑定对象 bound to", "密码 password")]
        for user, bound in accounts:
            role = str(user.get_role_display())
            if user.department:
                role = f"{role}·{user.get_department_display()}"
            rows.append((user.username, role, bound or "—", password))
        widths = [max(_width(r[i]) for r in rows) for i in range(4)]
        for row in rows:
            cells = (cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)
