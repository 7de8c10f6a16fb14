"""Walks every URL and every API operation as anonymous, as each role, and as the enterprise user
of another enterprise (get.gov's test_url_auth). A new URL without an entry here fails the test."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from gaoxin.core.models import AuditEntry, ImportJob

PERSONAS = [
    "zone_admin",
    "dept_staff",
    "dept_reviewer",
    "leader",
    "auditor",
    "ent_user",
    "other_ent_user",
    "branch_secretary",
    "outsider",
]
STAFF_READ = {"zone_admin", "dept_staff", "dept_reviewer", "leader", "auditor"}
EVERYONE = set(PERSONAS) - {"outsider"}
EDITORS = {"zone_admin", "dept_staff"}
ENTERPRISE_USERS = {"ent_user", "other_ent_user"}
REPORT_REVIEWERS = {"zone_admin", "dept_reviewer", "dept_staff"}  # dept_staff: 经济发展局
REPORT_CONFIGURERS = {"zone_admin", "dept_staff"}
POLICY_MANAGERS = {"zone_admin"}  # and 科技局 department staff (none among the personas)
# Pages that need no login at all.
PUBLIC = {
    "accounts:login",
    "set_language",
    "accounts:logout",
    "policies:notice_public",  # a public notice (公示) is public by law
    "policies:notice_download",
}
POLICY_REVIEWERS = {"zone_admin", "dept_reviewer"}
POLICY_APPROVERS = {"zone_admin"}  # and 科技局 department staff
POLICY_PAYERS = {"zone_admin"}  # and 财政局 department staff
SKIP_PREFIXES = ("api", "api-1.0.0")  # the API is walked through its OpenAPI document below


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern) and p.name:
            yield namespace + p.name, prefix + str(p.pattern)


class World:
    """Objects the URLs point at; all belong to ent_user's enterprise unless said otherwise."""

    def __init__(self, enterprise: Any, dept_staff: Any) -> None:
        from gaoxin.registry.models import IndustryChain, Qualification
        from gaoxin.reports.catalogue import INDUSTRY_MONTHLY
        from gaoxin.reports.models import Report, ReportPeriod, ReportStatus

        self.enterprise = enterprise
        self.qualification = Qualification.objects.create(
            enterprise=enterprise,
            kind=Qualification.Kind.HIGH_TECH,
            recognised_on="2019-11-01",
            valid_until="2022-10-31",
        )
        self.chain, _ = IndustryChain.objects.get_or_create(
            code="auto", defaults={"name": "汽车及零部件", "group": "pillar"}
        )
        self.job = ImportJob.objects.create(
            kind="enterprises", file_name="x.xlsx", created_by=dept_staff
        )
        self.report_job = ImportJob.objects.create(
            kind="reports:industry_monthly", file_name="r.xlsx", created_by=dept_staff
        )
        self.period = ReportPeriod.objects.create(
            form_code=INDUSTRY_MONTHLY, year=2019, month=3, due_on="2019-04-10"
        )
        self.report = Report.objects.create(
            enterprise=enterprise,
            period=self.period,
            form=self.period.form(),
            status=ReportStatus.SUBMITTED,
            values={"gross_output": "12345000"},
        )
        from gaoxin.policies import services as policy_services
        from gaoxin.policies.models import Policy

        self.policy = Policy.objects.create(
            title="科技创新扶持", issuer="管委会", effective_from="2019-01-01"
        )
        self.measure = policy_services.measure_add(
            policy=self.policy, code="new_above_scale", acting_user=None
        )
        from gaoxin.policies.models import ServiceProvider, Voucher

        voucher_measure = policy_services.measure_add(
            policy=self.policy, code="innovation_voucher", acting_user=None
        )
        self.voucher = Voucher.objects.create(
            number="CXQ-2019-000001",
            enterprise=enterprise,
            measure=voucher_measure,
            year=2019,
            amount_fen=10_000_000,
            valid_from="2019-01-01",
            valid_to="2019-12-31",
        )
        self.provider = ServiceProvider.objects.create(
            name="柳州检测认证中心",
            uscc="12450200MB0000001T",
            account_bank="柳州银行",
            account_name="柳州检测认证中心",
            account_no="6230000000000001",
        )
        from django.core.files.base import ContentFile

        from gaoxin.policies.models import (
            Application,
            ApplicationAttachment,
            MatchRun,
            Notice,
            PaymentBatch,
        )

        self.application = Application.objects.create(
            enterprise=enterprise,
            measure=self.measure,
            year=2019,
            status=Application.Status.SUBMITTED,
            version=self.measure.current(),
            eligible=True,
            computed_fen=10_000_000,
            account_no="6230000011112222",
        )
        self.attachment = ApplicationAttachment(
            application=self.application, name="a.pdf", size=4, sha256="0" * 64
        )
        self.attachment.file.save("a.pdf", ContentFile(b"%PDF"), save=False)
        self.attachment.save()
        self.notice = Notice.objects.create(
            policy=self.policy,
            year=2019,
            title="公示",
            published_on="2019-09-27",
            starts_on="2019-09-27",
            ends_on="2019-10-09",
        )
        self.batch = PaymentBatch.objects.create(number="ZF-TEST-001")
        self.run = MatchRun.objects.create(year=2019, snapshot="x.parquet", snapshot_sha256="0")


# url name -> (kwargs builder, personas allowed to open it). Keep in step with the urls.py files.
Rule = tuple[Callable[[World], dict[str, Any]], set[str]]
NO_ARGS: Callable[[World], dict[str, Any]] = lambda w: {}  # noqa: E731
ENT = lambda w: {"pk": w.enterprise.pk}  # noqa: E731
PERIOD = lambda w: {"period_pk": w.period.pk}  # noqa: E731
REPORT = lambda w: {"pk": w.report.pk}  # noqa: E731
POLICY = lambda w: {"pk": w.policy.pk}  # noqa: E731
MEASURE = lambda w: {"pk": w.policy.pk, "measure_pk": w.measure.pk}  # noqa: E731
VOUCHER = lambda w: {"pk": w.voucher.pk}  # noqa: E731
APP = lambda w: {"pk": w.application.pk}  # noqa: E731
ATTACHMENT = lambda w: {"pk": w.application.pk, "attachment_pk": w.attachment.pk}  # noqa: E731
URLS: dict[str, Rule] = {
    "home": (NO_ARGS, EVERYONE),
    "accounts:tokens": (NO_ARGS, EVERYONE),
    "accounts:token_revoke": (lambda w: {"pk": 999999}, set()),
    "accounts:my_party_org": (NO_ARGS, {"branch_secretary"}),
    "core:audit": (NO_ARGS, {"zone_admin", "auditor"}),
    "core:audit_object": (
        lambda w: {"model": "registry.enterprise", "object_id": str(w.enterprise.pk)},
        {"zone_admin", "auditor"},
    ),
    "registry:list": (NO_ARGS, STAFF_READ),
    "registry:detail": (ENT, STAFF_READ | {"ent_user"}),
    "registry:chains": (NO_ARGS, {"zone_admin"}),
    "registry:sei_review": (NO_ARGS, {"zone_admin", "dept_reviewer"}),
    "registry:sei_review_decide": (ENT, {"zone_admin", "dept_reviewer"}),
    "registry:export": (NO_ARGS, STAFF_READ),
    "registry:create": (NO_ARGS, EDITORS),
    "registry:edit": (ENT, EDITORS | {"ent_user"}),
    "registry:delete": (ENT, EDITORS),
    "registry:qualification_create": (ENT, EDITORS),
    "registry:qualification_edit": (lambda w: {"pk": w.qualification.pk}, EDITORS),
    "registry:qualification_delete": (lambda w: {"pk": w.qualification.pk}, EDITORS),
    "registry:chain_edit": (lambda w: {"pk": w.chain.pk}, {"zone_admin"}),
    "registry:import": (NO_ARGS, EDITORS),
    "registry:import_template": (NO_ARGS, EDITORS),
    "registry:import_preview": (lambda w: {"pk": w.job.pk}, EDITORS),
    "registry:import_apply": (lambda w: {"pk": w.job.pk}, EDITORS),
    "registry:import_errors": (lambda w: {"pk": w.job.pk}, EDITORS),
    "reports:index": (NO_ARGS, STAFF_READ | ENTERPRISE_USERS),
    "reports:mine": (NO_ARGS, ENTERPRISE_USERS),
    # Periods are zone-wide: every enterprise user opens its own enterprise's report for one.
    "reports:fill": (PERIOD, ENTERPRISE_USERS),
    "reports:check": (PERIOD, ENTERPRISE_USERS),
    "reports:worklist": (NO_ARGS, STAFF_READ),
    "reports:worklist_export": (NO_ARGS, STAFF_READ),
    "reports:periods": (NO_ARGS, REPORT_CONFIGURERS),
    "reports:detail": (REPORT, STAFF_READ | {"ent_user"}),
    "reports:accept": (REPORT, REPORT_REVIEWERS),
    "reports:return": (REPORT, REPORT_REVIEWERS),
    "reports:correct": (REPORT, {"ent_user"}),
    "reports:import": (NO_ARGS, REPORT_REVIEWERS),
    "reports:import_template": (NO_ARGS, REPORT_REVIEWERS),
    "reports:import_preview": (lambda w: {"pk": w.report_job.pk}, REPORT_REVIEWERS),
    "reports:import_apply": (lambda w: {"pk": w.report_job.pk}, REPORT_REVIEWERS),
    "reports:import_errors": (lambda w: {"pk": w.report_job.pk}, REPORT_REVIEWERS),
    "indicators:list": (NO_ARGS, STAFF_READ),
    "indicators:targets": (NO_ARGS, STAFF_READ),
    "indicators:dashboard": (NO_ARGS, STAFF_READ),
    "indicators:bigscreen": (NO_ARGS, STAFF_READ),
    "indicators:chart_export": (lambda w: {"chart": "monthly"}, STAFF_READ),
    "indicators:detail": (lambda w: {"code": "above_scale_count"}, STAFF_READ),
    "indicators:lineage": (lambda w: {"code": "above_scale_count"}, STAFF_READ),
    "indicators:enterprise": (ENT, STAFF_READ | {"ent_user"}),
    "policies:list": (NO_ARGS, STAFF_READ),
    "policies:create": (NO_ARGS, POLICY_MANAGERS),
    "policies:mine": (NO_ARGS, ENTERPRISE_USERS),
    "policies:detail": (POLICY, STAFF_READ),
    "policies:measure_add": (POLICY, POLICY_MANAGERS),
    "policies:status": (POLICY, POLICY_MANAGERS),
    # World's policy is a draft without a document: staff get 404 for the missing file too,
    # which the walk accepts only for refused personas; so it is checked in test_pages.
    "policies:document": (POLICY, set()),
    "policies:document_upload": (POLICY, POLICY_MANAGERS),
    "policies:measure_params": (MEASURE, POLICY_MANAGERS),
    "policies:budget_set": (MEASURE, POLICY_MANAGERS),
    "policies:voucher_list": (NO_ARGS, STAFF_READ),
    "policies:voucher_issue": (NO_ARGS, POLICY_APPROVERS),
    "policies:my_vouchers": (NO_ARGS, ENTERPRISE_USERS),
    "policies:voucher_detail": (VOUCHER, STAFF_READ | {"ent_user"}),
    "policies:voucher_redeem": (VOUCHER, POLICY_APPROVERS),
    "policies:voucher_release": (VOUCHER, POLICY_APPROVERS),
    "policies:provider_list": (NO_ARGS, STAFF_READ),
    "policies:provider_create": (NO_ARGS, POLICY_APPROVERS),
    "policies:settlement": (lambda w: {"pk": w.provider.pk}, POLICY_PAYERS),
    "policies:applications": (NO_ARGS, STAFF_READ | ENTERPRISE_USERS),
    "policies:application_start": (NO_ARGS, ENTERPRISE_USERS),
    "policies:application": (APP, STAFF_READ | {"ent_user"}),
    "policies:application_edit": (APP, {"ent_user"}),
    "policies:attachment": (ATTACHMENT, STAFF_READ | {"ent_user"}),
    "policies:attachment_delete": (ATTACHMENT, {"ent_user"}),
    "policies:application_review": (APP, POLICY_REVIEWERS),
    "policies:objection_record": (APP, POLICY_APPROVERS),
    "policies:objection_resolve": (
        lambda w: {"pk": w.application.pk, "objection_pk": 999999},
        POLICY_APPROVERS,
    ),
    "policies:application_approve": (APP, POLICY_APPROVERS),
    "policies:payment_action": (APP, POLICY_PAYERS),
    "policies:application_cancel": (APP, POLICY_APPROVERS),
    "policies:enterprise": (ENT, STAFF_READ | {"ent_user"}),
    "policies:notices": (NO_ARGS, STAFF_READ),
    "policies:notice_create": (NO_ARGS, POLICY_APPROVERS),
    "policies:holidays": (NO_ARGS, POLICY_APPROVERS),
    "policies:notice": (lambda w: {"pk": w.notice.pk}, STAFF_READ),
    "policies:notice_approve_all": (lambda w: {"pk": w.notice.pk}, POLICY_APPROVERS),
    "policies:payments": (NO_ARGS, POLICY_PAYERS),
    "policies:batch_create": (NO_ARGS, POLICY_PAYERS),
    "policies:payment_batch": (lambda w: {"pk": w.batch.pk}, POLICY_PAYERS),
    "policies:batch_download": (lambda w: {"pk": w.batch.pk}, POLICY_PAYERS),
    "policies:disbursements": (NO_ARGS, STAFF_READ),
    "policies:match_runs": (NO_ARGS, STAFF_READ),
    "policies:match_run": (lambda w: {"pk": w.run.pk}, STAFF_READ),
    "policies:match_decide": (lambda w: {"pk": w.run.pk}, POLICY_APPROVERS),
}


@pytest.fixture
def world(enterprise, dept_staff):
    return World(enterprise, dept_staff)


def test_every_url_has_an_access_rule():
    names = {
        name for name, _ in walk(get_resolver().url_patterns) if not name.startswith(SKIP_PREFIXES)
    }
    missing = names - set(URLS) - PUBLIC
    assert not missing, f"add these URLs to tests/test_url_auth.py URLS: {sorted(missing)}"


def _client(request: pytest.FixtureRequest, persona: str | None, client_for: Any) -> Client:
    if persona is None:
        return Client()
    return client_for(request.getfixturevalue(persona))


@pytest.mark.parametrize("persona", [None, *PERSONAS])
def test_pages_answer_each_persona_as_their_role_allows(request, world, client_for, persona):
    client = _client(request, persona, client_for)
    failures = []
    for name, (kwargs, allowed) in URLS.items():
        url = reverse(name, kwargs=kwargs(world))
        audit_before = AuditEntry.objects.count()
        get = client.get(url)
        if persona in allowed:
            ok = get.status_code in (200, 302, 405)
        elif persona in (None, "outsider"):  # a deactivated account is treated as signed out
            ok = get.status_code == 302 and "/accounts/login/" in get["Location"]
        else:
            post = client.post(url, {})
            ok = get.status_code in (404, 405) and post.status_code in (404, 405)
            ok = ok and AuditEntry.objects.count() == audit_before
        if not ok:
            failures.append(f"{name} {url} -> {get.status_code}")
    assert not failures, f"{persona}: " + "; ".join(failures)


def _openapi(client: Client) -> dict[str, Any]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def _fill(path: str, world: World) -> str:
    """Path parameters point at ent_user's objects, chosen by the segment before them."""

    def value(match: re.Match[str]) -> str:
        before = path[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        if "application" in before:
            return str(world.application.pk)
        if "objection" in before:
            return "999999"
        if "matching" in before:
            return str(world.run.pk)
        if "qualification" in before:
            return str(world.qualification.pk)
        if "chain" in before:
            return str(world.chain.pk)
        if "import" in before or "job" in before:
            return str(world.job.pk)
        if "period" in before:
            return str(world.period.pk)
        if "report" in before:
            return str(world.report.pk)
        if "voucher" in before:
            return str(world.voucher.pk)
        if "provider" in before:
            return str(world.provider.pk)
        return str(world.enterprise.pk)

    return re.sub(r"\{[^}]+\}", value, path)


def _operations(world: World) -> list[tuple[str, str, str]]:
    spec = _openapi(Client())
    ops = []
    for path, methods in spec["paths"].items():
        for method in methods:
            ops.append((method.upper(), _fill(path, world), path))
    return ops


def test_api_refuses_anonymous_everywhere(world):
    client = Client()
    bad = []
    for method, url, template in _operations(world):
        response = client.generic(method, url, "{}", content_type="application/json")
        if response.status_code != 401:
            bad.append(f"{method} {template} -> {response.status_code}")
    assert not bad, "; ".join(bad)


@pytest.mark.parametrize("persona", ["other_ent_user", "branch_secretary", "outsider"])
def test_api_hides_another_enterprise_from_outsiders(request, world, client_for, persona):
    client = client_for(request.getfixturevalue(persona))
    secrets = {world.enterprise.uscc, world.enterprise.name}
    audit_before = AuditEntry.objects.count()
    bad = []
    for method, url, template in _operations(world):
        response = client.generic(method, url, "{}", content_type="application/json")
        if "{" in template and response.status_code not in (401, 404, 405, 422):
            bad.append(f"{method} {template} -> {response.status_code}")
        elif response.status_code >= 500:
            bad.append(f"{method} {template} -> {response.status_code}")
        elif any(s in response.content.decode() for s in secrets):
            bad.append(f"{method} {template} leaked the other enterprise")
    assert not bad, "; ".join(bad)
    assert AuditEntry.objects.count() == audit_before


def test_api_leader_is_read_only(world, client_for, leader):
    client = client_for(leader)
    audit_before = AuditEntry.objects.count()
    bad = []
    for method, url, template in _operations(world):
        if method == "GET":
            continue
        response = client.generic(method, url, "{}", content_type="application/json")
        if response.status_code < 400 or response.status_code >= 500:
            bad.append(f"{method} {template} -> {response.status_code}")
    assert not bad, "; ".join(bad)
    assert AuditEntry.objects.count() == audit_before
