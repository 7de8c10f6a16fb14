"""Bulk report import through the shared pipeline and `manage.py import_reports`."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from gaoxin.core.models import AuditEntry, ImportJob
from gaoxin.indicators.engine import FIRST, Scope, compute
from gaoxin.registry.models import Qualification
from gaoxin.registry.tests.factories import EnterpriseFactory, QualificationFactory
from gaoxin.registry.tests.test_import_support import (  # noqa: F401 - fixtures
    data_dir_fixture,
    write_xlsx,
)
from gaoxin.reports.models import Report, ReportFact, ReportPeriod, ReportRevision, ReportStatus

HEADERS = [
    "统一社会信用代码",
    "企业名称",
    "报告期",
    "工业总产值(当年价格)(万元)",
    "主营业务收入(万元)",
    "利润总额(万元)",
    "应交税金(万元)",
    "从业人员期末人数(人)",
]


def run(path: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_reports", str(path), *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue().strip().splitlines()[-1], err.getvalue()


@pytest.fixture
def firms(db):
    return [EnterpriseFactory(name=f"柳州报表导入{n}号有限公司") for n in range(3)]


def rows(firms, period: str = "2022-03", output: str = "1,234.5") -> list[list[object]]:
    return [HEADERS] + [
        [f.uscc, f.name, period, output, "1200", "-3", "12", 100 + i] for i, f in enumerate(firms)
    ]


def test_reports_import_then_reimport_changes_nothing(firms, tmp_path):
    path = write_xlsx(tmp_path / "r.xlsx", {"月报": rows(firms)})
    assert run(path, "--dry-run")[:2] == (0, "created=3 updated=0 unchanged=0 rejected=0")
    assert not ReportPeriod.objects.exists()  # a dry run writes nothing, periods included
    assert run(path)[:2] == (0, "created=3 updated=0 unchanged=0 rejected=0")
    report = Report.objects.get(enterprise=firms[0])
    assert (report.status, report.revision, str(report.period)) == ("accepted", 1, "2022年3月")
    assert report.values["gross_output"] == "12345000"  # 1,234.5 万元 in 元
    assert report.values["profit"] == "-30000"
    assert ReportRevision.objects.count() == 3
    assert ReportFact.objects.filter(basis="first").count() == 3
    assert AuditEntry.objects.filter(model="reports.report", action="create").count() == 3
    assert run(path)[:2] == (0, "created=0 updated=0 unchanged=3 rejected=0")
    assert ReportRevision.objects.count() == 3


def test_changed_values_become_the_next_revision_and_first_reported_stays(firms, tmp_path):
    for firm in firms:
        QualificationFactory(
            enterprise=firm,
            kind=Qualification.Kind.ABOVE_SCALE,
            recognised_on=dt.date(2022, 1, 1),
            valid_until=dt.date(2022, 12, 31),
            certificate_no="",
        )
    run(write_xlsx(tmp_path / "a.xlsx", {"月报": rows(firms, output="1000")}))
    code, line, _err = run(write_xlsx(tmp_path / "b.xlsx", {"月报": rows(firms, output="1100")}))
    assert (code, line) == (0, "created=0 updated=3 unchanged=0 rejected=0")
    report = Report.objects.get(enterprise=firms[0])
    assert report.revision == 2
    assert [r.values["gross_output"] for r in report.revisions.order_by("number")] == [
        "10000000",
        "11000000",
    ]
    assert compute("above_scale_output", Scope(2022)).value == 3300
    assert compute("above_scale_output", Scope(2022, basis=FIRST)).value == 3000


@pytest.mark.parametrize(
    "period", ["2022-03", "2022.3", "2022年3月", "202203", dt.date(2022, 3, 1)]
)
def test_period_spellings(firms, tmp_path, period):
    path = write_xlsx(tmp_path / "p.xlsx", {"月报": rows(firms[:1], period=period)})
    assert run(path)[:2] == (0, "created=1 updated=0 unchanged=0 rejected=0")
    assert str(Report.objects.get().period) == "2022年3月"


def test_bad_rows_are_named_and_nothing_is_written(firms, tmp_path):
    data = rows(firms)
    data[1][2] = "2022.13"
    data[2][3] = "一千"
    data[3][0] = "91450211MA5KXXXX0X"
    data.append(list(data[1][:2]) + ["2022-04", "-5", "1", "1", "1", "12.5"])
    data.append([firms[1].uscc, "", "2022-03", "1", "1", "1", "1", "1"])  # row 3 again
    code, line, err = run(write_xlsx(tmp_path / "bad.xlsx", {"月报": data}))
    assert code == 2
    assert line == "created=0 updated=0 unchanged=0 rejected=5"
    assert "第2行 报告期“2022.13”:报告期格式应为 2019-03、2019.3 或 2019年3月" in err
    assert "第3行 工业总产值(当年价格)(万元)“一千”:“工业总产值(当年价格)(万元)”应填数值" in err
    assert "第4行 统一社会信用代码“91450211MA5KXXXX0X”:统一社会信用代码校验位错误" in err
    assert "“工业总产值(当年价格)(万元)”不能为负数" in err
    assert "“从业人员期末人数(人)”应为整数" in err
    assert "第6行 报告期“2022-03”:与第 3 行是同一企业的同一报告期" in err
    assert not Report.objects.exists()
    assert ImportJob.objects.get().status == ImportJob.Status.REFUSED


def test_unknown_enterprise_and_missing_required_column(firms, tmp_path):
    data = [HEADERS[:4]] + [[firms[0].uscc, "", "2022-03", "1"]]
    code, _line, err = run(write_xlsx(tmp_path / "m.xlsx", {"月报": data}))
    assert code == 2
    assert "“主营业务收入(万元)”必须填写(文件中没有这一列)" in err
    stranger = EnterpriseFactory.build(uscc="91450211MA5L00001N")
    data = rows(firms[:1]) + [[stranger.uscc, "", "2022-03", "1", "1", "1", "1", "1"]]
    code, _line, err = run(write_xlsx(tmp_path / "u.xlsx", {"月报": data}))
    assert "企业库中没有该统一社会信用代码的企业" in err or "校验位" in err


def test_keep_valid_imports_the_good_rows(firms, tmp_path):
    data = rows(firms)
    data[2][3] = "一千"
    code, line, _err = run(write_xlsx(tmp_path / "k.xlsx", {"月报": data}), "--keep-valid")
    assert (code, line) == (0, "created=2 updated=0 unchanged=0 rejected=1")


def test_annual_science_report_with_yes_no_and_thousand_yuan(firms, tmp_path):
    headers = [
        "统一社会信用代码",
        "报告期",
        "营业收入(千元)",
        "主营业务收入(千元)",
        "研发经费内部支出(千元)",
        "研发人员(人)",
        "是否设有研发机构",
        "当年专利申请数(件)",
        "当年专利授权数(件)",
        "年末从业人员(人)",
    ]
    data = [
        headers,
        [firms[0].uscc, "2021年", "5000", "4800", "240", "12", "是", "3", "1", "80"],
        [firms[1].uscc, "2021", "5000", "4800", "6000", "12", "也许", "3", "1", "80"],
    ]
    code, _line, err = run(write_xlsx(tmp_path / "s.xlsx", {"年报": data}), "--form", "sci_annual")
    assert code == 2
    assert "“是否设有研发机构”应填“是”或“否”" in err
    assert "“研发经费内部支出(千元)”不能大于“营业收入(千元)”" in err
    code, line, _err = run(
        write_xlsx(tmp_path / "s2.xlsx", {"年报": data[:2]}), "--form", "sci_annual"
    )
    assert (code, line) == (0, "created=1 updated=0 unchanged=0 rejected=0")
    report = Report.objects.get()
    assert report.values["rd_spend"] == "240000" and report.values["has_rd_institution"] is True
    assert report.status == ReportStatus.ACCEPTED
    fact = ReportFact.objects.get(basis="revised")
    assert (fact.month, fact.has_rd_institution, fact.rd_personnel) == (None, True, 12)


def test_import_pages_preview_confirm_and_template(
    firms, tmp_path, client_for, dept_reviewer, leader
):
    client = client_for(dept_reviewer)
    page = client.get("/reports/import/").content.decode()
    assert "报表批量导入" in page and "工业企业主要经济指标月报" in page
    template = client.get("/reports/import/template.xlsx?kind=reports:industry_monthly")
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(template.content))
    assert book.worksheets[0]["D1"].value == "工业总产值(当年价格)(万元)"
    path = write_xlsx(tmp_path / "w.xlsx", {"月报": rows(firms)})
    with path.open("rb") as fh:
        response = client.post("/reports/import/", {"kind": "reports:industry_monthly", "file": fh})
    assert response.status_code == 302
    preview = client.get(response["Location"]).content.decode()
    assert "确认导入" in preview and "将新增" in preview
    assert not Report.objects.exists()  # the preview wrote nothing
    applied = client.post(response["Location"] + "apply/")
    assert applied.status_code == 302
    assert Report.objects.filter(status=ReportStatus.ACCEPTED).count() == 3
    # Leadership reads reports but does not import them.
    assert client_for(leader).get("/reports/import/").status_code == 404


def test_report_import_over_the_api(firms, tmp_path, client_for, dept_reviewer, leader):
    path = write_xlsx(tmp_path / "a.xlsx", {"月报": rows(firms)})
    client = client_for(dept_reviewer)
    with path.open("rb") as fh:
        dry = client.post(
            "/api/reports/imports",
            {"file": fh, "dry_run": "true", "kind": "reports:industry_monthly"},
        )
    assert dry.status_code == 200, dry.content
    body = dry.json()
    assert (body["status"], body["created"], body["kind"]) == (
        "previewed",
        3,
        "reports:industry_monthly",
    )
    applied = client.post(f"/api/reports/imports/{body['job_id']}/apply")
    assert applied.status_code == 200 and applied.json()["status"] == "applied"
    assert Report.objects.count() == 3
    with path.open("rb") as fh:
        refused = client_for(leader).post("/api/reports/imports", {"file": fh})
    assert refused.status_code == 404


def test_a_report_changed_while_the_import_applies_rolls_the_import_back(
    firms, tmp_path, monkeypatch
):
    from gaoxin.reports.importers import ReportTarget

    run(write_xlsx(tmp_path / "a.xlsx", {"月报": rows(firms, output="1000")}))
    planned = ReportTarget.plan

    def plan_then_someone_corrects(self, frame, ctx):
        plan = planned(self, frame, ctx)
        # Another reviewer's acceptance lands between the plan and the writes.
        Report.objects.filter(enterprise=firms[0]).update(revision=2)
        return plan

    monkeypatch.setattr(ReportTarget, "plan", plan_then_someone_corrects)
    code, line, err = run(write_xlsx(tmp_path / "b.xlsx", {"月报": rows(firms, output="1100")}))
    assert code == 2
    assert "导入期间有报表被他人修改" in err
    assert ReportRevision.objects.count() == 3  # nothing of the second import was written
