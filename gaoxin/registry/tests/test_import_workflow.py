"""The import as a workflow: who may set a reviewed 战新 category, applying a job exactly once,
and what a job records when the error report cannot be written."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gaoxin.core.imports import import_run
from gaoxin.core.models import ImportJob
from gaoxin.registry.importers import ENTERPRISE_IMPORTER
from gaoxin.registry.models import EmergingCategory, Enterprise, Qualification
from gaoxin.registry.tests.factories import EnterpriseFactory, make_uscc
from gaoxin.registry.tests.test_import_support import (  # noqa: F401 - fixtures
    HEADERS,
    counts,
    data_dir_fixture,
    last_line,
    reference_fixture,
    row,
    run_import,
    write_csv,
)

pytestmark = pytest.mark.django_db

Sei = Enterprise.SeiStatus


def upload(tmp_path, rows, name="e.csv"):
    path = write_csv(tmp_path / name, rows)
    return SimpleUploadedFile(name, path.read_bytes(), content_type="text/csv")


def import_on_page(client, tmp_path, rows) -> ImportJob:
    """Upload, preview, confirm, as a user does on the import page."""
    client.post(reverse("registry:import"), {"file": upload(tmp_path, rows)})
    job = ImportJob.objects.latest("created_at")
    assert job.status == ImportJob.Status.PREVIEWED, job.message
    client.post(reverse("registry:import_apply", kwargs={"pk": job.pk}))
    job.refresh_from_db()
    return job


def category(code: str) -> EmergingCategory:
    return EmergingCategory.objects.get(code=code)


# --- 战新 category review state ---------------------------------------------------------------


def test_department_staff_import_declares_the_category_for_review(
    client_for, dept_staff, reference, tmp_path
):
    job = import_on_page(client_for(dept_staff), tmp_path, [HEADERS, row(1)])
    assert job.status == ImportJob.Status.APPLIED
    ent = Enterprise.objects.get(uscc=make_uscc(1001))
    assert ent.sei_category == category("5") and ent.sei_status == Sei.DECLARED


def test_zone_admin_import_confirms_the_category(client_for, zone_admin, reference, tmp_path):
    import_on_page(client_for(zone_admin), tmp_path, [HEADERS, row(1)])
    ent = Enterprise.objects.get(uscc=make_uscc(1001))
    assert ent.sei_category == category("5") and ent.sei_status == Sei.CONFIRMED


def test_command_with_a_user_uses_that_users_rights(dept_staff, reference, tmp_path):
    code, _out, err = run_import(
        write_csv(tmp_path / "e.csv", [HEADERS, row(1)]), "--user", "dept_staff"
    )
    assert code == 0, err
    assert Enterprise.objects.get(uscc=make_uscc(1001)).sei_status == Sei.DECLARED


@pytest.mark.parametrize("status", [Sei.REJECTED, Sei.DECLARED])
def test_reimporting_the_same_category_leaves_the_review_state_alone(
    client_for, zone_admin, reference, tmp_path, status
):
    EnterpriseFactory(uscc=make_uscc(1001), sei_category=category("5"), sei_status=status)
    job = import_on_page(client_for(zone_admin), tmp_path, [HEADERS, row(1)])
    assert job.status == ImportJob.Status.APPLIED and job.updated == 1
    assert Enterprise.objects.get(uscc=make_uscc(1001)).sei_status == status


def test_a_changed_category_goes_back_to_review(client_for, dept_staff, reference, tmp_path):
    EnterpriseFactory(uscc=make_uscc(1001), sei_category=category("5"), sei_status=Sei.CONFIRMED)
    import_on_page(client_for(dept_staff), tmp_path, [HEADERS, row(1, 战略性新兴产业类别="2")])
    ent = Enterprise.objects.get(uscc=make_uscc(1001))
    assert ent.sei_category == category("2") and ent.sei_status == Sei.DECLARED


def test_a_blank_category_cell_keeps_the_enterprises_declaration(
    client_for, dept_staff, reference, tmp_path
):
    EnterpriseFactory(uscc=make_uscc(1001), sei_category=category("1"), sei_status=Sei.DECLARED)
    job = import_on_page(
        client_for(dept_staff),
        tmp_path,
        [HEADERS, row(1, 战略性新兴产业类别=""), row(2, 战略性新兴产业类别="")],
    )
    assert (job.created, job.updated) == (1, 1)
    kept = Enterprise.objects.get(uscc=make_uscc(1001))
    assert kept.sei_category == category("1") and kept.sei_status == Sei.DECLARED
    new = Enterprise.objects.get(uscc=make_uscc(1002))
    assert new.sei_category is None and new.sei_status == Sei.NONE


def test_reimporting_a_file_changes_nothing(client_for, dept_staff, reference, tmp_path):
    client = client_for(dept_staff)
    rows = [HEADERS, row(1), row(2, 战略性新兴产业类别=""), row(3, 战略性新兴产业类别="1")]
    first = import_on_page(client, tmp_path, rows)
    assert first.created == 3
    again = import_on_page(client, tmp_path, rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


# --- applying exactly once -----------------------------------------------------------------


def test_confirming_a_job_twice_on_the_page_is_refused(client_for, dept_staff, reference, tmp_path):
    client = client_for(dept_staff)
    job = import_on_page(client, tmp_path, [HEADERS, row(1), row(2)])
    assert job.status == ImportJob.Status.APPLIED and job.created == 2
    page = client.post(reverse("registry:import_apply", kwargs={"pk": job.pk}), follow=True)
    assert "该导入正在处理或已处理过,不能重复确认" in page.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.APPLIED and (job.created, job.updated) == (2, 0)
    assert Enterprise.objects.count() == 2


def test_a_concurrent_second_apply_finds_the_job_claimed(dept_staff, reference, tmp_path):
    """Two requests that both read the job as PREVIEWED: only the first runs."""
    job = ImportJob.objects.create(kind=ENTERPRISE_IMPORTER.kind, file_name="e.csv")
    job.stored_path = str(write_csv(tmp_path / "e.csv", [HEADERS, row(1)]))
    job.save()
    stale = ImportJob.objects.get(pk=job.pk)
    first = import_run(job=job, importer=ENTERPRISE_IMPORTER, acting_user=dept_staff, dry_run=False)
    second = import_run(
        job=stale, importer=ENTERPRISE_IMPORTER, acting_user=dept_staff, dry_run=False
    )
    assert first.applied and not second.applied and second.conflict
    assert "不能重复确认" in second.message
    job.refresh_from_db()
    assert job.status == ImportJob.Status.APPLIED and job.created == 1


def test_api_second_apply_answers_409_with_a_detail(client_for, dept_staff, reference, tmp_path):
    client = client_for(dept_staff)
    body = client.post(
        "/api/registry/imports", {"file": upload(tmp_path, [HEADERS, row(1)]), "dry_run": "true"}
    ).json()
    url = f"/api/registry/imports/{body['job_id']}/apply"
    assert client.post(url).json()["created"] == 1
    again = client.post(url)
    assert again.status_code == 409
    assert again.json() == {"detail": "该导入正在处理或已处理过,不能重复确认"}
    job = ImportJob.objects.get(pk=body["job_id"])
    assert job.status == ImportJob.Status.APPLIED and job.created == 1


def test_an_apply_that_fails_ends_failed_not_applying(
    client_for, dept_staff, reference, tmp_path, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("gaoxin.core.imports.upsert.UpsertTarget.apply", broken)
    job = import_on_page(client_for(dept_staff), tmp_path, [HEADERS, row(1)])
    assert job.status == ImportJob.Status.FAILED and "没有写入任何数据" in job.message
    assert Enterprise.objects.count() == 0


def test_a_failed_error_report_does_not_undo_the_import(
    client_for, dept_staff, reference, tmp_path, monkeypatch
):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("gaoxin.core.imports.pipeline.error_report_write", broken)
    rows = [HEADERS, row(1), row(2, 行业代码="9999"), row(3)]
    response = client_for(dept_staff).post(
        "/api/registry/imports", {"file": upload(tmp_path, rows), "keep_valid": "true"}
    )
    body = response.json()
    assert response.status_code == 200 and body["status"] == "applied"
    assert (body["created"], body["rejected"]) == (2, 1)
    assert "错误明细文件未能生成" in body["message"] and "撤销" not in body["message"]
    assert body["errors"][0]["row"] == 3 and body["error_report_url"] is None
    assert Enterprise.objects.count() == 2


# --- qualification rows --------------------------------------------------------------------


def test_srdi_and_rd_institution_rows_need_a_level(reference, tmp_path):
    ent = EnterpriseFactory(uscc=make_uscc(4242))
    rows = [
        ["统一社会信用代码", "资质类型", "级别", "机构类型", "认定日期"],
        [ent.uscc, "研发机构", "", "企业技术中心", "2021-05-01"],
        [ent.uscc, "专精特新", "", "", "2021-05-01"],
        [ent.uscc, "研发机构", "自治区级", "工程技术研究中心", "2021-05-01"],
        [ent.uscc, "高企", "", "", "2021-05-01"],  # no level needed
    ]
    code, out, err = run_import(write_csv(tmp_path / "q.csv", rows), "--keep-valid")
    assert code == 0, err
    assert last_line(out) == counts(created=2, rejected=2)
    assert "第2行 级别“”:研发机构须填写级别" in err
    assert "第3行 级别“”:专精特新企业须填写级别" in err
    assert set(Qualification.objects.values_list("kind", "level")) == {
        ("rd_institution", "provincial"),
        ("high_tech", ""),
    }
