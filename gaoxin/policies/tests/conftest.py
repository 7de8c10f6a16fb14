"""The indicator tests' hand-built zone, reused as the starting point for policy facts."""

from gaoxin.indicators.tests.test_indicators import zone  # noqa: F401
