"""Working days for public notices (公示), ADR 0008.

The national calendar (weekends, public holidays and the weekends made working days, 调休)
comes from the `chinesecalendar` package, which follows the State Council's yearly notice.
The zone's own `Holiday` rows override it day by day, and cover the years the package does
not know yet: for such a year the zone must have entered at least one day, or the notice is
refused rather than counted over weekends only (a year's holidays are announced late in the
year before, and a notice that ends on a holiday would be wrong)."""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from gaoxin.policies.models import Holiday

ONE_DAY = dt.timedelta(days=1)


class Calendar:
    """Answers is-this-a-working-day from the zone's overrides and the national calendar."""

    def __init__(self, first: dt.date, last: dt.date) -> None:
        years = range(first.year, last.year + 2)
        rows = Holiday.objects.filter(day__year__in=years)
        self.overrides = {h.day: h.is_workday for h in rows}
        # Years for which the zone entered its own calendar (at least one day).
        self.zone_years = {d.year for d in self.overrides}

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            if day.year in self.zone_years:
                return day.weekday() < 5
            raise ValidationError(
                {
                    "published_on": _(
                        "系统尚无%(year)s年的法定节假日安排,请先在“节假日设置”中录入该年的"
                        "节假日和调休上班日"
                    )
                    % {"year": day.year}
                }
            ) from None


def notice_period(published_on: dt.date, working_days: int) -> tuple[dt.date, dt.date]:
    """The first and last day of a notice published on `published_on` that runs
    `working_days` working days: it starts on the first working day on or after publication
    and ends on the last of those days."""
    if working_days < 1:
        raise ValidationError({"working_days": _("公示期至少为1个工作日")})
    calendar = Calendar(published_on, published_on + dt.timedelta(days=working_days * 3))
    day = published_on
    while not calendar.is_workday(day):
        day += ONE_DAY
    start, counted = day, 1
    while counted < working_days:
        day += ONE_DAY
        if calendar.is_workday(day):
            counted += 1
    return start, day
