import pytest
from django.test import Client

from gaoxin.accounts.models import ApiToken

NAV_BY_ROLE = {
    "zone_admin": {"企业库", "企业导入", "产业链配置", "战新类别审核", "审计日志"},
    "dept_staff": {"企业库", "企业导入"},
    "dept_reviewer": {"企业库", "战新类别审核"},
    "leader": {"企业库"},
    "auditor": {"企业库", "审计日志"},
    "ent_user": {"本企业画像"},
    "branch_secretary": {"本党组织"},
}
ALL_ITEMS = set().union(*NAV_BY_ROLE.values())


@pytest.mark.parametrize("persona", sorted(NAV_BY_ROLE))
def test_navigation_fits_the_role(request, client_for, persona):
    user = request.getfixturevalue(persona)
    response = client_for(user).get("/", follow=True)
    assert response.status_code == 200
    labels = {item["label"] for item in response.context["nav_items"]}
    assert labels & ALL_ITEMS == NAV_BY_ROLE[persona]


def test_login_page_is_chinese_by_default_and_english_on_request(db):
    client = Client()
    page = client.get("/accounts/login/")
    assert "登录" in page.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert "Log in" in client.get("/accounts/login/").content.decode()


def test_login_with_password(db, dept_staff):
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "dept_staff", "password": "pw-dept_staff"}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_enterprise_user_lands_on_their_own_profile(client_for, ent_user):
    response = client_for(ent_user).get("/")
    assert response.status_code == 302
    assert response["Location"] == f"/registry/{ent_user.enterprise_id}/"


def test_branch_secretary_sees_their_organisation(client_for, branch_secretary):
    page = client_for(branch_secretary).get("/accounts/party-org/")
    assert "华创公司党支部" in page.content.decode()


def test_anonymous_is_sent_to_login(db):
    response = Client().get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_token_shown_once_and_works_for_the_api(client_for, auditor):
    client = client_for(auditor)
    page = client.post("/accounts/tokens/", {"name": "对接"}).content.decode()
    token = ApiToken.objects.get(user=auditor)
    secret = page.split("<code>")[1].split("</code>")[0]
    assert secret.startswith("gx_") and token.digest == ApiToken.hash(secret)
    assert secret not in client.get("/accounts/tokens/").content.decode()
    api = Client()
    assert api.get("/api/core/audit").status_code == 401
    ok = api.get("/api/core/audit", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert ok.status_code == 200
    client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert api.get("/api/core/audit", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_browser_language_does_not_switch_the_interface(db):
    page = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "登录" in page.content.decode() and "Log in" not in page.content.decode()
