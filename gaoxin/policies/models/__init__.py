"""Policy funds (ADR 0007, 0008): policies and measures, applications and their workflow, the
ledger and payments, proactive matching, innovation vouchers."""

from gaoxin.policies.models.applications import (
    Application,
    ApplicationAttachment,
    ApplicationEvent,
    Holiday,
    Notice,
    Objection,
)
from gaoxin.policies.models.ledger import Account, LedgerEntry, Payment, PaymentBatch, Posting
from gaoxin.policies.models.matching import Match, MatchRun
from gaoxin.policies.models.policies import (
    InterestPayment,
    Loan,
    Measure,
    MeasureBudget,
    MeasureVersion,
    Policy,
)
from gaoxin.policies.models.vouchers import Redemption, ServiceProvider, Settlement, Voucher

__all__ = [
    "Account",
    "Application",
    "ApplicationAttachment",
    "ApplicationEvent",
    "Holiday",
    "InterestPayment",
    "LedgerEntry",
    "Loan",
    "Match",
    "MatchRun",
    "Measure",
    "MeasureBudget",
    "MeasureVersion",
    "Notice",
    "Objection",
    "Payment",
    "PaymentBatch",
    "Policy",
    "Posting",
    "Redemption",
    "ServiceProvider",
    "Settlement",
    "Voucher",
]
