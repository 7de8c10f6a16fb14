"""The policy-fund files as their readers see them: the public notice list (.xlsx and PDF) with
accounts masked, the bank's payment batch file with accounts in full, and the disbursement
report with its subtotals."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import zipfile
import zlib

import pytest
from pytest import approx
from python_calamine import CalamineWorkbook

from gaoxin.accounts.models import User
from gaoxin.policies import exports
from gaoxin.policies.models import Application, Notice, Payment, PaymentBatch, Policy
from gaoxin.policies.services import measure_add
from gaoxin.registry.tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db

ACCOUNT = "6230000011112222"
MASKED = "**** **** 2222"
PERIOD = "公示期:2019年9月27日至2019年10月9日(5个工作日)"


def sheet(data: bytes) -> list[list]:
    return CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()


def row_starting(rows: list[list], *cells) -> list:
    """The row whose first cells are `cells` (trailing blanks trimmed)."""
    n = len(cells)
    found = [r for r in rows if tuple(r[:n]) == cells]
    assert len(found) == 1, (cells, rows)
    return found[0]


def all_values(rows: list[list]) -> list[str]:
    return [str(v) for r in rows for v in r]


@pytest.fixture
def actor(db):
    return User.objects.create_user(username="exporter", password="pw-exporter", role="zone_admin")


@pytest.fixture
def policy(db):
    return Policy.objects.create(
        title="柳州高新区促进企业融资若干措施",
        issuer="柳州高新区管委会",
        doc_number="柳高管发〔2019〕8号",
        effective_from=dt.date(2019, 1, 1),
        status=Policy.Status.PUBLISHED,
    )


@pytest.fixture
def loan_interest(policy, actor):
    return measure_add(policy=policy, code="loan_interest", acting_user=actor)


@pytest.fixture
def rd_subsidy(policy, actor, loan_interest):
    return measure_add(policy=policy, code="rd_subsidy", acting_user=actor)  # ordered second


def make_notice(policy, **kwargs) -> Notice:
    fields = {
        "policy": policy,
        "year": 2019,
        "title": "柳州高新区2019年度贷款贴息拟支持名单公示",
        "published_on": dt.date(2019, 9, 27),
        "starts_on": dt.date(2019, 9, 27),
        "ends_on": dt.date(2019, 10, 9),
        "working_days": 5,
        "contact": "高新区经济发展局(电话0772-1234567)",
    } | kwargs
    return Notice.objects.create(**fields)


def make_application(measure, name: str, amount_fen: int, notice=None, **kwargs) -> Application:
    enterprise = EnterpriseFactory(name=name)
    fields = {
        "enterprise": enterprise,
        "measure": measure,
        "year": 2019,
        "status": Application.Status.NOTICE,
        "version": measure.current(),
        "eligible": True,
        "computed_fen": amount_fen,
        "amount_fen": amount_fen,
        "notice": notice,
        "account_bank": "柳州银行高新支行",
        "account_name": name,
        "account_no": ACCOUNT,
    } | kwargs
    return Application.objects.create(**fields)


@pytest.fixture
def notice(policy, loan_interest, rd_subsidy):
    notice = make_notice(policy)
    make_application(rd_subsidy, "柳州测试1号科技有限公司", 50_000_000, notice)
    make_application(loan_interest, "柳州测试3号科技有限公司", 1_234_567, notice)
    # Rejected after the notice (an objection upheld): still on the list as it was published.
    make_application(loan_interest, "柳州测试2号科技有限公司", 80_000_00, notice, status="rejected")
    # Passed but published in no notice: not on this list.
    make_application(loan_interest, "柳州测试4号科技有限公司", 10_000, None, status="passed")
    return notice


# --- the notice list ----------------------------------------------------------------------------


def test_notice_rows_are_the_published_list_by_measure_then_name_accounts_masked(notice):
    rows = exports.notice_rows(notice)

    uscc = {a.enterprise.name: a.enterprise.uscc for a in notice.applications.all()}
    assert rows == [
        ["1", "柳州测试2号科技有限公司", uscc["柳州测试2号科技有限公司"], "贷款贴息", "2019",
         "80,000.00", MASKED],
        ["2", "柳州测试3号科技有限公司", uscc["柳州测试3号科技有限公司"], "贷款贴息", "2019",
         "12,345.67", MASKED],
        ["3", "柳州测试1号科技有限公司", uscc["柳州测试1号科技有限公司"], "研发投入补助", "2019",
         "500,000.00", MASKED],
    ]  # fmt: skip


def test_notice_xlsx_shows_title_period_list_and_total_without_account_numbers(notice):
    data = exports.notice_xlsx(notice)
    rows = sheet(data)

    assert rows[0][0] == "柳州高新区2019年度贷款贴息拟支持名单公示"
    texts = all_values(rows)
    assert "柳州高新区管委会" in texts
    assert PERIOD in texts
    assert "如有异议,请在公示期内向高新区经济发展局(电话0772-1234567)反映" in texts
    assert row_starting(rows, "序号", "企业名称", "统一社会信用代码", "政策条款", "年度")[5] == (
        "拟支持金额(元)"
    )
    first = row_starting(rows, 1.0, "柳州测试2号科技有限公司")
    assert first[3:] == ["贷款贴息", 2019.0, 80_000.0, MASKED]
    assert row_starting(rows, 2.0, "柳州测试3号科技有限公司")[5] == 12_345.67
    assert row_starting(rows, "", "合计(3家)")[5] == approx(592_345.67)
    assert not any(ACCOUNT in v for v in texts)
    assert "柳州测试4号科技有限公司" not in texts
    # Money shows as 1,234.56 in Excel, not as a bare float.
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert 'formatCode="#,##0.00"' in z.read("xl/styles.xml").decode()


def test_notice_period_without_a_contact_leaves_the_objection_line_out(policy, loan_interest):
    notice = make_notice(policy, contact="")
    make_application(loan_interest, "柳州测试1号科技有限公司", 100, notice)

    texts = all_values(sheet(exports.notice_xlsx(notice)))

    assert PERIOD in texts
    assert not any("如有异议" in v for v in texts)


def pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", data))


def pdf_text(data: bytes) -> str:
    """The text a PDF shows, as reportlab writes it with a UCS-2 CID font: every string shown
    in the (decoded, inflated) page streams, from UTF-16-BE. The account number is written
    the same way, so its absence here means it is not on the page."""
    streams = []
    for raw in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = raw.strip()
        if raw.endswith(b"~>"):  # reportlab's default: ASCII85 over Flate
            raw = base64.a85decode(raw[:-2])
        streams.append(zlib.decompress(raw))
    shown = []
    for stream in streams:
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", stream, re.S):
            unescaped = re.sub(
                rb"\\([0-7]{1,3}|.)",
                lambda m: (
                    bytes([int(m[1], 8)])
                    if m[1][:1].isdigit()
                    else {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(m[1], m[1])
                ),
                literal,
            )
            shown.append(unescaped.decode("utf-16-be", errors="replace"))
    return "\n".join(shown)


def test_notice_pdf_is_a_chinese_a4_document_with_the_list_and_no_account_numbers(notice):
    data = exports.notice_pdf(notice)

    assert data.startswith(b"%PDF")
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in data  # A4
    assert b"/STSong-Light" in data
    assert pdf_pages(data) == 1
    text = pdf_text(data)
    assert "柳州高新区2019年度贷款贴息拟支持名单公示" in text
    assert PERIOD in text
    assert "第 1 页" in text
    assert "2019年9月27日" in text
    assert "12,345.67" in text and "合计(3家)" in text and "592,345.67" in text
    assert MASKED in text
    assert ACCOUNT not in text
    assert ACCOUNT.encode() not in data


def test_a_long_notice_pdf_runs_over_pages_with_numbers(policy, loan_interest):
    notice = make_notice(policy)
    for n in range(60):
        make_application(
            loan_interest, f"柳州高新区批量测试{n:02d}号智能制造科技有限公司", 100, notice
        )

    data = exports.notice_pdf(notice)

    pages = pdf_pages(data)
    assert pages >= 2
    text = pdf_text(data)
    assert f"第 {pages} 页" in text
    assert text.count("统一社会信用代码") == pages  # the header repeats on every page
    assert "合计(60家)" in text


def test_the_notice_list_shows_only_the_last_four_digits_of_an_account():
    assert exports.mask_account("6230 0000 1111 2222") == MASKED
    assert exports.mask_account("1234") == "****"
    assert exports.mask_account("") == ""


# --- the payment batch file ---------------------------------------------------------------------


def test_payment_batch_file_carries_full_accounts_as_text_purposes_and_totals(
    policy, loan_interest, rd_subsidy, actor
):
    batch = PaymentBatch.objects.create(number="ZF20191015-001", created_by=actor)
    PaymentBatch.objects.filter(pk=batch.pk).update(
        created_at=dt.datetime(2019, 10, 15, 1, 30, tzinfo=dt.UTC)
    )
    batch.refresh_from_db()
    first = make_application(
        loan_interest, "柳州测试1号科技有限公司", 1_234_567, status="scheduled"
    )
    retried = make_application(
        rd_subsidy, "柳州测试2号科技有限公司", 50_000_000, status="scheduled",
        account_no="6217001234567890123",
    )  # fmt: skip
    for application, attempt in ((first, 1), (retried, 2)):
        Payment.objects.create(
            application=application,
            attempt=attempt,
            batch=batch,
            amount_fen=application.amount_fen,
            account_bank=application.account_bank,
            account_name=application.account_name,
            account_no=application.account_no,
            scheduled_by=actor,
        )

    rows = sheet(exports.payment_batch_xlsx(batch))

    assert row_starting(rows, "批次号")[1] == "ZF20191015-001"
    assert row_starting(rows, "制单时间")[1] == "2019年10月15日 09:30"  # Beijing time
    assert row_starting(rows, "笔数")[1] == 2
    assert row_starting(rows, "合计金额(元)")[1] == 512_345.67
    assert row_starting(rows, "序号")[:8] == [
        "序号", "收款单位", "开户银行", "银行账号", "金额(元)", "用途", "申请编号", "第几次支付",
    ]  # fmt: skip
    assert row_starting(rows, 1.0)[1:8] == [
        "柳州测试1号科技有限公司",
        "柳州银行高新支行",
        ACCOUNT,
        12_345.67,
        "柳高管发〔2019〕8号 贷款贴息 2019年度",
        float(first.pk),
        1.0,
    ]
    second = row_starting(rows, 2.0)
    assert second[3] == "6217001234567890123"  # all 19 digits, not 6.217E+18
    assert second[5] == "柳高管发〔2019〕8号 研发投入补助 2019年度"
    assert second[7] == 2.0
    assert row_starting(rows, "", "合计")[4] == 512_345.67


# --- the disbursement report --------------------------------------------------------------------


def test_disbursement_report_has_a_subtotal_per_policy_and_a_grand_total():
    rows = [
        {"policy": "融资措施", "doc_number": "柳高管发〔2019〕8号", "measure": "贷款贴息",
         "budget_year": 2019, "paid_fen": 1_234_567, "count": 3},
        {"policy": "创新措施", "doc_number": "柳高管发〔2019〕1号", "measure": "研发投入补助",
         "budget_year": 2019, "paid_fen": 50_000_000, "count": 1},
        {"policy": "融资措施", "doc_number": "柳高管发〔2019〕8号", "measure": "贷款贴息",
         "budget_year": 2018, "paid_fen": 200_000_00, "count": 2},
    ]  # fmt: skip

    table = sheet(exports.disbursement_xlsx(rows, 2020))

    assert table[0][0] == "2020年资金兑现情况"
    assert table[1] == [
        "政策", "文号", "条款", "预算年度", "笔数", "兑现金额(元)", "兑现金额(万元)",
    ]  # fmt: skip
    body = [r[:7] for r in table[2:]]
    assert body == [
        ["融资措施", "柳高管发〔2019〕8号", "贷款贴息", 2019.0, 3.0, 12_345.67, approx(1.234567)],
        ["融资措施", "柳高管发〔2019〕8号", "贷款贴息", 2018.0, 2.0, 200_000.0, 20.0],
        ["融资措施 小计", "", "", "", 5.0, 212_345.67, approx(21.234567)],
        ["创新措施", "柳高管发〔2019〕1号", "研发投入补助", 2019.0, 1.0, 500_000.0, 50.0],
        ["创新措施 小计", "", "", "", 1.0, 500_000.0, 50.0],
        ["合计", "", "", "", 6.0, 712_345.67, approx(71.234567)],
    ]  # fmt: skip


def test_an_empty_disbursement_report_still_has_its_headings_and_a_zero_total():
    table = sheet(exports.disbursement_xlsx([], 2020))

    assert table[0][0] == "2020年资金兑现情况"
    assert table[-1][:7] == ["合计", "", "", "", 0.0, 0.0, 0.0]
