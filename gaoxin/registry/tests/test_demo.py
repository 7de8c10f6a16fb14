"""The demo zone: deterministic, valid, idempotent to load, and faithful to the seed figures."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from gaoxin.accounts.models import User
from gaoxin.accounts.roles import Role
from gaoxin.core.models import AuditEntry
from gaoxin.core.validators import uscc_error
from gaoxin.indicators.models import Target
from gaoxin.party.models import Organisation
from gaoxin.policies.models import (
    Application,
    InterestPayment,
    LedgerEntry,
    Loan,
    MatchRun,
    Measure,
    MeasureBudget,
    PaymentBatch,
    Policy,
    Settlement,
    Voucher,
)
from gaoxin.registry import demo
from gaoxin.registry.models import Enterprise, Grid, Qualification
from gaoxin.registry.reference import industry_rows, read_rows
from gaoxin.registry.selectors import enterprises_holding, enterprises_recognised_in
from gaoxin.registry.tests.factories import QualificationFactory
from gaoxin.reports.models import Report

K = Qualification.Kind
SMALL = 80  # enterprises in the quick tests


def load(*args: str) -> str:
    out = io.StringIO()
    call_command("load_demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def table_counts() -> dict[str, int]:
    return {
        "enterprises": Enterprise.objects.count(),
        "qualifications": Qualification.objects.count(),
        "grids": Grid.objects.count(),
        "organisations": Organisation.objects.count(),
        "users": User.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


# --- the pure generator ------------------------------------------------------------------------


def test_same_seed_gives_the_same_zone_and_another_seed_another():
    first, second = demo.generate_zone(seed=7, n_enterprises=SMALL), demo.generate_zone(7, SMALL)
    assert [(e.uscc, e.name) for e in first.enterprises] == [
        (e.uscc, e.name) for e in second.enterprises
    ]
    assert first == second
    other = demo.generate_zone(seed=8, n_enterprises=SMALL)
    assert {e.uscc for e in other.enterprises} != {e.uscc for e in first.enterprises}


def test_default_zone_has_valid_unique_usccs_and_names():
    zone = demo.generate_zone()
    usccs = [e.uscc for e in zone.enterprises]
    assert len(usccs) == demo.DEFAULT_ENTERPRISES == len(set(usccs))
    assert [u for u in usccs if uscc_error(u)] == []
    # Characters 9-17 are a GB 11714 organisation code with its own check character.
    assert all(demo.org_code_check_digit(u[8:16]) == u[16] for u in usccs)
    names = [e.name for e in zone.enterprises]
    assert len(set(names)) == len(names)
    former = [e.former_names for e in zone.enterprises if e.former_names]
    assert len(former) == round(demo.DEFAULT_ENTERPRISES * demo.FORMER_NAME_SHARE)
    assert not set(former) & set(names)


def test_org_code_check_digit_follows_gb_11714():
    # The standard's worked example D2143569-X: 13·3+2·7+1·9+4·10+3·5+5·8+6·4+9·2 = 199,
    # 11 - 199 mod 11 = 10, written X.
    assert demo.org_code_check_digit("D2143569") == "X"
    assert demo.org_code_check_digit("12345678") == "8"
    assert demo.org_code_check_digit("00000000") == "0"


def test_the_plan_uses_only_shipped_codes_and_consistent_chains():
    classes = {r["code"] for r in industry_rows() if r["level"] == 4}
    chains = {r["code"] for r in read_rows("industry_chains.csv")}
    assert set(demo.INDUSTRY_WORDS) <= classes
    assert {c for p in demo.PROFILES for c in p.industries} <= set(demo.INDUSTRY_WORDS)
    zone = demo.generate_zone()
    for ent in zone.enterprises:
        assert ent.industry_code in classes
        assert ent.chain_code == "" or ent.chain_code in chains
        assert bool(ent.chain_code) == bool(ent.chain_position)
        assert ent.founded_on.year in range(1990, 2022)
    industries = {e.chain_code: set() for e in zone.enterprises}
    for ent in zone.enterprises:
        industries[ent.chain_code].add(ent.industry_code[:2])
    assert industries["auto-parts"] <= {"36", "33", "29", "35"}
    assert industries["rail-transit"] == {"37"}
    assert industries["nev"] == {"36", "38"}


def test_qualification_plan_respects_the_uniqueness_rule_and_validity():
    zone = demo.generate_zone()
    keys = [q.key for q in zone.qualifications]
    assert len(keys) == len(set(keys))
    assert all(q.valid_until >= q.recognised_on for q in zone.qualifications)
    operating = {e.uscc for e in zone.enterprises if e.status == Enterprise.Status.OPERATING}
    assert {q.uscc for q in zone.qualifications} <= operating
    industrial = {e.uscc for e in zone.enterprises if e.industrial}
    assert {q.uscc for q in zone.qualifications if q.kind == K.ABOVE_SCALE} <= industrial


def test_too_small_a_zone_is_refused():
    with pytest.raises(ValueError, match="at least"):
        demo.generate_zone(n_enterprises=demo.MIN_ENTERPRISES - 1)
    with pytest.raises(CommandError):
        call_command("load_demo", "--enterprises", "10", stdout=io.StringIO())


# --- loading ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_demo_twice_changes_nothing_the_second_time():
    output = load("--enterprises", str(SMALL))
    first = table_counts()
    assert first["enterprises"] == SMALL and first["grids"] == 12 and first["users"] == 12
    # One create row per object written, all in one batch.
    audited = first["enterprises"] + first["qualifications"] + first["grids"]
    audited += first["organisations"] + first["users"]
    audited += Report.objects.count()  # the demo's statistical reports (gaoxin.reports)
    audited += Target.objects.count()  # and the zone's published targets (gaoxin.indicators)
    # and its support policy (the policy, its measures and their yearly budgets) and the
    # registered loans with their interest payments (gaoxin.policies)
    audited += Policy.objects.count() + Measure.objects.count() + MeasureBudget.objects.count()
    audited += Loan.objects.count() + InterestPayment.objects.count()
    setup = ("policy", "measure", "measurebudget", "loan", "interestpayment")
    POLICY_WORK = (  # noqa: N806
        "matchrun",
        "application",
        "ledgerentry",
        "paymentbatch",
        "notice",
        "match",
        "serviceprovider",
        "voucher",
        "redemption",
        "settlement",
    )
    creates = AuditEntry.objects.filter(action="create")
    assert creates.exclude(model__in=[f"policies.{m}" for m in POLICY_WORK]).count() == audited
    assert all(creates.filter(model=f"policies.{m}").exists() for m in setup)
    # The policy's money (matching runs, applications through to payment, ledger entries):
    # every object has its audit rows.
    for model in (MatchRun, Application, LedgerEntry, PaymentBatch, Voucher, Settlement):
        label = f"policies.{model.__name__.lower()}"
        audited_ids = set(
            AuditEntry.objects.filter(model=label).values_list("object_id", flat=True)
        )
        assert audited_ids == {str(pk) for pk in model.objects.values_list("pk", flat=True)}
    assert Policy.objects.get().status == Policy.Status.PUBLISHED
    assert AuditEntry.objects.values("batch").distinct().count() == 1
    assert "nothing changed" not in output

    output = load("--enterprises", str(SMALL), "--quiet")
    assert table_counts() == first
    assert "nothing changed" in output


@pytest.mark.django_db
def test_loaded_rows_carry_audit_rows_that_describe_them():
    load("--enterprises", str(SMALL), "--quiet")
    ent = Enterprise.objects.get(name="柳州华信精密汽车零部件有限公司")
    row = AuditEntry.objects.get(model="registry.enterprise", object_id=str(ent.pk))
    assert (row.action, row.channel, row.actor_label) == ("create", "cli", "system")
    assert row.changes["uscc"] == [None, ent.uscc]
    assert row.enterprise_id == ent.pk
    timeline = AuditEntry.objects.filter(enterprise_id=ent.pk, model="registry.qualification")
    assert timeline.count() == ent.qualifications.count() > 0
    assert ent.name_initials == "LZHXJMQCLBJYXGS"


@pytest.mark.django_db
def test_reload_repairs_drift_with_update_audit_rows_only():
    load("--enterprises", str(SMALL), "--quiet")
    ent = Enterprise.objects.get(name="柳州华信精密汽车零部件有限公司")
    Enterprise.objects.filter(pk=ent.pk).update(contact_phone="110")
    last = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    load("--enterprises", str(SMALL), "--quiet")
    new = AuditEntry.objects.filter(id__gt=last)
    assert [(e.action, e.object_id, set(e.changes)) for e in new] == [
        ("update", str(ent.pk), {"contact_phone"})
    ]
    ent.refresh_from_db()
    assert ent.contact_phone != "110"


@pytest.mark.django_db
def test_reload_keeps_qualifications_added_by_staff_and_says_so():
    load("--enterprises", str(SMALL), "--quiet")
    ent = Enterprise.objects.get(name="柳州华信精密汽车零部件有限公司")
    added = QualificationFactory(
        enterprise=ent,
        kind=K.TECH_SME,
        recognised_on=dt.date(2022, 5, 1),
        valid_until=dt.date(2022, 12, 31),
    )
    err = io.StringIO()
    call_command(
        "load_demo", "--enterprises", str(SMALL), "--quiet", stdout=io.StringIO(), stderr=err
    )
    assert "1 qualifications of demo enterprises are not in this plan; kept" in err.getvalue()
    assert Qualification.objects.filter(pk=added.pk).exists()


@pytest.mark.django_db
def test_default_zone_reproduces_the_seed_figures():
    load("--quiet")
    assert Enterprise.objects.count() == demo.DEFAULT_ENTERPRISES
    assert enterprises_holding(K.ABOVE_SCALE, dt.date(2020, 12, 31)).count() == 150
    assert enterprises_holding(K.ABOVE_SCALE, dt.date(2021, 12, 31)).count() == 150
    new_2019 = enterprises_recognised_in(K.ABOVE_SCALE, 2019, first_time=True)
    in_2019 = enterprises_holding(K.ABOVE_SCALE, dt.date(2019, 12, 31))
    in_2018 = enterprises_holding(K.ABOVE_SCALE, dt.date(2018, 12, 31))
    assert new_2019.count() == 21
    assert set(new_2019) == set(in_2019) - set(in_2018)
    assert enterprises_holding(K.SMART_FACTORY, dt.date(2019, 12, 31)).count() == 11
    assert enterprises_recognised_in(K.SMART_FACTORY, 2019).count() == 11
    assert enterprises_recognised_in(K.GAZELLE, 2019, first_time=True).count() == 6
    assert enterprises_recognised_in(K.GAZELLE, 2019).count() == 6
    # Above-scale lists are industrial firms only, one record per firm and year.
    above = Qualification.objects.filter(kind=K.ABOVE_SCALE)
    assert all(
        q.enterprise.industry.is_industrial for q in above.select_related("enterprise__industry")
    )
    assert {q.recognised_on.timetuple()[1:3] for q in above} == {(1, 1)}
    # F10: "2019年兑现科技创新扶持资金1亿多元", paid out by the ledger in 2019.
    out = io.StringIO()
    call_command("indicator", "policy_paid_total", "--year", "2019", stdout=out)
    paid = int(out.getvalue().strip().splitlines()[-1])
    assert 100_000_000 < paid < 110_000_000


# --- accounts and party tree -------------------------------------------------------------------


@pytest.mark.django_db
def test_one_demo_account_per_role_and_each_can_log_in():
    output = load("--enterprises", str(SMALL))
    users = {u.username: u for u in User.objects.all()}
    assert set(users) == {a.username for a in demo.DEMO_ACCOUNTS}
    assert {u.role for u in users.values()} == set(Role.values)
    for username in users:
        assert Client().login(username=username, password=demo.DEMO_PASSWORD), username
        assert username in output
    assert demo.DEMO_PASSWORD in output
    qiye, shuji = users["qiye"], users["shuji"]
    assert qiye.enterprise.name == "柳州华信精密汽车零部件有限公司"
    assert shuji.party_org.kind == Organisation.Kind.BRANCH
    assert shuji.party_org.enterprise == qiye.enterprise
    joint = shuji.party_org.parent
    assert (joint.name, joint.kind) == ("广西柳州汽车城联合党委", Organisation.Kind.JOINT_COMMITTEE)
    assert joint.parent.kind == Organisation.Kind.WORKING_COMMITTEE
    assert joint.founded_on == dt.date(2015, 7, 1)


@pytest.mark.django_db
def test_password_comes_from_the_environment_and_a_change_is_audited_without_it(monkeypatch):
    monkeypatch.setenv(demo.DEMO_PASSWORD_ENV, "another-secret-1")
    output = load("--enterprises", str(SMALL))
    assert "another-secret-1" in output
    assert Client().login(username="leader", password="another-secret-1")
    monkeypatch.delenv(demo.DEMO_PASSWORD_ENV)
    load("--enterprises", str(SMALL), "--quiet")
    assert Client().login(username="leader", password=demo.DEMO_PASSWORD)
    updates = AuditEntry.objects.filter(model="accounts.user", action="update")
    assert updates.count() == len(demo.DEMO_ACCOUNTS)
    assert all("another-secret-1" not in str(e.changes) for e in AuditEntry.objects.all())
