"""Form validation as people see it: exact reasons, in Chinese, on the field that is wrong."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gaoxin.core.validators import uscc_error
from gaoxin.registry.models import Enterprise
from gaoxin.registry.tests.factories import EnterpriseFactory, make_uscc
from gaoxin.registry.tests.test_selectors import make_reference_data

GOOD = make_uscc(31415)


@pytest.fixture
def ref(db):
    return make_reference_data()


def wrong_check_digit(code: str) -> str:
    return code[:17] + ("0" if code[17] != "0" else "1")


def post_new(client, **fields):
    data = {"uscc": GOOD, "name": "柳州表单测试有限公司", "status": "operating"}
    data.update(fields)
    return client.post("/registry/new/", data)


def field_errors(response, name: str) -> list[str]:
    assert response.status_code == 200, "the form should be shown again"
    return response.context["form"].errors.get(name, [])


def test_uscc_check_digit_reason_is_shown(client_for, dept_staff, ref):
    bad = wrong_check_digit(GOOD)
    page = post_new(client_for(dept_staff), uscc=bad)
    expected = f"统一社会信用代码校验位错误:第18位应为“{GOOD[17]}”,实际为“{bad[17]}”"
    assert field_errors(page, "uscc") == [expected]
    assert expected in page.content.decode()
    assert not Enterprise.objects.exists()


@pytest.mark.parametrize(
    "value",
    ["91450211MA5K00", "91450211MA5K0O0000", "Z1450211MA5K000000", "91ABCDEFMA5K000000"],
)
def test_other_uscc_reasons_come_from_the_one_validator(client_for, dept_staff, ref, value):
    page = post_new(client_for(dept_staff), uscc=value)
    assert field_errors(page, "uscc") == [uscc_error(value)]


def test_full_width_and_spaced_uscc_is_normalised(client_for, dept_staff, ref):
    spaced = " ".join([GOOD[:6], GOOD[6:12], GOOD[12:].lower()])
    assert post_new(client_for(dept_staff), uscc=spaced).status_code == 302
    assert Enterprise.objects.get().uscc == GOOD


def test_duplicate_uscc_names_the_other_enterprise(client_for, dept_staff, ref):
    EnterpriseFactory(uscc=GOOD, name="已在库企业")
    page = post_new(client_for(dept_staff))
    assert field_errors(page, "uscc") == [f"统一社会信用代码“{GOOD}”已被企业“已在库企业”使用"]


def test_unknown_industry_code_is_explained(client_for, dept_staff, ref):
    page = post_new(client_for(dept_staff), industry="9999")
    assert field_errors(page, "industry") == [
        "行业代码“9999”不在《国民经济行业分类》(GB/T 4754-2017)中"
    ]


@pytest.mark.parametrize("typed", ["3670", "C3670", "c3670", "3670 汽车零部件及配件制造"])
def test_industry_accepts_code_with_or_without_section(client_for, dept_staff, ref, typed):
    assert post_new(client_for(dept_staff), industry=typed).status_code == 302
    assert Enterprise.objects.get().industry.code == "3670"


def test_industry_section_must_match(client_for, dept_staff, ref):
    page = post_new(client_for(dept_staff), industry="I3670")
    assert field_errors(page, "industry") == ["行业代码“I3670”的门类应为“C”(汽车零部件及配件制造)"]
    page = post_new(client_for(dept_staff), industry="36-70x")
    assert "格式不对" in field_errors(page, "industry")[0]


def test_founded_on_cannot_be_in_the_future(client_for, dept_staff, ref):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    page = post_new(client_for(dept_staff), founded_on=tomorrow.isoformat())
    assert field_errors(page, "founded_on") == [f"成立日期{tomorrow.isoformat()}晚于今天,请核对"]
    page = post_new(client_for(dept_staff), founded_on="2020-02-30")
    assert field_errors(page, "founded_on") == ["“成立日期”不是有效日期,格式如 2019-12-31"]


def test_required_fields_are_named(client_for, dept_staff, ref):
    page = client_for(dept_staff).post("/registry/new/", {"status": "operating"})
    assert field_errors(page, "name") == ["请填写“企业名称”"]
    assert field_errors(page, "uscc") == ["请填写“统一社会信用代码”"]


def test_capital_and_chain_position_consistency(client_for, dept_staff, ref):
    page = post_new(client_for(dept_staff), registered_capital="-5", chain_position="leader")
    assert field_errors(page, "registered_capital") == ["注册资本不能为负数"]
    assert field_errors(page, "chain_position") == ["填写链上位置前请先选择产业链"]
    page = post_new(client_for(dept_staff), registered_capital="十万")
    assert field_errors(page, "registered_capital") == ["“注册资本(万元)”应为数字"]


def test_qualification_dates_must_be_consistent(client_for, dept_staff, ref):
    e = EnterpriseFactory()
    client = client_for(dept_staff)
    page = client.post(
        f"/registry/{e.pk}/qualifications/new/",
        {"kind": "high_tech", "recognised_on": "2022-11-01", "valid_until": "2021-10-31"},
    )
    assert field_errors(page, "valid_until") == ["有效期至2021-10-31早于认定日期2022-11-01"]
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    page = client.post(
        f"/registry/{e.pk}/qualifications/new/", {"kind": "high_tech", "recognised_on": future}
    )
    assert field_errors(page, "recognised_on") == [f"认定日期{future}晚于今天,请核对"]


def test_high_tech_defaults_to_three_years_and_duplicates_are_refused(client_for, dept_staff, ref):
    e = EnterpriseFactory()
    client = client_for(dept_staff)
    data = {"kind": "high_tech", "recognised_on": "2019-11-01", "certificate_no": "GR1"}
    assert client.post(f"/registry/{e.pk}/qualifications/new/", data).status_code == 302
    assert e.qualifications.get().valid_until == dt.date(2022, 10, 31)
    again = client.post(f"/registry/{e.pk}/qualifications/new/", data)
    assert field_errors(again, "recognised_on") == ["该企业在同一认定日期已有相同资质记录"]


def test_srdi_needs_a_level(client_for, dept_staff, ref):
    e = EnterpriseFactory()
    page = client_for(dept_staff).post(
        f"/registry/{e.pk}/qualifications/new/", {"kind": "srdi", "recognised_on": "2023-01-05"}
    )
    assert field_errors(page, "level") == ["专精特新企业须选择级别"]
