"""The shipped reference data: GB/T 4754-2017, 战略性新兴产业分类(2018), the default chains."""

from __future__ import annotations

import pytest
from django.db.models import Count

from gaoxin.registry.models import EmergingCategory, IndustryCategory, IndustryChain
from gaoxin.registry.reference import industry_rows, load_reference_data, read_rows

# One class short of the 1382 of the amended standard: the public source we converted lacks one
# and we do not invent codes (see registry/data/README.md).
SHIPPED_CLASSES = 1381


def test_the_migration_loaded_every_level_of_gbt_4754(db):
    by_level = dict(
        IndustryCategory.objects.values_list("level")
        .annotate(n=Count("id"))
        .values_list("level", "n")
    )
    assert by_level == {1: 20, 2: 97, 3: 473, 4: SHIPPED_CLASSES}
    sections = IndustryCategory.objects.filter(level=1).values_list("code", flat=True)
    assert "".join(sections) == "ABCDEFGHIJKLMNOPQRST"


@pytest.mark.parametrize(
    ("code", "name", "ancestors"),
    [
        ("3611", "汽柴油车整车制造", ["361", "36", "C"]),
        ("3612", "新能源车整车制造", ["361", "36", "C"]),
        ("3670", "汽车零部件及配件制造", ["367", "36", "C"]),
        ("3720", "城市轨道交通设备制造", ["372", "37", "C"]),
        ("3714", "高铁设备、配件制造", ["371", "37", "C"]),
        ("3741", "飞机制造", ["374", "37", "C"]),
        ("3841", "锂离子电池制造", ["384", "38", "C"]),
        ("6513", "应用软件开发", ["651", "65", "I"]),
        ("7224", "供应链管理服务", ["722", "72", "L"]),
        ("9700", "国际组织", ["970", "97", "T"]),
    ],
)
def test_well_known_classes_sit_under_the_right_parents(db, code, name, ancestors):
    node = IndustryCategory.objects.get(code=code)
    assert node.name == name and node.level == 4
    chain = []
    while node.parent_id:
        node = node.parent
        chain.append(node.code)
    assert chain == ancestors
    assert IndustryCategory.objects.get(code=code).section == ancestors[-1]


def test_every_row_has_a_consistent_parent_and_section(db):
    rows = {c.pk: c for c in IndustryCategory.objects.all()}
    for node in rows.values():
        if node.level == 1:
            assert node.parent_id is None and node.section == node.code
            continue
        parent = rows[node.parent_id]
        assert parent.level == node.level - 1
        assert node.section == parent.section
        if node.level > 2:
            assert node.code.startswith(parent.code)


def test_groups_without_subdivision_carry_their_single_class(db):
    # In the standard a group such as 367 is printed on one row with its only class 3670.
    group = IndustryCategory.objects.get(code="367")
    assert [c.code for c in group.children.all()] == ["3670"]
    assert group.name == "汽车零部件及配件制造"


def test_only_sections_b_c_d_are_industrial(db):
    industrial = {
        code: IndustryCategory.objects.get(code=code).is_industrial
        for code in ("0610", "3670", "4411", "4710", "6513")
    }
    assert industrial == {"0610": True, "3670": True, "4411": True, "4710": False, "6513": False}


def test_the_csv_file_itself_is_well_formed():
    rows = industry_rows()
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes)) == 20 + 97 + 473 + SHIPPED_CLASSES
    assert all(r["name"] and r["name"] == r["name"].strip() for r in rows)


def test_emerging_categories_are_the_nine_of_2018(db):
    assert list(EmergingCategory.objects.values_list("code", "name")) == [
        ("1", "新一代信息技术产业"),
        ("2", "高端装备制造产业"),
        ("3", "新材料产业"),
        ("4", "生物产业"),
        ("5", "新能源汽车产业"),
        ("6", "新能源产业"),
        ("7", "节能环保产业"),
        ("8", "数字创意产业"),
        ("9", "相关服务业"),
    ]


def test_default_chains_are_three_plus_three_plus_one(db):
    chains = list(IndustryChain.objects.all())
    groups = [c.group for c in chains]
    assert groups.count("pillar") == 3
    assert groups.count("emerging") == 3
    assert groups.count("service") == 1
    assert [c.code for c in chains] == [r["code"] for r in read_rows("industry_chains.csv")]


def test_loading_again_changes_nothing(db):
    assert set(load_reference_data().values()) == {0}


def test_reload_keeps_staff_edits_to_chains_and_restores_a_deleted_one(db):
    IndustryChain.objects.filter(code="auto").update(name="整车制造", description="员工修改")
    IndustryChain.objects.filter(code="modern-services").delete()
    counts = load_reference_data()
    assert counts["chains_created"] == 1
    edited = IndustryChain.objects.get(code="auto")
    assert (edited.name, edited.description) == ("整车制造", "员工修改")
    assert IndustryChain.objects.filter(code="modern-services", group="service").exists()


def test_reload_corrects_a_damaged_industry_row(db):
    IndustryCategory.objects.filter(code="3670").update(name="错误名称", section="Z")
    assert load_reference_data()["industry_updated"] == 1
    fixed = IndustryCategory.objects.get(code="3670")
    assert (fixed.name, fixed.section) == ("汽车零部件及配件制造", "C")
