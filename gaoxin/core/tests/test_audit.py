import pytest
from django.db import DatabaseError, connection, transaction

from gaoxin.core import audit
from gaoxin.core.models import AuditEntry, AuditImmutableError


@pytest.fixture
def entry(db, zone_admin):
    return audit.record(
        actor=zone_admin,
        action="update",
        model="registry.enterprise",
        object_id="1",
        object_repr="测试企业",
        changes={"name": ["旧", "新"]},
    )


def test_rows_cannot_be_changed_or_deleted_through_the_orm(entry):
    entry.object_repr = "篡改"
    with pytest.raises(AuditImmutableError):
        entry.save()
    with pytest.raises(AuditImmutableError):
        entry.delete()
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.filter(pk=entry.pk).update(object_repr="篡改")
    with pytest.raises(AuditImmutableError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).object_repr == "测试企业"


def test_database_refuses_raw_updates(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE core_auditentry SET object_repr = %s WHERE id = %s", ["篡改", entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).object_repr == "测试企业"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="DELETE trigger is PostgreSQL-only")
def test_database_refuses_raw_deletes_on_postgresql(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM core_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_request_address_and_actor_are_recorded(client_for, zone_admin):
    client = client_for(zone_admin)
    client.post("/accounts/tokens/", {"name": "对接系统"}, REMOTE_ADDR="10.1.2.3")
    row = AuditEntry.objects.get(model="accounts.apitoken")
    assert row.actor == zone_admin and row.ip == "10.1.2.3" and row.channel == "web"
    assert row.changes == {"name": [None, "对接系统"]}


def test_audit_search_page_is_for_the_audit_role_only(client_for, entry, auditor, dept_staff):
    page = client_for(auditor).get("/audit/", {"q": "测试企业"})
    assert page.status_code == 200 and "测试企业" in page.content.decode()
    assert client_for(dept_staff).get("/audit/").status_code == 404
    per_object = client_for(auditor).get("/audit/object/registry.enterprise/1/")
    assert "旧" in per_object.content.decode() and "新" in per_object.content.decode()


def test_audit_api_filters(client_for, entry, auditor, ent_user):
    data = client_for(auditor).get("/api/core/audit", {"model": "registry.enterprise"}).json()
    assert data["count"] == 1 and data["items"][0]["changes"] == {"name": ["旧", "新"]}
    assert client_for(ent_user).get("/api/core/audit").status_code == 404


def test_guard_survives_a_table_rebuild(entry):
    """SQLite drops triggers when a migration rebuilds a table; migrate puts the guard back."""
    from django.core.management import call_command

    with connection.cursor() as cur:  # what a table rebuild does to the trigger on SQLite
        if connection.vendor == "postgresql":
            cur.execute("DROP TRIGGER core_auditentry_no_update ON core_auditentry")
        else:
            cur.execute("DROP TRIGGER core_auditentry_no_update")
    call_command("migrate", verbosity=0)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE core_auditentry SET object_repr = %s WHERE id = %s", ["篡改", entry.pk])


@pytest.mark.parametrize("bad", ["2024-02-30", "9999-12-31", "abc", "²"])
def test_impossible_search_dates_are_ignored_not_errors(client_for, entry, auditor, bad):
    page = client_for(auditor).get("/audit/", {"since": bad, "until": bad})
    assert page.status_code == 200
    api = client_for(auditor).get("/api/core/audit", {"since": bad, "until": bad})
    assert api.status_code == 200


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [("6.6.6.6, 10.0.0.9", "10.0.0.9"), ("evil", "127.0.0.1"), ("", "127.0.0.1")],
)
def test_behind_a_proxy_the_address_is_the_one_the_proxy_added(
    settings, client_for, zone_admin, forwarded, expected
):
    settings.GAOXIN_TRUST_X_FORWARDED_FOR = True
    client_for(zone_admin).post(
        "/accounts/tokens/", {"name": "x"}, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
    )
    assert AuditEntry.objects.get(model="accounts.apitoken").ip == expected
