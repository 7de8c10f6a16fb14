"""The report forms Gaoxin ships, as data. A migration installs them; staff add versions later.

Field keys are stable across versions and are what indicators read. Money fields are entered in
the unit shown (万元 on the monthly industrial report, 千元 on the Torch-style annual survey, as
the national forms use) and stored in 元.
"""

from __future__ import annotations

from typing import Any

INDUSTRY_MONTHLY = "industry_monthly"
SCI_ANNUAL = "sci_annual"

FORMS: list[dict[str, Any]] = [
    {
        "code": INDUSTRY_MONTHLY,
        "version": 1,
        "name": "工业企业主要经济指标月报",
        "frequency": "monthly",
        "effective_from": "2017-01-01",
        "description": "规模以上及重点监测工业企业按月报送,次月10日前报送上月数据。",
        "fields": [
            (
                "gross_output",
                "工业总产值(当年价格)",
                "wyuan",
                "decimal",
                True,
                True,
                "按当年价格计算的本月工业总产值",
            ),
            (
                "gross_output_ytd",
                "工业总产值本年累计(当年价格)",
                "wyuan",
                "decimal",
                False,
                True,
                "1月至本月累计;填写时应等于上月累计加本月",
            ),
            (
                "revenue",
                "主营业务收入",
                "wyuan",
                "decimal",
                True,
                True,
                "本月营业收入中的主营业务收入",
            ),
            ("profit", "利润总额", "wyuan", "decimal", True, False, "亏损填负数"),
            ("tax", "应交税金", "wyuan", "decimal", True, True, "本月应交增值税、所得税等税金合计"),
            (
                "employees",
                "从业人员期末人数",
                "person",
                "integer",
                True,
                True,
                "本月末在岗从业人员",
            ),
            ("export_value", "出口交货值", "wyuan", "decimal", False, True, "无出口填0"),
            (
                "new_product_output",
                "新产品产值",
                "wyuan",
                "decimal",
                False,
                True,
                "不得大于工业总产值",
            ),
        ],
    },
    {
        "code": SCI_ANNUAL,
        "version": 1,
        "name": "企业科技活动年报(火炬统计调查)",
        "frequency": "annual",
        "effective_from": "2017-01-01",
        "description": "按火炬统计调查口径,次年3月底前报送上年数据。",
        "fields": [
            ("revenue", "营业收入", "kyuan", "decimal", True, True, "全年营业收入"),
            ("main_revenue", "主营业务收入", "kyuan", "decimal", True, True, ""),
            (
                "rd_spend",
                "研发经费内部支出",
                "kyuan",
                "decimal",
                True,
                True,
                "企业内部开展研发活动的实际支出,不得大于营业收入",
            ),
            ("rd_personnel", "研发人员", "person", "integer", True, True, "全年从事研发活动的人员"),
            (
                "has_rd_institution",
                "是否设有研发机构",
                "none",
                "boolean",
                True,
                True,
                "企业技术中心、工程技术研究中心、重点实验室等",
            ),
            ("patents_applied", "当年专利申请数", "item", "integer", True, True, ""),
            ("patents_granted", "当年专利授权数", "item", "integer", True, True, ""),
            ("hightech_revenue", "高新技术产品(服务)收入", "kyuan", "decimal", False, True, ""),
            (
                "tech_income",
                "技术收入",
                "kyuan",
                "decimal",
                False,
                True,
                "技术转让、技术承包、技术咨询与服务收入",
            ),
            ("exports", "出口总额", "kyuan", "decimal", False, True, ""),
            ("employees", "年末从业人员", "person", "integer", True, True, ""),
        ],
    },
]


def install(form_model: Any, field_model: Any) -> None:
    """Creates the shipped forms that are missing (models passed in so a migration can use its
    historical ones)."""
    for spec in FORMS:
        form, created = form_model.objects.get_or_create(
            code=spec["code"],
            version=spec["version"],
            defaults={
                "name": spec["name"],
                "frequency": spec["frequency"],
                "effective_from": spec["effective_from"],
                "description": spec["description"],
            },
        )
        if not created:
            continue
        for order, (key, name, unit, kind, required, non_negative, help_text) in enumerate(
            spec["fields"], start=1
        ):
            field_model.objects.create(
                form=form,
                key=key,
                name=name,
                unit=unit,
                kind=kind,
                required=required,
                non_negative=non_negative,
                help_text=help_text,
                order=order,
            )
