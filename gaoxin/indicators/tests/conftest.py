"""Fixtures shared by the indicator tests: a hand-built zone and its reported outputs."""

from gaoxin.indicators.tests.test_indicators import outputs, zone  # noqa: F401
