"""Every registry write leaves an audit row: who, from where, which object, which fields old→new."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from gaoxin.core.models import AuditEntry
from gaoxin.registry import services
from gaoxin.registry.models import Enterprise, IndustryChain, Qualification
from gaoxin.registry.tests.factories import EnterpriseFactory, make_uscc
from gaoxin.registry.tests.test_selectors import make_reference_data

IP = "10.20.30.40"


@pytest.fixture
def ref(db):
    return make_reference_data()


def only_row(**filters) -> AuditEntry:
    rows = list(AuditEntry.objects.filter(**filters))
    assert len(rows) == 1, rows
    return rows[0]


def test_enterprise_create_update_delete_via_pages(client_for, dept_staff, ref):
    client = client_for(dept_staff)
    client.post(
        "/registry/new/",
        {
            "uscc": make_uscc(5150),
            "name": "审计测试公司",
            "status": "operating",
            "is_non_public": "on",
        },
        REMOTE_ADDR=IP,
    )
    e = Enterprise.objects.get(uscc=make_uscc(5150))
    created = only_row(action="create", model="registry.enterprise", object_id=str(e.pk))
    assert (created.actor, created.ip, created.channel, created.enterprise_id) == (
        dept_staff,
        IP,
        "web",
        e.pk,
    )
    assert created.changes["name"] == [None, "审计测试公司"]
    assert created.changes["uscc"] == [None, make_uscc(5150)]

    form = client.get(f"/registry/{e.pk}/edit/").context["form"]
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update({"name": "审计测试新名公司", "size": "small", "chain": "test-auto"})
    data.pop("is_non_public")  # unchecked: the enterprise is not non-public any more
    client.post(f"/registry/{e.pk}/edit/", data, REMOTE_ADDR=IP)
    updated = only_row(action="update", object_id=str(e.pk))
    assert updated.actor == dept_staff and updated.ip == IP
    assert updated.changes == {
        "chain": [None, ref["chains"]["auto"].pk],
        "is_non_public": [True, False],
        "name": ["审计测试公司", "审计测试新名公司"],
        "name_initials": ["SJCSGS", "SJCSXMGS"],
        "size": ["", "small"],
    }

    client.post(f"/registry/{e.pk}/delete/", {"confirm": "yes"}, REMOTE_ADDR=IP)
    deleted = only_row(action="delete", object_id=str(e.pk))
    assert deleted.actor == dept_staff and deleted.ip == IP
    assert deleted.changes["name"] == ["审计测试新名公司", None]


def test_saving_an_unchanged_form_writes_no_audit_row(client_for, dept_staff, ref):
    e = EnterpriseFactory()
    client = client_for(dept_staff)
    form = client.get(f"/registry/{e.pk}/edit/").context["form"]
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data["is_non_public"] = "on"
    assert client.post(f"/registry/{e.pk}/edit/", data).status_code == 302
    assert not AuditEntry.objects.filter(action="update").exists()


def test_qualification_create_update_delete_via_pages(client_for, dept_staff, ref):
    e = EnterpriseFactory()
    client = client_for(dept_staff)
    client.post(
        f"/registry/{e.pk}/qualifications/new/",
        {"kind": "gazelle", "recognised_on": "2021-06-01", "level": "provincial"},
        REMOTE_ADDR=IP,
    )
    q = Qualification.objects.get(enterprise=e)
    created = only_row(action="create", model="registry.qualification")
    assert (created.actor, created.ip, created.enterprise_id, created.object_id) == (
        dept_staff,
        IP,
        e.pk,
        str(q.pk),
    )
    assert created.changes["valid_until"] == [None, "2024-05-31"]
    client.post(
        f"/registry/qualifications/{q.pk}/edit/",
        {
            "kind": "gazelle",
            "recognised_on": "2021-06-01",
            "valid_until": "2023-12-31",
            "level": "provincial",
            "certificate_no": "DL-2021-08",
        },
        REMOTE_ADDR=IP,
    )
    updated = only_row(action="update", model="registry.qualification")
    assert updated.ip == IP and updated.changes == {
        "certificate_no": ["", "DL-2021-08"],
        "valid_until": ["2024-05-31", "2023-12-31"],
    }
    client.post(f"/registry/qualifications/{q.pk}/delete/", {"confirm": "yes"}, REMOTE_ADDR=IP)
    deleted = only_row(action="delete", model="registry.qualification")
    assert deleted.enterprise_id == e.pk and deleted.changes["kind"] == ["gazelle", None]


def test_chain_create_and_edit_via_pages(client_for, zone_admin, ref):
    client = client_for(zone_admin)
    client.post(
        "/registry/chains/",
        {
            "code": "test-bio",
            "name": "测试·生物医药",
            "group": "emerging",
            "sort_order": 5,
            "is_active": "on",
        },
        REMOTE_ADDR=IP,
    )
    chain = IndustryChain.objects.get(code="test-bio")
    created = only_row(action="create", model="registry.industrychain")
    assert created.actor == zone_admin and created.ip == IP
    assert created.changes["name"] == [None, "测试·生物医药"]
    client.post(
        f"/registry/chains/{chain.pk}/",
        {"code": "test-bio", "name": "测试·生物医药产业链", "group": "emerging", "sort_order": 5},
        REMOTE_ADDR=IP,
    )
    updated = only_row(action="update", model="registry.industrychain")
    assert updated.changes == {
        "is_active": [True, False],
        "name": ["测试·生物医药", "测试·生物医药产业链"],
    }


def test_sei_declaration_and_review_are_audited(
    client_for, ent_user, dept_reviewer, enterprise, ref
):
    client_for(ent_user).post(
        f"/registry/{enterprise.pk}/edit/",
        {"sei_category": "5", "contact_name": "张三"},
        REMOTE_ADDR="192.168.1.5",
    )
    declared = only_row(action="update", actor=ent_user)
    assert declared.ip == "192.168.1.5"
    assert declared.changes["sei_status"] == ["", "declared"]
    assert declared.changes["sei_category"] == [None, ref["sei"]["5"].pk]
    assert declared.changes["contact_name"] == ["", "张三"]
    client_for(dept_reviewer).post(
        f"/registry/sei-review/{enterprise.pk}/",
        {"decision": "rejected", "reason": "主营业务不属于新能源汽车"},
        REMOTE_ADDR=IP,
    )
    reviewed = only_row(action="update", actor=dept_reviewer)
    assert reviewed.ip == IP and reviewed.enterprise_id == enterprise.pk
    assert reviewed.changes == {
        "sei_status": ["declared", "rejected"],
        "review_reason": [None, "主营业务不属于新能源汽车"],
    }


# --- service guarantees -----------------------------------------------------------------------


def test_enterprise_delete_is_refused_while_referenced(ent_user, enterprise, zone_admin):
    with pytest.raises(ValidationError) as info:
        services.enterprise_delete(enterprise=enterprise, acting_user=zone_admin)
    assert "1 个用户" in info.value.messages[0]
    assert Enterprise.objects.filter(pk=enterprise.pk).exists()
    assert not AuditEntry.objects.filter(action="delete").exists()


def test_sei_review_only_decides_a_pending_declaration_once(ref, dept_reviewer):
    e = EnterpriseFactory(sei_category=ref["sei"]["1"], sei_status=Enterprise.SeiStatus.DECLARED)
    stale = Enterprise.objects.get(pk=e.pk)
    services.enterprise_sei_review(enterprise=e, decision="confirmed", acting_user=dept_reviewer)
    with pytest.raises(ValidationError, match="不在待审核状态"):
        services.enterprise_sei_review(
            enterprise=stale, decision="rejected", reason="晚了", acting_user=dept_reviewer
        )
    with pytest.raises(ValidationError):
        services.enterprise_sei_review(enterprise=e, decision="maybe", acting_user=dept_reviewer)
    e.refresh_from_db()
    assert e.sei_status == "confirmed"
    assert AuditEntry.objects.filter(action="update", enterprise_id=e.pk).count() == 1


def test_self_update_refuses_fields_staff_keep(ent_user, enterprise):
    with pytest.raises(ValidationError) as info:
        services.enterprise_self_update(
            enterprise=enterprise, data={"name": "改名", "contact_name": "李"}, acting_user=ent_user
        )
    assert info.value.message_dict == {"name": ["企业用户不能修改此项"]}
    enterprise.refresh_from_db()
    assert enterprise.contact_name == "" and enterprise.name == "柳州华创汽车零部件有限公司"


def test_self_update_clearing_the_category_clears_the_status(ent_user, enterprise, ref):
    services.enterprise_self_update(
        enterprise=enterprise, data={"sei_category": ref["sei"]["1"]}, acting_user=ent_user
    )
    assert enterprise.sei_status == "declared"
    services.enterprise_self_update(
        enterprise=enterprise, data={"sei_category": None}, acting_user=ent_user
    )
    enterprise.refresh_from_db()
    assert enterprise.sei_category_id is None and enterprise.sei_status == ""


def test_qualification_service_defaults_the_end_date(ref, dept_staff):
    e = EnterpriseFactory()
    q = services.qualification_create(
        enterprise=e,
        data={"kind": "above_scale", "recognised_on": dt.date(2023, 3, 1)},
        acting_user=dept_staff,
    )
    assert q.valid_until == dt.date(2023, 12, 31)


def test_deleting_an_enterprise_audits_its_qualifications_too(zone_admin, ref):
    from gaoxin.registry.tests.factories import QualificationFactory

    e = EnterpriseFactory(name="柳州待删除有限公司")
    q = QualificationFactory(enterprise=e)
    e_pk, q_pk = e.pk, q.pk
    services.enterprise_delete(enterprise=e, acting_user=zone_admin)
    row = AuditEntry.objects.get(model="registry.qualification", object_id=str(q_pk))
    assert row.action == "delete" and row.enterprise_id == e_pk and row.actor == zone_admin
    assert row.changes["certificate_no"] == [q.certificate_no, None]
