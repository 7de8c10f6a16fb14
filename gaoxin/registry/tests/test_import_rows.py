"""Row-level checks, all-or-nothing versus --keep-valid, re-import idempotency, updates, the
qualification sheet, and the audit rows every bulk write leaves."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pytest

from gaoxin.core.models import AuditEntry, ImportJob
from gaoxin.registry.models import Enterprise, Qualification
from gaoxin.registry.tests.factories import EnterpriseFactory, make_uscc
from gaoxin.registry.tests.test_import_support import (  # noqa: F401 - fixtures
    HEADERS,
    QUAL_HEADERS,
    counts,
    data_dir_fixture,
    good_rows,
    last_line,
    reference_fixture,
    row,
    run_import,
    write_csv,
    write_xlsx,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bad_file(reference, tmp_path):
    """Two good rows (file rows 2 and 8) and one of each row-level error."""
    rows = [
        HEADERS,
        row(1),
        row(
            2, 统一社会信用代码=make_uscc(1002)[:-1] + ("0" if make_uscc(1002)[-1] != "0" else "1")
        ),
        row(3, 行业代码="9999"),
        row(4, 成立日期=(dt.date.today() + dt.timedelta(days=30)).isoformat()),
        row(5),
        row(6, 统一社会信用代码=make_uscc(1005)),  # duplicates row 5's code
        row(7),
    ]
    return write_csv(tmp_path / "bad.csv", rows)


def test_row_errors_name_row_column_value_and_reason(bad_file, tmp_path):
    report = tmp_path / "errors.xlsx"
    code, out, err = run_import(bad_file, "--errors", str(report))
    assert code == 2
    assert last_line(out) == counts(rejected=5)
    assert Enterprise.objects.count() == 0  # all or nothing
    bad_code = make_uscc(1002)[:-1]
    assert f"第3行 统一社会信用代码“{bad_code}" in err and "校验位错误:第18位应为" in err
    assert "第4行 行业代码“9999”:行业代码“9999”不在国民经济行业分类" in err
    assert "第5行 成立日期" in err and "成立日期不能晚于今天" in err
    assert "第6行" in err and "重复出现(另见第7行)" in err
    assert "第7行" in err and "与第6行重复" in err
    sheet = openpyxl.load_workbook(report).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("行号", "列", "值", "原因")
    assert (4, "行业代码", "9999") == rows[2][:3]
    assert len(rows) == 1 + 5
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REFUSED and job.rejected == 5
    assert job.errors[0]["row"] == 3 and job.errors[0]["column"] == "统一社会信用代码"


def test_dry_run_with_errors_exits_2_and_writes_nothing(bad_file):
    code, out, _err = run_import(bad_file, "--dry-run")
    assert code == 2
    assert last_line(out) == counts(created=2, rejected=5)  # what the valid rows would do
    assert Enterprise.objects.count() == 0


def test_keep_valid_writes_only_the_valid_rows(bad_file):
    code, out, _err = run_import(bad_file, "--keep-valid")
    assert code == 0
    assert last_line(out) == counts(created=2, rejected=5)
    assert set(Enterprise.objects.values_list("uscc", flat=True)) == {
        make_uscc(1001),
        make_uscc(1007),
    }


def test_clean_dry_run_exits_0_and_writes_nothing(reference, tmp_path):
    code, out, _err = run_import(write_csv(tmp_path / "e.csv", good_rows()), "--dry-run")
    assert code == 0 and last_line(out) == counts(created=3)
    assert Enterprise.objects.count() == 0
    assert not AuditEntry.objects.exists()


def test_reimport_changes_nothing_and_writes_no_audit_rows(reference, tmp_path):
    rows = good_rows()
    rows[1][2] = "旧名甲；旧名乙"
    rows[1][4] = "1,000.50"
    path = write_xlsx(tmp_path / "e.xlsx", {"企业": rows})
    assert last_line(run_import(path)[1]) == counts(created=3)
    before = AuditEntry.objects.count()
    snapshot = list(Enterprise.objects.order_by("pk").values())
    code, out, _err = run_import(path)
    assert code == 0 and last_line(out) == counts(unchanged=3)
    assert list(Enterprise.objects.order_by("pk").values()) == snapshot
    assert AuditEntry.objects.count() == before  # nothing written, nothing audited


def test_update_of_one_field_leaves_exactly_one_audit_row_with_old_and_new(reference, tmp_path):
    path = write_csv(tmp_path / "e.csv", good_rows())
    run_import(path)
    rows = good_rows()
    rows[2][4] = "2500"  # 注册资本 of enterprise 2
    code, out, _err = run_import(write_csv(tmp_path / "e2.csv", rows))
    assert code == 0 and last_line(out) == counts(updated=1, unchanged=2)
    job = ImportJob.objects.order_by("-created_at").first()
    rows_written = AuditEntry.objects.filter(batch=job.pk).exclude(action=AuditEntry.Action.IMPORT)
    assert rows_written.count() == 1
    entry = rows_written.get()
    target = Enterprise.objects.get(uscc=make_uscc(1002))
    assert entry.action == "update" and entry.object_id == str(target.pk)
    assert entry.enterprise_id == target.pk and entry.model == "registry.enterprise"
    assert entry.changes == {"registered_capital": ["1000", "2500"]}
    assert entry.channel == "cli" and entry.actor is None


def test_every_created_object_has_an_audit_row_with_the_batch(reference, tmp_path):
    path = write_xlsx(
        tmp_path / "e.xlsx",
        {
            "企业": good_rows(),
            "资质": [
                [*QUAL_HEADERS, "级别"],
                [make_uscc(1001), "高企", "GR2021001", "2021-12-15", "", ""],
                [make_uscc(1001), "科小", "", "2022-03-01", "", ""],
                [make_uscc(1002), "企业技术中心", "", "2020-06-30", "2023-06-29", "国家级"],
            ],
        },
    )
    code, out, err = run_import(path)
    assert code == 0, err
    assert last_line(out) == counts(created=6)
    job = ImportJob.objects.get()
    entries = AuditEntry.objects.filter(batch=job.pk, action=AuditEntry.Action.CREATE)
    by_model = {(e.model, e.object_id): e for e in entries}
    for ent in Enterprise.objects.all():
        e = by_model[("registry.enterprise", str(ent.pk))]
        assert e.enterprise_id == ent.pk and e.object_repr == ent.name
        assert e.changes["uscc"] == [None, ent.uscc] and e.changes["name"] == [None, ent.name]
        assert e.changes["industry"] == [None, ent.industry_id]
        assert e.changes["founded_on"] == [None, "2019-03-01"]
    for q in Qualification.objects.select_related("enterprise"):
        e = by_model[("registry.qualification", str(q.pk))]
        assert e.enterprise_id == q.enterprise_id
        assert e.object_repr == f"{q.enterprise.name} · {q}"
        assert e.changes["valid_until"] == [None, q.valid_until.isoformat()]
    assert entries.count() == 6
    assert AuditEntry.objects.filter(batch=job.pk, action=AuditEntry.Action.IMPORT).count() == 1


def test_qualification_defaults_and_keys(reference, tmp_path):
    existing = EnterpriseFactory(uscc=make_uscc(4242), name="库中已有企业")
    rows = [
        QUAL_HEADERS,
        [existing.uscc, "高新技术企业", "GR1", "2020-02-29", ""],
        [existing.uscc, "规上", "", "2021-05-01", ""],
        [existing.uscc, "研发机构", "", "2021-05-01", ""],  # no 机构类型
        [make_uscc(9999), "高企", "", "2021-05-01", ""],  # unknown enterprise
        [existing.uscc, "火炬企业", "", "2021-05-01", ""],  # unknown kind
        [existing.uscc, "高企", "", "2021-05-01", "2020-01-01"],  # ends before it starts
        [existing.uscc, "高企", "GR1-again", "2020-02-29", ""],  # duplicate key of row 2
    ]
    code, out, err = run_import(write_csv(tmp_path / "q.csv", rows), "--keep-valid")
    assert code == 0, err
    assert last_line(out) == counts(created=1, rejected=6)
    q = Qualification.objects.get()
    assert q.kind == "above_scale" and q.valid_until == dt.date(2021, 12, 31)
    assert "研发机构须填写机构类型" in err
    assert "对应的企业不存在" in err
    assert "资质类型“火炬企业”无法识别" in err
    assert "有效期至不能早于认定日期" in err
    assert "与第2行重复" in err


def test_high_tech_certificate_defaults_to_three_years(reference, tmp_path):
    existing = EnterpriseFactory(uscc=make_uscc(4243))
    rows = [QUAL_HEADERS, [existing.uscc, "高企", "GR1", "2020-02-29", ""]]
    code, _out, err = run_import(write_csv(tmp_path / "q.csv", rows))
    assert code == 0, err
    assert Qualification.objects.get().valid_until == dt.date(2023, 2, 27)


def test_status_blank_keeps_existing_value_and_defaults_new_ones(reference, tmp_path):
    EnterpriseFactory(uscc=make_uscc(1001), name="柳州导入测试1号有限公司", status="moved_out")
    rows = [HEADERS, row(1, 企业状态=""), row(2, 企业状态="")]
    code, _out, err = run_import(write_csv(tmp_path / "e.csv", rows))
    assert code == 0, err
    assert Enterprise.objects.get(uscc=make_uscc(1001)).status == "moved_out"
    assert Enterprise.objects.get(uscc=make_uscc(1002)).status == "operating"


def test_unknown_reference_values_are_row_errors(reference, tmp_path):
    rows = [
        HEADERS,
        row(1, 产业链="不存在的链"),
        row(2, 所在网格="火星网格"),
        row(3, 企业状态="倒闭"),
        row(4, 战略性新兴产业类别="12"),
        row(5, 注册资本万元="-3"),
        row(6, 成立日期="去年"),
        row(7, 企业名称=""),
    ]
    code, out, err = run_import(write_csv(tmp_path / "e.csv", rows))
    assert code == 2 and last_line(out) == counts(rejected=7)
    for text in (
        "产业链“不存在的链”不存在",
        "网格“火星网格”不存在",
        "企业状态“倒闭”无法识别",
        "战略性新兴产业类别“12”无法识别",
        "注册资本不能为负数",
        "成立日期无法识别",
        "企业名称不能为空",
    ):
        assert text in err


def test_apply_failure_rolls_everything_back(reference, tmp_path, monkeypatch):
    """An error half-way through the writes (after enterprises, before audit rows) leaves no
    enterprise behind and the job marked failed."""
    from gaoxin.core.imports import upsert

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(upsert, "write_audit", boom)
    code, out, err = run_import(write_csv(tmp_path / "e.csv", good_rows()))
    assert code == 2 and last_line(out) == counts()
    assert "已全部撤销" in err
    assert Enterprise.objects.count() == 0
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED


def test_a_few_thousand_rows_round_trip(reference, tmp_path):
    """Enough rows for several write slices and multi-row statements, plus a remainder."""
    rows = [HEADERS, *(row(n) for n in range(1, 5_124))]
    path = write_csv(tmp_path / "many.csv", rows)
    code, out, err = run_import(path)
    assert code == 0, err
    assert last_line(out) == counts(created=5_123)
    job = ImportJob.objects.get()
    created = AuditEntry.objects.filter(batch=job.pk, action=AuditEntry.Action.CREATE)
    assert created.count() == 5_123
    assert set(created.values_list("object_id", flat=True)) == {
        str(pk) for pk in Enterprise.objects.values_list("pk", flat=True)
    }
    assert last_line(run_import(path)[1]) == counts(unchanged=5_123)


def test_chinese_values_are_accepted_when_the_user_works_in_english(reference, tmp_path):
    from django.utils import translation

    rows = [HEADERS, row(1, 企业状态="迁出"), row(2, 企业状态="Moved out")]
    with translation.override("en"):
        code, _out, err = run_import(write_csv(tmp_path / "e.csv", rows))
    assert code == 0, err
    assert Enterprise.objects.get(uscc=make_uscc(1001)).status == "moved_out"
    assert Enterprise.objects.get(uscc=make_uscc(1002)).status == "moved_out"
