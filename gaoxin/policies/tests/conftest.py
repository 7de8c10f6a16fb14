"""The indicator tests' hand-built zone, and the policy facts built on it."""

from gaoxin.indicators.tests.test_indicators import zone  # noqa: F401
from gaoxin.policies.tests.test_facts import policy_zone  # noqa: F401
