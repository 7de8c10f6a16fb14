"""The policy-fund indicators, registered with the indicator engine when the app is ready."""

from __future__ import annotations

import polars as pl
from django.utils.translation import gettext_lazy as _

from gaoxin.indicators.engine import Scope, indicator, members_frame
from gaoxin.policies.selectors import paid_by_enterprise


@indicator(
    "policy_paid_total",
    name=_("政策资金兑现总额"),
    name_en="Policy funds paid out",
    unit=_("元"),
    kind="sum",
    definition=_(
        "当年实际支付的政策扶持资金(按支付日期),取自资金台账“已支付”科目的净额:"
        "企业申请和免申即享的兑现计入受益企业,创新券结算计入持券企业;当年冲正的支付不计。"
    ),
    scale=100,
)
def policy_paid_total(scope: Scope) -> pl.DataFrame:
    paid = paid_by_enterprise(scope.year)
    return members_frame(paid, numerator=pl.col("paid_fen"))
