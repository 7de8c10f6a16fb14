"""The policy-fund files: a notice's public list (公示名单) as .xlsx and as a printable PDF, the
payment batch file for the bank, and the yearly disbursement report (资金兑现情况).

Bank accounts are public only masked (the last four digits, so an enterprise can check its
account during the notice); the batch file carries them in full because the bank pays to them,
and it goes to the finance bureau only."""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, TypedDict
from xml.sax.saxutils import escape

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from gaoxin.policies.models import Application, Notice, Payment, PaymentBatch
from gaoxin.policies.templatetags.money import yuan

MONEY_FORMAT = "#,##0.00"


class DisbursementRow(TypedDict):
    policy: str
    doc_number: str
    measure: str
    budget_year: int
    paid_fen: int
    count: int


# --- text ---------------------------------------------------------------------------------------


def chinese_date(day: dt.date) -> str:
    """2019-09-27 -> "2019年9月27日"."""
    return _("%(y)d年%(m)d月%(d)d日") % {"y": day.year, "m": day.month, "d": day.day}


def mask_account(account_no: str) -> str:
    """ "6230000011112222" -> "**** **** 2222": enough for an enterprise to recognise its
    account, too little to use it."""
    digits = account_no.replace(" ", "")
    if not digits:
        return ""
    if len(digits) <= 4:
        return "****"
    return f"**** **** {digits[-4:]}"


def _yuan_cell(fen: int) -> float:
    # A spreadsheet number is a double whatever we pass; fen / 100 is exact to the fen in it.
    return float(Decimal(fen) / 100)


def _wan_cell(fen: int) -> float:
    return float(Decimal(fen) / 1_000_000)


def notice_period_text(notice: Notice) -> str:
    return _("公示期:%(start)s至%(end)s(%(days)d个工作日)") % {
        "start": chinese_date(notice.starts_on),
        "end": chinese_date(notice.ends_on),
        "days": notice.working_days,
    }


def notice_contact_text(notice: Notice) -> str:
    if not notice.contact:
        return ""
    return _("如有异议,请在公示期内向%(contact)s反映") % {"contact": notice.contact}


# --- the notice list ----------------------------------------------------------------------------


def _notice_headers() -> list[str]:
    return [
        _("序号"),
        _("企业名称"),
        _("统一社会信用代码"),
        _("政策条款"),
        _("年度"),
        _("拟支持金额(元)"),
        _("收款账号"),
    ]


def _notice_applications(notice: Notice) -> list[Application]:
    # Every application published in the notice, whatever has happened to it since: the list
    # as it was published.
    return list(
        notice.applications.select_related("enterprise", "measure").order_by(
            "measure__order", "enterprise__name", "pk"
        )
    )


def _notice_row(n: int, application: Application) -> list[str]:
    return [
        str(n),
        application.enterprise.name,
        application.enterprise.uscc,
        application.measure.name,
        str(application.year),
        yuan(application.amount_fen),
        mask_account(application.account_no),
    ]


def notice_rows(notice: Notice) -> list[list[str]]:
    """The body of the public list as shown: one row of text per application, money in 元 and
    the account masked. The .xlsx and the PDF both show these rows."""
    return [_notice_row(n, a) for n, a in enumerate(_notice_applications(notice), start=1)]


def notice_xlsx(notice: Notice) -> bytes:
    """The public list of a notice as a one-sheet workbook: title, period, the list, a total."""
    applications = _notice_applications(notice)
    headers = _notice_headers()
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    title_format = book.add_format({"bold": True, "font_size": 14, "align": "center"})
    head = book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1, "align": "center"})
    money = book.add_format({"num_format": MONEY_FORMAT})
    bold = book.add_format({"bold": True})
    bold_money = book.add_format({"bold": True, "num_format": MONEY_FORMAT})
    sheet = book.add_worksheet(_("公示名单"))
    for col, width in enumerate((6, 36, 22, 20, 8, 16, 18)):
        sheet.set_column(col, col, width)
    last = len(headers) - 1
    sheet.merge_range(0, 0, 0, last, notice.title, title_format)
    lines = [notice.policy.issuer, notice_period_text(notice), notice_contact_text(notice)]
    row = 1
    for line in filter(None, lines):
        sheet.merge_range(row, 0, row, last, line)
        row += 1
    header_row = row
    for col, heading in enumerate(headers):
        sheet.write_string(header_row, col, heading, head)
    total = 0
    for n, application in enumerate(applications, start=1):
        row += 1
        cells = _notice_row(n, application)
        sheet.write_number(row, 0, n)
        sheet.write_string(row, 1, cells[1])
        sheet.write_string(row, 2, cells[2])
        sheet.write_string(row, 3, cells[3])
        sheet.write_number(row, 4, application.year)
        if application.amount_fen is None:
            sheet.write_blank(row, 5, None)
        else:
            sheet.write_number(row, 5, _yuan_cell(application.amount_fen), money)
            total += application.amount_fen
        sheet.write_string(row, 6, cells[6])
    row += 1
    sheet.write_string(row, 1, _("合计(%(n)d家)") % {"n": len(applications)}, bold)
    sheet.write_number(row, 5, _yuan_cell(total), bold_money)
    sheet.freeze_panes(header_row + 1, 0)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.repeat_rows(header_row)
    sheet.fit_to_pages(1, 0)
    book.close()
    return buffer.getvalue()


# --- the notice as a PDF ------------------------------------------------------------------------

PDF_FONT = "STSong-Light"


@functools.cache
def _pdf_font() -> str:
    # A CID font the PDF viewer supplies (Adobe's Chinese font pack, poppler-data): nothing to
    # ship or embed, and the file stays small.
    pdfmetrics.registerFont(UnicodeCIDFont(PDF_FONT))
    return PDF_FONT


def notice_pdf(notice: Notice) -> bytes:
    """The public list of a notice on A4 for printing and posting: title, issuer, period and
    where to object, the list (its header repeated on every page) with a total, the issuer and
    the date at the end, "第 N 页" at the foot of each page."""
    font = _pdf_font()
    applications = _notice_applications(notice)
    rows = [_notice_row(n, a) for n, a in enumerate(applications, start=1)]
    total = sum(a.amount_fen or 0 for a in applications)

    def style(name: str, size: float, **kwargs: Any) -> ParagraphStyle:
        return ParagraphStyle(
            name, fontName=font, fontSize=size, leading=size * 1.5, wordWrap="CJK", **kwargs
        )

    title = style("title", 16, alignment=TA_CENTER, spaceAfter=4 * mm)
    centred = style("centred", 10.5, alignment=TA_CENTER)
    body = style("body", 10.5)
    right = style("right", 10.5, alignment=TA_RIGHT)
    cell = style("cell", 9)
    head = style("head", 9, alignment=TA_CENTER)
    cell_size = 9

    def para(text: str, st: ParagraphStyle) -> Paragraph:
        return Paragraph(escape(text), st)

    story: list[Any] = [para(notice.title, title), para(notice.policy.issuer, centred)]
    story.append(Spacer(1, 4 * mm))
    story.append(para(notice_period_text(notice), body))
    contact = notice_contact_text(notice)
    if contact:
        story.append(para(contact, body))
    story.append(Spacer(1, 3 * mm))

    data: list[list[Any]] = [[para(h, head) for h in _notice_headers()]]
    for r in rows:
        # Names and measures wrap inside their cells; the other columns are short.
        data.append([r[0], para(r[1], cell), r[2], para(r[3], cell), r[4], r[5], r[6]])
    data.append(["", _("合计(%(n)d家)") % {"n": len(rows)}, "", "", "", yuan(total), ""])
    widths = [11 * mm, 41 * mm, 33 * mm, 24 * mm, 11 * mm, 26 * mm, 24 * mm]  # 170 mm
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, cell_size),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEF2F7")),
                ("ALIGN", (0, 1), (0, -1), "CENTER"),
                ("ALIGN", (4, 1), (4, -1), "CENTER"),
                ("ALIGN", (5, 1), (5, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story.append(table)
    story.append(Spacer(1, 10 * mm))
    story.append(para(notice.policy.issuer, right))
    story.append(para(chinese_date(notice.published_on), right))

    def page_number(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 9)
        canvas.drawCentredString(
            A4[0] / 2, 12 * mm, _("第 %(n)d 页") % {"n": canvas.getPageNumber()}
        )
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=18 * mm,
        bottomMargin=20 * mm,
        title=notice.title,
        author=notice.policy.issuer,
    )
    doc.build(story, onFirstPage=page_number, onLaterPages=page_number)
    return buffer.getvalue()


# --- the payment batch file for the bank --------------------------------------------------------


def payment_purpose(payment: Payment) -> str:
    """ "柳高管发〔2019〕8号 贷款贴息 2019年度": what the money is for, on the bank statement."""
    application = payment.application
    policy = application.measure.policy
    return " ".join(
        [
            policy.doc_number or policy.title,
            application.measure.name,
            _("%(year)d年度") % {"year": application.year},
        ]
    )


def payment_batch_xlsx(batch: PaymentBatch) -> bytes:
    """The batch as the bank pays it: the payments of the batch still waiting to be paid, to the
    full account number (written as text, so a spreadsheet keeps all its digits). Payments
    already recorded as paid or failed are left out, so a file downloaded again and sent twice
    cannot pay anyone twice. For the finance bureau only."""
    payments = list(
        batch.payments.filter(status=Payment.Status.SCHEDULED)
        .select_related("application__measure__policy")
        .order_by("pk")
    )
    total = sum(p.amount_fen for p in payments)
    created = timezone.localtime(batch.created_at)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    head = book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1, "align": "center"})
    money = book.add_format({"num_format": MONEY_FORMAT})
    bold_money = book.add_format({"bold": True, "num_format": MONEY_FORMAT})
    text = book.add_format({"num_format": "@"})
    sheet = book.add_worksheet(_("支付批次"))
    for col, width in enumerate((6, 34, 24, 24, 16, 40, 10, 10)):
        sheet.set_column(col, col, width)
    summary: list[tuple[str, Any]] = [
        (_("批次号"), batch.number),
        (_("制单时间"), f"{chinese_date(created.date())} {created:%H:%M}"),
        (_("笔数"), len(payments)),
        (_("合计金额(元)"), _yuan_cell(total)),
    ]
    for row, (label, value) in enumerate(summary):
        sheet.write_string(row, 0, label, bold)
        if isinstance(value, str):
            sheet.write_string(row, 1, value)
        elif isinstance(value, float):
            sheet.write_number(row, 1, value, money)
        else:
            sheet.write_number(row, 1, value)
    header_row = len(summary) + 1
    headers = [
        _("序号"),
        _("收款单位"),
        _("开户银行"),
        _("银行账号"),
        _("金额(元)"),
        _("用途"),
        _("申请编号"),
        _("第几次支付"),
    ]
    for col, heading in enumerate(headers):
        sheet.write_string(header_row, col, heading, head)
    row = header_row
    for n, payment in enumerate(payments, start=1):
        row += 1
        sheet.write_number(row, 0, n)
        sheet.write_string(row, 1, payment.account_name)
        sheet.write_string(row, 2, payment.account_bank)
        sheet.write_string(row, 3, payment.account_no, text)
        sheet.write_number(row, 4, _yuan_cell(payment.amount_fen), money)
        sheet.write_string(row, 5, payment_purpose(payment))
        sheet.write_number(row, 6, payment.application_id)
        sheet.write_number(row, 7, payment.attempt)
    row += 1
    sheet.write_string(row, 1, _("合计"), bold)
    sheet.write_number(row, 4, _yuan_cell(total), bold_money)
    sheet.freeze_panes(header_row + 1, 0)
    book.close()
    return buffer.getvalue()


# --- the disbursement report --------------------------------------------------------------------


def disbursement_xlsx(rows: Sequence[DisbursementRow], year: int) -> bytes:
    """What was paid in `year` (资金兑现情况), per policy and measure and the budget year the
    money came from, with a subtotal per policy and a grand total, in 元 and 万元. Policies
    keep the order the caller gives; a policy's rows are gathered under it."""
    groups: dict[str, list[DisbursementRow]] = {}
    for r in rows:
        groups.setdefault(r["policy"], []).append(r)
    headers = [
        _("政策"),
        _("文号"),
        _("条款"),
        _("预算年度"),
        _("笔数"),
        _("兑现金额(元)"),
        _("兑现金额(万元)"),
    ]
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    title_format = book.add_format({"bold": True, "font_size": 14, "align": "center"})
    head = book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1, "align": "center"})
    money = book.add_format({"num_format": MONEY_FORMAT})
    bold = book.add_format({"bold": True})
    bold_money = book.add_format({"bold": True, "num_format": MONEY_FORMAT})
    subtotal_format = book.add_format({"bold": True, "bg_color": "#F7F7F7"})
    subtotal_money = book.add_format(
        {"bold": True, "bg_color": "#F7F7F7", "num_format": MONEY_FORMAT}
    )
    sheet = book.add_worksheet(_("资金兑现情况"))
    for col, width in enumerate((36, 22, 20, 10, 8, 18, 16)):
        sheet.set_column(col, col, width)
    sheet.merge_range(
        0, 0, 0, len(headers) - 1, _("%(year)d年资金兑现情况") % {"year": year}, title_format
    )
    for col, heading in enumerate(headers):
        sheet.write_string(1, col, heading, head)

    def sums(row: int, label: str, count: int, fen: int, text: Any, number: Any) -> None:
        sheet.write_string(row, 0, label, text)
        for col in (1, 2, 3):
            sheet.write_blank(row, col, None, text)
        sheet.write_number(row, 4, count, text)
        sheet.write_number(row, 5, _yuan_cell(fen), number)
        sheet.write_number(row, 6, _wan_cell(fen), number)

    row = 1
    for policy, items in groups.items():
        for item in items:
            row += 1
            sheet.write_string(row, 0, policy)
            sheet.write_string(row, 1, item["doc_number"])
            sheet.write_string(row, 2, item["measure"])
            sheet.write_number(row, 3, item["budget_year"])
            sheet.write_number(row, 4, item["count"])
            sheet.write_number(row, 5, _yuan_cell(item["paid_fen"]), money)
            sheet.write_number(row, 6, _wan_cell(item["paid_fen"]), money)
        row += 1
        sums(
            row,
            _("%(policy)s 小计") % {"policy": policy},
            sum(i["count"] for i in items),
            sum(i["paid_fen"] for i in items),
            subtotal_format,
            subtotal_money,
        )
    row += 1
    sums(
        row,
        _("合计"),
        sum(r["count"] for r in rows),
        sum(r["paid_fen"] for r in rows),
        bold,
        bold_money,
    )
    sheet.freeze_panes(2, 0)
    book.close()
    return buffer.getvalue()
