"""The import from the web page (upload -> preview -> confirm) and from the JSON API, and who may
use them."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from gaoxin.accounts.services import token_create
from gaoxin.core.models import AuditEntry, ImportJob
from gaoxin.registry.models import Enterprise
from gaoxin.registry.tests.factories import make_uscc
from gaoxin.registry.tests.test_import_support import (  # noqa: F401 - fixtures
    HEADERS,
    QUAL_HEADERS,
    data_dir_fixture,
    good_rows,
    reference_fixture,
    row,
    write_csv,
    write_xlsx,
)

pytestmark = pytest.mark.django_db


def upload(tmp_path, rows, name="e.csv"):
    path = write_csv(tmp_path / name, rows)
    return SimpleUploadedFile(name, path.read_bytes(), content_type="text/csv")


def test_upload_preview_confirm_as_department_staff(client_for, dept_staff, reference, tmp_path):
    client = client_for(dept_staff)
    page = client.get(reverse("registry:import"))
    assert page.status_code == 200 and "上传并预检" in page.content.decode()

    response = client.post(reverse("registry:import"), {"file": upload(tmp_path, good_rows())})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:import_preview", kwargs={"pk": job.pk})
    assert job.status == ImportJob.Status.PREVIEWED and job.created == 3
    assert job.created_by == dept_staff and Enterprise.objects.count() == 0

    preview = client.get(response["Location"]).content.decode()
    assert "确认导入" in preview and "柳州导入测试1号有限公司" in preview  # sample rows

    done = client.post(reverse("registry:import_apply", kwargs={"pk": job.pk}), follow=True)
    assert "导入完成:新增 3" in done.content.decode()
    assert Enterprise.objects.count() == 3
    job.refresh_from_db()
    assert job.status == ImportJob.Status.APPLIED
    entries = AuditEntry.objects.filter(batch=job.pk, action=AuditEntry.Action.CREATE)
    assert entries.count() == 3
    assert {e.actor for e in entries} == {dept_staff} and {e.channel for e in entries} == {"web"}

    # A second confirmation does nothing.
    client.post(reverse("registry:import_apply", kwargs={"pk": job.pk}))
    assert Enterprise.objects.count() == 3 and entries.count() == 3

    listing = client.get(reverse("registry:import")).content.decode()
    assert "e.csv" in listing


def test_preview_with_errors_offers_the_report_and_no_confirm_button(
    client_for, dept_staff, reference, tmp_path
):
    client = client_for(dept_staff)
    rows = [HEADERS, row(1), row(2, 行业代码="9999")]
    client.post(reverse("registry:import"), {"file": upload(tmp_path, rows)})
    job = ImportJob.objects.get()
    preview = client.get(reverse("registry:import_preview", kwargs={"pk": job.pk})).content.decode()
    assert "确认导入" not in preview
    assert "行业代码“9999”不在国民经济行业分类" in preview
    report = client.get(reverse("registry:import_errors", kwargs={"pk": job.pk}))
    assert report.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(report.streaming_content))).active
    assert list(sheet.iter_rows(values_only=True))[1][:3] == (3, "行业代码", "9999")
    # Posting a confirmation anyway writes nothing.
    client.post(reverse("registry:import_apply", kwargs={"pk": job.pk}))
    assert Enterprise.objects.count() == 0


def test_keep_valid_from_the_page(client_for, dept_staff, reference, tmp_path):
    client = client_for(dept_staff)
    rows = [HEADERS, row(1), row(2, 行业代码="9999")]
    client.post(reverse("registry:import"), {"file": upload(tmp_path, rows), "keep_valid": "1"})
    job = ImportJob.objects.get()
    assert (
        "确认导入"
        in client.get(reverse("registry:import_preview", kwargs={"pk": job.pk})).content.decode()
    )
    client.post(reverse("registry:import_apply", kwargs={"pk": job.pk}))
    assert list(Enterprise.objects.values_list("uscc", flat=True)) == [make_uscc(1001)]


def test_confirm_refuses_a_file_changed_after_the_preview(
    client_for, dept_staff, reference, tmp_path
):
    client = client_for(dept_staff)
    client.post(reverse("registry:import"), {"file": upload(tmp_path, good_rows())})
    job = ImportJob.objects.get()
    stored = job.stored_path
    with open(stored, "ab") as fh:
        fh.write(",".join(row(9)).encode() + b"\r\n")
    response = client.post(reverse("registry:import_apply", kwargs={"pk": job.pk}), follow=True)
    assert "文件已被改动" in response.content.decode()
    assert Enterprise.objects.count() == 0


def test_a_bad_file_from_the_page_is_a_message_not_a_500(client_for, dept_staff, tmp_path):
    client = client_for(dept_staff)
    png = SimpleUploadedFile("photo.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    response = client.post(reverse("registry:import"), {"file": png}, follow=True)
    assert response.status_code == 200
    assert "文件内容是 PNG" in response.content.decode()
    assert ImportJob.objects.get().status == ImportJob.Status.REFUSED


def test_oversized_upload_is_refused(client_for, dept_staff, settings, reference, tmp_path):
    settings.IMPORT_MAX_UPLOAD_BYTES = 200
    client = client_for(dept_staff)
    # Declared length far over the limit: refused before the body is read.
    big = client.post(reverse("registry:import"), {"file": upload(tmp_path, good_rows(500))})
    assert big.status_code == 400 and "超过上限" in big.content.decode()
    assert not ImportJob.objects.exists()
    # Slightly over: refused while streaming to disk, nothing kept.
    small = client.post(
        reverse("registry:import"), {"file": upload(tmp_path, good_rows(3))}, follow=True
    )
    assert "超过上限" in small.content.decode()
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REFUSED and not job.stored_path
    assert Enterprise.objects.count() == 0


def test_template_download_has_both_sheets_and_imports_cleanly(client_for, dept_staff, reference):
    response = client_for(dept_staff).get(reverse("registry:import_template"))
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["企业", "资质", "说明"]
    headers = [c.value for c in book["企业"][1]]
    assert headers[: len(HEADERS)] == HEADERS
    assert [c.value for c in book["资质"][1]][:2] == QUAL_HEADERS[:1] + ["企业名称"]
    notes = "\n".join(str(c.value) for r in book["说明"].iter_rows() for c in r if c.value)
    assert "存续" in notes and "高新技术企业" in notes and "汽车零部件" in notes


@pytest.mark.parametrize(
    "persona",
    ["ent_user", "other_ent_user", "leader", "auditor", "dept_reviewer", "branch_secretary"],
)
def test_pages_are_404_for_roles_that_may_not_import(
    request, client_for, persona, dept_staff, tmp_path
):
    job = ImportJob.objects.create(kind="enterprises", file_name="x.csv", created_by=dept_staff)
    client = client_for(request.getfixturevalue(persona))
    for name, kwargs in (
        ("registry:import", {}),
        ("registry:import_template", {}),
        ("registry:import_preview", {"pk": job.pk}),
        ("registry:import_errors", {"pk": job.pk}),
    ):
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 404, name
    assert (
        client.post(reverse("registry:import"), {"file": upload(tmp_path, good_rows())}).status_code
        == 404
    )
    assert client.post(reverse("registry:import_apply", kwargs={"pk": job.pk})).status_code == 404
    assert (
        ImportJob.objects.count() == 1
        and Enterprise.objects.filter(uscc=make_uscc(1001)).count() == 0
    )


# --- API -----------------------------------------------------------------------------------


def test_api_upload_with_a_token(dept_staff, reference, tmp_path):
    _token, secret = token_create(user=dept_staff, name="对接系统")
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    response = client.post("/api/registry/imports", {"file": upload(tmp_path, good_rows())}, **auth)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "applied"
    assert (body["created"], body["updated"], body["unchanged"], body["rejected"]) == (3, 0, 0, 0)
    assert body["errors"] == [] and body["error_report_url"] is None
    assert Enterprise.objects.count() == 3
    entries = AuditEntry.objects.filter(batch=body["job_id"], action="create")
    assert entries.count() == 3 and {e.channel for e in entries} == {"api"}

    again = client.post("/api/registry/imports", {"file": upload(tmp_path, good_rows())}, **auth)
    assert again.json()["unchanged"] == 3 and again.json()["created"] == 0

    job = client.get(f"/api/registry/imports/{body['job_id']}", **auth)
    assert job.status_code == 200 and job.json()["created"] == 3


def test_api_dry_run_with_errors_then_report_then_keep_valid_apply(
    client_for, dept_staff, reference, tmp_path
):
    client = client_for(dept_staff)  # session auth
    rows = [HEADERS, row(1), row(2, 统一社会信用代码="123")]
    response = client.post(
        "/api/registry/imports", {"file": upload(tmp_path, rows), "dry_run": "true"}
    )
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == "previewed" and body["rejected"] == 1 and body["created"] == 1
    assert body["errors"] == [
        {
            "sheet": "e",
            "row": 3,
            "column": "统一社会信用代码",
            "value": "123",
            "reason": "统一社会信用代码应为18位,实际为3位",
        }
    ]
    report = client.get(body["error_report_url"].replace("http://testserver", ""))
    assert report.status_code == 200
    assert Enterprise.objects.count() == 0

    keep = client.post(
        "/api/registry/imports",
        {"file": upload(tmp_path, rows), "dry_run": "true", "keep_valid": "true"},
    ).json()
    applied = client.post(f"/api/registry/imports/{keep['job_id']}/apply")
    assert applied.status_code == 200 and applied.json()["status"] == "applied"
    assert list(Enterprise.objects.values_list("uscc", flat=True)) == [make_uscc(1001)]
    assert client.post(f"/api/registry/imports/{keep['job_id']}/apply").status_code == 409


def test_api_refuses_a_hostile_file_with_422_not_500(client_for, dept_staff, tmp_path):
    client = client_for(dept_staff)
    bad = SimpleUploadedFile("x.xlsx", b"PK\x03\x04 definitely not a zip")
    response = client.post("/api/registry/imports", {"file": bad})
    assert response.status_code == 422
    assert response.json()["status"] == "refused" and "损坏" in response.json()["message"]


def test_api_is_closed_to_roles_that_may_not_import(
    client_for, ent_user, leader, dept_staff, tmp_path
):
    job = ImportJob.objects.create(kind="enterprises", file_name="x.csv", created_by=dept_staff)
    for user in (ent_user, leader):
        client = client_for(user)
        assert (
            client.post(
                "/api/registry/imports", {"file": upload(tmp_path, good_rows())}
            ).status_code
            == 404
        )
        assert client.get(f"/api/registry/imports/{job.pk}").status_code == 404
        assert client.get(f"/api/registry/imports/{job.pk}/errors.xlsx").status_code == 404
    assert Client().get(f"/api/registry/imports/{job.pk}").status_code == 401
    assert Enterprise.objects.filter(uscc=make_uscc(1001)).count() == 0
