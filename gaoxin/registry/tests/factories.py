from __future__ import annotations

import datetime as dt

import factory

from gaoxin.core.text import pinyin_initials
from gaoxin.core.validators import uscc_with_check_digit
from gaoxin.registry.models import Enterprise, IndustryCategory, Qualification


def make_uscc(n: int) -> str:
    """A valid USCC for test number n: 91 (enterprise) + 450211 (Liuzhou) + 9-digit serial."""
    return uscc_with_check_digit(f"91450211{n:09d}")


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise
        django_get_or_create = ("uscc",)

    uscc = factory.Sequence(lambda n: make_uscc(n + 1))
    name = factory.Sequence(lambda n: f"柳州测试{n}号科技有限公司")
    name_initials = factory.LazyAttribute(lambda o: pinyin_initials(o.name))
    founded_on = dt.date(2015, 6, 1)
    industry = factory.LazyFunction(lambda: IndustryCategory.objects.filter(code="3670").first())
    status = Enterprise.Status.OPERATING


class QualificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Qualification

    enterprise = factory.SubFactory(EnterpriseFactory)
    kind = Qualification.Kind.HIGH_TECH
    recognised_on = dt.date(2019, 11, 1)
    valid_until = dt.date(2022, 10, 31)
    certificate_no = factory.Sequence(lambda n: f"GR2019450{n:05d}")
