"""Money on the pages: amounts are stored in fen and shown in 元 (or 万元)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

register = template.Library()


@register.filter
def yuan(fen: Any) -> str:
    """12345678 -> "123,456.78"."""
    if fen is None or fen == "":
        return "—"
    value = Decimal(int(fen)) / 100
    return f"{value:,.2f}"


@register.filter
def wan(fen: Any) -> str:
    """12345678 -> "12.35" (万元)."""
    if fen is None or fen == "":
        return "—"
    value = Decimal(int(fen)) / 1_000_000
    return f"{value:,.2f}"
