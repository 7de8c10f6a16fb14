"""Indicator pages, targets, dashboards and the indicator API, as staff see them."""

from __future__ import annotations

import io

import openpyxl
import pytest

from gaoxin.core.models import AuditEntry
from gaoxin.indicators.models import Target


def sheet(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content)).active


def test_indicator_list_and_detail_show_values_definitions_and_members(outputs, leader, client_for):
    client = client_for(leader)
    page = client.get("/indicators/?year=2019").content.decode()
    assert "规上工业企业数" in page and "新上规工业企业数" in page
    assert "主营业务收入2000万元及以上" in page  # the definition is on the page
    detail = client.get("/indicators/above_scale_output/?year=2019&by=chain").content.decode()
    assert "174,000" in detail or "174000" in detail
    assert "汽车零部件" in detail  # the breakdown by chain
    assert "企业A" in detail and "企业C" in detail  # the members (lineage)


def test_lineage_export_adds_up_to_the_value_and_is_audited(outputs, leader, client_for):
    response = client_for(leader).get("/indicators/above_scale_output/lineage.xlsx?year=2019")
    assert response.status_code == 200
    rows = list(sheet(response.content).iter_rows(values_only=True))
    assert rows[0][:2] == ("统一社会信用代码", "企业名称")
    assert sum(r[4] for r in rows[1:]) == 174000
    # The report rows behind it: every accepted month of each member, adding up to the value.
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    facts = list(book.worksheets[1].iter_rows(values_only=True))
    assert facts[0] == (
        "统一社会信用代码",
        "企业名称",
        "报告期",
        "修订次数",
        "工业总产值(当年价格)(万元)",
    )
    assert len(facts) - 1 == 3 * 12 and facts[1][2] == "2019-01"
    assert sum(r[4] for r in facts[1:]) == 174000
    assert AuditEntry.objects.filter(action="export", model="indicators.indicator").count() == 1


def test_targets_are_set_by_the_zone_administrator_and_audited(zone_admin, leader, client_for, db):
    response = client_for(zone_admin).post(
        "/indicators/targets/",
        {"code": "rd_institution_coverage", "year": "2022", "value": "30", "note": "十四五规划"},
    )
    assert response.status_code == 302
    target = Target.objects.get()
    assert (target.code, target.year, target.value) == ("rd_institution_coverage", 2022, 30)
    assert AuditEntry.objects.filter(model="indicators.target", action="create").exists()
    bad = client_for(zone_admin).post(
        "/indicators/targets/", {"code": "rd_institution_coverage", "year": "2022", "value": "三十"}
    )
    assert "目标值应为数值" in bad.content.decode()
    huge = client_for(zone_admin).post(
        "/indicators/targets/", {"code": "hte_count", "year": "2022", "value": "1e30"}
    )
    assert "目标值过大" in huge.content.decode()
    assert client_for(leader).get("/indicators/").status_code == 200  # and nothing broke
    # Leadership reads targets but cannot set them.
    assert client_for(leader).get("/indicators/targets/").status_code == 200
    assert (
        client_for(leader)
        .post("/indicators/targets/", {"code": "hte_count", "year": "2022", "value": "1"})
        .status_code
        == 404
    )


@pytest.mark.parametrize(
    "url", ["/indicators/", "/indicators/dashboard/", "/indicators/bigscreen/"]
)
def test_enterprise_users_do_not_see_zone_indicators(url, ent_user, client_for):
    assert client_for(ent_user).get(url).status_code == 404


def test_dashboard_and_big_screen_draw_charts_with_text_alternatives(
    outputs, leader, client_for, django_assert_max_num_queries
):
    client = client_for(leader)
    client.get("/indicators/dashboard/?year=2019")  # warm the cache
    with django_assert_max_num_queries(8):
        page = client.get("/indicators/dashboard/?year=2019").content.decode()
    assert 'id="chart-data"' in page and 'data-chart="monthly"' in page
    assert "数据表" in page  # every chart has its data as a table too
    assert "本期报表报送进度" in page
    screen = client.get("/indicators/bigscreen/?year=2019").content.decode()
    assert 'class="bigscreen"' in screen and 'http-equiv="refresh"' in screen
    export = client.get("/indicators/dashboard/chain.xlsx?year=2019")
    rows = list(sheet(export.content).iter_rows(values_only=True))
    assert rows[0] == ("产业链", "规上工业总产值(万元)")
    assert sum(r[1] for r in rows[1:]) == 174000


def test_indicator_api_values_breakdowns_lineage_and_targets(
    outputs, leader, zone_admin, client_for, ent_user
):
    client = client_for(leader)
    one = client.get("/api/indicators/new_500m_count?year=2019").json()
    assert one["value"] == "1" or float(one["value"]) == 1
    assert "chain" in one["breakdowns"]
    lineage = client.get("/api/indicators/above_scale_output/lineage?year=2019").json()
    assert lineage["count"] == 3
    assert sum(float(m["numerator"]) for m in lineage["items"]) == 174000
    assert client_for(ent_user).get("/api/indicators/hte_count?year=2019").status_code == 404
    made = client_for(zone_admin).post(
        "/api/indicators/targets",
        data={"code": "hte_rd_intensity", "year": 2022, "value": "3.5"},
        content_type="application/json",
    )
    assert made.status_code == 200, made.content
    assert Target.objects.get(code="hte_rd_intensity").value == 3.5


def test_enterprise_profile_gains_its_reported_series_and_chain_position(
    outputs, client_for, leader, ent_user, db
):
    a = outputs["A"]
    profile = client_for(leader).get(f"/registry/{a.pk}/").content.decode()
    assert f'hx-get="/indicators/enterprise/{a.pk}/"' in profile
    fragment = (
        client_for(leader)
        .get(f"/indicators/enterprise/{a.pk}/", HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "2019年工业总产值在汽车零部件产业链报送企业中排第 1 位(共 2 家),占该链产值 90.0%" in (
        fragment
    )
    assert "108,000" in fragment or "108000" in fragment  # 9,000 万元 x 12
    # Another enterprise's user may not read A's figures.
    assert client_for(ent_user).get(f"/indicators/enterprise/{a.pk}/").status_code == 404


def test_an_enterprise_sees_its_chain_rank_only_among_enough_peers(
    outputs, enterprise, ent_user, leader, client_for, dept_reviewer
):
    """Three enterprises report in 汽车零部件: rank and share would let each work out the others'
    output, so its own user does not see them; staff do."""
    from gaoxin.indicators.tests.test_indicators import accept, monthly
    from gaoxin.registry.models import IndustryChain

    enterprise.chain = IndustryChain.objects.get(name="汽车零部件")
    enterprise.save(update_fields=["chain"])
    accept(enterprise, 2019, 1, monthly("500"), dept_reviewer)
    url = f"/indicators/enterprise/{enterprise.pk}/"
    own = client_for(ent_user).get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "500" in own  # its own figures
    assert "排第" not in own
    staff = client_for(leader).get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "排第 3 位(共 3 家)" in staff


def test_cached_breakdowns_follow_the_readers_language(outputs, leader, client_for):
    from django.conf import settings

    client = client_for(leader)
    url = "/indicators/above_scale_count/?year=2019&by=chain"
    assert "未分类" in client.get(url).content.decode()  # computed and cached in Chinese
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(url).content.decode()
    assert "Unclassified" in english and "未分类" not in english
