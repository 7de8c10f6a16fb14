"""The shared reads: "who held X on D", the list filter used by page/export/API, the profile."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gaoxin.core import audit
from gaoxin.registry import selectors
from gaoxin.registry.models import (
    EmergingCategory,
    Enterprise,
    Grid,
    IndustryCategory,
    IndustryChain,
    Qualification,
)
from gaoxin.registry.tests.factories import EnterpriseFactory, QualificationFactory

INDUSTRIES = [
    # (code, name, level, parent, section)
    ("C", "制造业", 1, None, "C"),
    ("36", "汽车制造业", 2, "C", "C"),
    ("367", "汽车零部件及配件制造", 3, "36", "C"),
    ("3670", "汽车零部件及配件制造", 4, "367", "C"),
    ("34", "通用设备制造业", 2, "C", "C"),
    ("341", "锅炉及原动设备制造", 3, "34", "C"),
    ("3411", "锅炉及辅助设备制造", 4, "341", "C"),
    ("I", "信息传输、软件和信息技术服务业", 1, None, "I"),
    ("65", "软件和信息技术服务业", 2, "I", "I"),
    ("651", "软件开发", 3, "65", "I"),
    ("6511", "基础软件开发", 4, "651", "I"),
]
EMERGING = [("1", "新一代信息技术产业"), ("2", "高端装备制造产业"), ("5", "新能源汽车产业")]


def make_reference_data() -> dict[str, object]:
    """The rows these tests need, whether or not the reference-data migration has run."""
    industries: dict[str, IndustryCategory] = {}
    for code, name, level, parent, section in INDUSTRIES:
        industries[code], _ = IndustryCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "level": level,
                "parent": industries.get(parent) if parent else None,
                "section": section,
            },
        )
    sei = {
        code: EmergingCategory.objects.get_or_create(code=code, defaults={"name": name})[0]
        for code, name in EMERGING
    }
    auto, _ = IndustryChain.objects.get_or_create(
        code="test-auto",
        defaults={"name": "测试·汽车产业链", "group": IndustryChain.Group.PILLAR, "sort_order": 1},
    )
    soft, _ = IndustryChain.objects.get_or_create(
        code="test-soft",
        defaults={
            "name": "测试·软件产业链",
            "group": IndustryChain.Group.EMERGING,
            "sort_order": 2,
        },
    )
    grid_a, _ = Grid.objects.get_or_create(
        code="test-g1", defaults={"name": "测试网格一", "street": "测试街道甲"}
    )
    grid_b, _ = Grid.objects.get_or_create(
        code="test-g2", defaults={"name": "测试网格二", "street": "测试街道乙"}
    )
    return {
        "industries": industries,
        "sei": sei,
        "chains": {"auto": auto, "soft": soft},
        "grids": {"a": grid_a, "b": grid_b},
    }


@pytest.fixture
def ref(db):
    return make_reference_data()


@pytest.fixture
def population(ref):
    """Three enterprises that differ in every filterable respect."""
    ind, sei, chains, grids = ref["industries"], ref["sei"], ref["chains"], ref["grids"]
    auto = EnterpriseFactory(
        name="柳州华创汽车零部件有限公司",
        former_names="柳州华创机械厂",
        industry=ind["3670"],
        sei_category=sei["5"],
        sei_status=Enterprise.SeiStatus.CONFIRMED,
        chain=chains["auto"],
        grid=grids["a"],
        size=Enterprise.Size.MEDIUM,
        founded_on=dt.date(2010, 3, 1),
        registered_capital=Decimal("5000"),
    )
    boiler = EnterpriseFactory(
        name="广西东城锅炉有限公司",
        industry=ind["3411"],
        chain=chains["auto"],
        grid=grids["b"],
        size=Enterprise.Size.SMALL,
        founded_on=None,
        registered_capital=Decimal("800"),
    )
    soft = EnterpriseFactory(
        name="柳州云智软件有限公司",
        industry=ind["6511"],
        sei_category=sei["1"],
        chain=chains["soft"],
        grid=grids["b"],
        size=Enterprise.Size.MICRO,
        status=Enterprise.Status.MOVED_OUT,
        founded_on=dt.date(2020, 8, 8),
        registered_capital=None,
    )
    QualificationFactory(
        enterprise=auto,
        kind=Qualification.Kind.HIGH_TECH,
        recognised_on=dt.date(2019, 11, 1),
        valid_until=dt.date(2022, 10, 31),
    )
    QualificationFactory(
        enterprise=soft,
        kind=Qualification.Kind.HIGH_TECH,
        recognised_on=dt.date(2022, 11, 1),
        valid_until=dt.date(2025, 10, 31),
    )
    return {"auto": auto, "boiler": boiler, "soft": soft}


def names(qs) -> list[str]:
    return [e.name for e in qs]


def test_enterprises_holding_is_inclusive_at_both_ends(population):
    auto = population["auto"]
    for day, held in [
        (dt.date(2019, 10, 31), False),
        (dt.date(2019, 11, 1), True),
        (dt.date(2022, 10, 31), True),
        (dt.date(2022, 11, 1), False),
    ]:
        assert (auto in selectors.enterprises_holding("high_tech", day)) is held, day


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "华创"}, {"auto"}),
        ({"q": "机械厂"}, {"auto"}),  # former name
        ({"q": "lzhc"}, {"auto"}),  # pinyin initials, any case
        ({"industry": "C"}, {"auto", "boiler"}),
        ({"industry": "36"}, {"auto"}),
        ({"industry": "3670"}, {"auto"}),
        ({"industry": "C3670"}, {"auto"}),
        ({"industry": "I65"}, {"soft"}),
        ({"industry": "A3670"}, set()),
        ({"industry": "X?"}, set()),
        ({"sei": "5"}, {"auto"}),
        ({"chain": "test-auto"}, {"auto", "boiler"}),
        ({"size": "small"}, {"boiler"}),
        ({"status": "moved_out"}, {"soft"}),
        ({"street": "测试街道乙"}, {"boiler", "soft"}),
        ({"grid": "test-g1"}, {"auto"}),
        ({"qualification": "high_tech", "on": "2020-06-30"}, {"auto"}),
        ({"qualification": "high_tech", "on": "2023-06-30"}, {"soft"}),
        ({"qualification": "gazelle", "on": "2023-06-30"}, set()),
        ({"chain": "test-auto", "size": "medium"}, {"auto"}),
    ],
)
def test_enterprise_filter_each_key(population, params, expected):
    found = {k for k, e in population.items() if e in selectors.enterprise_filter(params)}
    assert found == expected


def test_chain_and_grid_filters_accept_ids_as_well_as_codes(population, ref):
    by_id = selectors.enterprise_filter({"chain": str(ref["chains"]["soft"].pk)})
    assert names(by_id) == ["柳州云智软件有限公司"]
    assert names(selectors.enterprise_filter({"grid": str(ref["grids"]["a"].pk)})) == [
        "柳州华创汽车零部件有限公司"
    ]


def test_uscc_prefix_search(population):
    prefix = population["boiler"].uscc[:17]
    assert names(selectors.enterprise_filter({"q": prefix})) == ["广西东城锅炉有限公司"]


def test_sorting_is_whitelisted_and_puts_empty_values_last(population):
    asc = names(selectors.enterprise_filter({"sort": "founded_on"}))
    desc = names(selectors.enterprise_filter({"sort": "-founded_on"}))
    assert asc == ["柳州华创汽车零部件有限公司", "柳州云智软件有限公司", "广西东城锅炉有限公司"]
    assert desc == ["柳州云智软件有限公司", "柳州华创汽车零部件有限公司", "广西东城锅炉有限公司"]
    capital = names(selectors.enterprise_filter({"sort": "-registered_capital"}))
    assert capital[0] == "柳州华创汽车零部件有限公司" and capital[-1] == "柳州云智软件有限公司"
    by_name = names(selectors.enterprise_filter({}))
    assert names(selectors.enterprise_filter({"sort": "password; drop table"})) == by_name


def test_industry_path_lists_section_to_class(population):
    path = selectors.industry_path(population["auto"].industry)
    assert [i.code for i in path] == ["C", "36", "367", "3670"]
    assert selectors.industry_path(None) == []


def test_qualifications_grouped_by_kind_with_state(population):
    e = population["auto"]
    QualificationFactory(
        enterprise=e,
        kind=Qualification.Kind.HIGH_TECH,
        recognised_on=dt.date(2022, 12, 1),
        valid_until=dt.date(2025, 11, 30),
    )
    groups = selectors.qualifications_by_kind(e, today=dt.date(2023, 1, 1))
    assert [g.kind for g in groups] == ["high_tech"]
    assert [q.state for q in groups[0].items] == ["valid", "expired"]
    assert groups[0].valid_today
    later = selectors.qualifications_by_kind(e, today=dt.date(2030, 1, 1))
    assert not later[0].valid_today


def test_describe_changes_resolves_foreign_keys_and_choices(population, ref, zone_admin):
    e = population["auto"]
    row = audit.record(
        actor=zone_admin,
        action="update",
        obj=e,
        enterprise_id=e.pk,
        changes={
            "chain": [ref["chains"]["auto"].pk, ref["chains"]["soft"].pk],
            "status": ["operating", "moved_out"],
            "founded_on": ["2010-03-01", None],
            "review_reason": [None, "材料不全"],
        },
    )
    selectors.describe_changes([row])
    lines = {c.field: c for c in row.change_lines}
    assert (lines["chain"].label, lines["chain"].old, lines["chain"].new) == (
        "产业链",
        "测试·汽车产业链",
        "测试·软件产业链",
    )
    assert (lines["status"].old, lines["status"].new) == ("存续", "迁出")
    assert (lines["founded_on"].old, lines["founded_on"].new) == ("2010年3月1日", "—")
    assert lines["review_reason"].label == "审核意见"
