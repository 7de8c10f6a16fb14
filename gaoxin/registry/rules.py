"""Registry rules shared by forms, the API and the import."""

from __future__ import annotations

import datetime as dt

from gaoxin.registry.models import Qualification

K = Qualification.Kind


def default_valid_until(kind: str, recognised_on: dt.date) -> dt.date:
    """The end of validity when a certificate does not state one.

    高企 certificates run three years (国科发火〔2016〕32号); 科技型中小企业 and 规上 lists are
    per calendar year; other recognitions are reviewed every three years by the province.
    """
    if kind in (K.TECH_SME, K.ABOVE_SCALE):
        return dt.date(recognised_on.year, 12, 31)
    try:
        end = recognised_on.replace(year=recognised_on.year + 3)
    except ValueError:  # 29 February
        end = recognised_on.replace(year=recognised_on.year + 3, day=28)
    return end - dt.timedelta(days=1)
