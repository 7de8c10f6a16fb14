"""Shared fixtures: named personas (one per role) and a logged-in client for each."""

from __future__ import annotations

import pytest
from django.test import Client

from gaoxin.accounts.roles import Department, Role


@pytest.fixture
def enterprise(db):
    from gaoxin.registry.tests.factories import EnterpriseFactory

    return EnterpriseFactory(name="柳州华创汽车零部件有限公司")


@pytest.fixture
def other_enterprise(db):
    from gaoxin.registry.tests.factories import EnterpriseFactory

    return EnterpriseFactory(name="柳州东城机械制造有限公司")


@pytest.fixture
def party_org(db):
    from gaoxin.party.models import Organisation

    root = Organisation.objects.create(
        name="柳州高新区党工委", kind=Organisation.Kind.WORKING_COMMITTEE
    )
    return Organisation.objects.create(
        name="华创公司党支部", kind=Organisation.Kind.BRANCH, parent=root
    )


def _user(username: str, **kwargs):
    from gaoxin.accounts.models import User

    return User.objects.create_user(username=username, password="pw-" + username, **kwargs)


@pytest.fixture
def zone_admin(db):
    return _user(
        "zone_admin", role=Role.ZONE_ADMIN, department=Department.OFFICE, display_name="管理员"
    )


@pytest.fixture
def dept_staff(db):
    return _user(
        "dept_staff",
        role=Role.DEPT_STAFF,
        department=Department.ECONOMIC,
        display_name="经发局小王",
    )


@pytest.fixture
def dept_reviewer(db):
    return _user(
        "dept_reviewer",
        role=Role.REVIEWER,
        department=Department.SCITECH,
        display_name="科技局审核员",
    )


@pytest.fixture
def leader(db):
    return _user("leader", role=Role.LEADER, display_name="主任")


@pytest.fixture
def auditor(db):
    return _user("auditor", role=Role.AUDITOR, display_name="审计员")


@pytest.fixture
def scitech_staff(db):
    return _user(
        "scitech_staff",
        role=Role.DEPT_STAFF,
        department=Department.SCITECH,
        display_name="科技局经办人",
    )


@pytest.fixture
def payer(db):
    return _user(
        "payer", role=Role.DEPT_STAFF, department=Department.FINANCE, display_name="财政局出纳"
    )


@pytest.fixture
def party_staff(db):
    return _user("party_staff", role=Role.DEPT_STAFF, department=Department.PARTY)


@pytest.fixture
def ent_user(db, enterprise):
    return _user("ent_user", role=Role.ENTERPRISE, enterprise=enterprise, display_name="华创填报员")


@pytest.fixture
def other_ent_user(db, other_enterprise):
    return _user("other_ent_user", role=Role.ENTERPRISE, enterprise=other_enterprise)


@pytest.fixture
def branch_secretary(db, party_org):
    return _user("branch_secretary", role=Role.BRANCH_SECRETARY, party_org=party_org)


@pytest.fixture
def outsider(db):
    """Authenticated but inactive: holds no capabilities at all."""
    return _user("outsider", role=Role.LEADER, is_active=False)


@pytest.fixture
def client_for():
    """client_for(user) -> a Client logged in as that user."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_computations():
    """Indicator results are cached by data version (the newest audit id). Factories write
    without audit rows and each test's rows roll back, so two tests could share a version:
    start every test with nothing cached."""
    from django.core.cache import cache

    from gaoxin.indicators.engine import clear_memo

    clear_memo()
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _chinese_first():
    """Every test starts in the default language (zh-hans): a page test that switched to
    English must not leave service messages in English for the next test."""
    from django.utils import translation

    translation.activate("zh-hans")
    yield
    translation.deactivate()
