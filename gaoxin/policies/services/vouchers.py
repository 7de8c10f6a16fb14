"""Innovation vouchers (创新券): the zone issues a voucher to an eligible enterprise under a
创新券 measure and commits its face value in the ledger; registered service providers redeem it
against service contracts; the zone settles with each provider for what it has redeemed
(committed → paid); what is left when a voucher expires goes back to the budget.

Money steps are guarded by the database, never by a read followed by a write: the balance is
drawn down by one conditional UPDATE (status, validity and balance in its WHERE) that must
touch exactly one row, a contract is redeemed once per voucher and provider (a unique
constraint), and a redemption is settled once (a conditional UPDATE on `settlement IS NULL`)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from gaoxin.core import audit
from gaoxin.core.validators import normalise_code, uscc_error
from gaoxin.policies.models import (
    Account,
    LedgerEntry,
    Measure,
    Policy,
    Redemption,
    ServiceProvider,
    Settlement,
    Voucher,
)
from gaoxin.policies.selectors import decide_one
from gaoxin.policies.services import ledger
from gaoxin.policies.services.ledger import user_or_none
from gaoxin.policies.templatetags.money import yuan
from gaoxin.registry.models import Enterprise

VOUCHER_CODE = "innovation_voucher"
NUMBER_PREFIX = "CXQ"
V = Voucher.Status


# --- providers ------------------------------------------------------------------------------------


@transaction.atomic
def provider_register(
    *,
    name: str,
    uscc: str,
    account_bank: str,
    account_name: str,
    account_no: str,
    services: str = "",
    acting_user: Any,
) -> ServiceProvider:
    """Registers a service provider where vouchers may be redeemed. Refuses a missing name or
    account, an invalid credit code and a credit code already registered, naming each field."""
    code = normalise_code(uscc)
    account_no = account_no.replace(" ", "").strip()
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = _("请填写服务机构名称")
    problem = uscc_error(code)
    if problem:
        errors["uscc"] = problem
    else:
        clash = ServiceProvider.objects.filter(uscc=code).first()
        if clash is not None:
            errors["uscc"] = _("该信用代码已登记为服务机构“%(name)s”") % {"name": clash.name}
    if not account_bank.strip():
        errors["account_bank"] = _("请填写开户银行")
    if not account_name.strip():
        errors["account_name"] = _("请填写账户名称")
    if not account_no:
        errors["account_no"] = _("请填写银行账号")
    elif not account_no.isdigit():
        errors["account_no"] = _("银行账号只能包含数字")
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            provider = ServiceProvider.objects.create(
                name=name.strip()[:200],
                uscc=code,
                services=services.strip()[:200],
                account_bank=account_bank.strip()[:100],
                account_name=account_name.strip()[:100],
                account_no=account_no[:40],
            )
    except IntegrityError as exc:  # the same provider registered twice at once
        raise ValidationError({"uscc": _("该信用代码已登记为服务机构")}) from exc
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=provider,
        changes={
            "name": [None, provider.name],
            "uscc": [None, provider.uscc],
            "account_no": [None, provider.account_no],
        },
    )
    return provider


# --- issuing --------------------------------------------------------------------------------------


def _held_fen(enterprise: Enterprise, measure: Measure, year: int) -> int:
    """What the enterprise holds under the measure for the year: the face value of its active
    vouchers and what it used of released ones (their rest went back to the budget)."""
    held = Voucher.objects.filter(enterprise=enterprise, measure=measure, year=year).aggregate(
        active=Sum("amount_fen", filter=Q(status=V.ACTIVE)),
        used=Sum("redeemed_fen", filter=Q(status=V.RELEASED)),
    )
    return int(held["active"] or 0) + int(held["used"] or 0)


def _next_number(year: int) -> str:
    prefix = f"{NUMBER_PREFIX}-{year}-"
    last = Voucher.objects.filter(number__startswith=prefix).aggregate(m=Max("number"))["m"]
    serial = int(last.rsplit("-", 1)[-1]) + 1 if last else 1
    return f"{prefix}{serial:06d}"


@transaction.atomic
def voucher_issue(
    *,
    enterprise: Enterprise,
    measure: Measure,
    year: int,
    amount_fen: int,
    valid_from: dt.date,
    valid_to: dt.date,
    acting_user: Any,
) -> Voucher:
    """Issues a voucher numbered CXQ-<year>-<serial> and commits its amount in the ledger.

    Refused unless the measure is a 创新券 measure of a published policy in force in `year`,
    the enterprise qualifies under the measure's current rule on its records for `year`, the
    amount is positive and within what the rule grants the enterprise for the year (less what
    it already holds), the period is ordered, and the measure's remaining budget covers it.
    The budget row is locked first, so two issues at once cannot both spend the last of it."""
    errors: dict[str, str] = {}
    if measure.code != VOUCHER_CODE:
        errors["measure"] = _("“%(name)s”不是创新券条款") % {"name": measure.name}
    elif measure.policy.status != Policy.Status.PUBLISHED:
        errors["measure"] = _("该政策未发布或已废止,不能发放创新券")
    else:
        policy = measure.policy
        if year < policy.effective_from.year or (
            policy.effective_to is not None and year > policy.effective_to.year
        ):
            errors["year"] = _("%(year)s年度不在该政策的施行期内") % {"year": year}
    if amount_fen <= 0:
        errors["amount_fen"] = _("面额应大于0")
    if valid_to < valid_from:
        errors["valid_to"] = _("有效期截止日期不能早于开始日期")
    if errors:
        raise ValidationError(errors)

    ledger.lock_budget(measure, year)
    decision = decide_one(enterprise, measure, year)
    if not decision.eligible:
        raise ValidationError(
            {
                "enterprise": _(
                    "“%(name)s”%(year)s年度不是有效期内的科技型中小企业或高新技术企业,"
                    "不能领取创新券"
                )
                % {"name": enterprise.name, "year": year}
            }
        )
    held = _held_fen(enterprise, measure, year)
    if held + amount_fen > decision.amount_fen:
        raise ValidationError(
            {
                "amount_fen": _(
                    "超出该企业%(year)s年度创新券额度:额度%(limit)s元,已发放%(held)s元,"
                    "本次%(amount)s元"
                )
                % {
                    "year": year,
                    "limit": yuan(decision.amount_fen),
                    "held": yuan(held),
                    "amount": yuan(amount_fen),
                }
            }
        )

    voucher = None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                voucher = Voucher.objects.create(
                    number=_next_number(year),
                    enterprise=enterprise,
                    measure=measure,
                    year=year,
                    amount_fen=amount_fen,
                    valid_from=valid_from,
                    valid_to=valid_to,
                    issued_by=user_or_none(acting_user),
                )
            break
        except IntegrityError:  # another issue took the number: take the next one
            continue
    if voucher is None:
        raise ValidationError({"__all__": _("券号分配冲突,请重试")})
    ledger.commit(
        measure=measure,
        year=year,
        amount_fen=amount_fen,
        posted_on=timezone.localdate(),
        acting_user=acting_user,
        voucher=voucher,
        memo=_("发放创新券 %(number)s %(e)s") % {"number": voucher.number, "e": enterprise.name},
    )
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=voucher,
        changes={
            "number": [None, voucher.number],
            "measure": [None, measure.pk],
            "year": [None, year],
            "amount_fen": [None, amount_fen],
            "valid_from": [None, valid_from.isoformat()],
            "valid_to": [None, valid_to.isoformat()],
            "version": [None, decision.version.version],
        },
        enterprise_id=enterprise.pk,
    )
    return voucher


# --- redeeming ------------------------------------------------------------------------------------


def _same_contract(
    earlier: Redemption, voucher: Voucher, provider: ServiceProvider, contract_no: str, amount: int
) -> tuple[Redemption, bool]:
    if (earlier.voucher_id, earlier.provider_id, earlier.contract_no) != (
        voucher.pk,
        provider.pk,
        contract_no,
    ):
        raise ValidationError({"idempotency_key": _("该幂等键已用于另一笔创新券使用")})
    if earlier.amount_fen != amount:
        raise ValidationError(
            {
                "amount_fen": _("合同%(contract)s已按%(earlier)s元登记使用,不能改为%(amount)s元")
                % {
                    "contract": contract_no,
                    "earlier": yuan(earlier.amount_fen),
                    "amount": yuan(amount),
                }
            }
        )
    return earlier, False


def _earlier(
    voucher: Voucher, provider: ServiceProvider, contract_no: str, idempotency_key: str | None
) -> Redemption | None:
    if idempotency_key:
        keyed = Redemption.objects.filter(idempotency_key=idempotency_key).first()
        if keyed is not None:
            return keyed
    return Redemption.objects.filter(
        voucher=voucher, provider=provider, contract_no=contract_no
    ).first()


def _why_not_redeemable(voucher: Voucher, day: dt.date, amount_fen: int) -> str:
    voucher.refresh_from_db()
    if voucher.status != V.ACTIVE:
        return _("创新券%(number)s已收回余额,不能再使用") % {"number": voucher.number}
    if not voucher.valid_from <= day <= voucher.valid_to:
        return _("%(day)s不在创新券%(number)s的有效期(%(start)s至%(end)s)内") % {
            "day": day.isoformat(),
            "number": voucher.number,
            "start": voucher.valid_from.isoformat(),
            "end": voucher.valid_to.isoformat(),
        }
    return _("创新券%(number)s余额不足:余额%(left)s元,本次%(amount)s元") % {
        "number": voucher.number,
        "left": yuan(voucher.balance_fen),
        "amount": yuan(amount_fen),
    }


@transaction.atomic
def voucher_redeem(
    *,
    voucher: Voucher,
    provider: ServiceProvider,
    contract_no: str,
    service: str,
    amount_fen: int,
    redeemed_on: dt.date,
    acting_user: Any,
    idempotency_key: str | None = None,
) -> tuple[Redemption, bool]:
    """Records a voucher used against a provider's service contract and draws its balance down.

    Exactly once: the same voucher, provider and contract again with the same amount (or the
    same `idempotency_key` for the same request) returns (the earlier redemption, False) and
    changes nothing; a different amount for that contract, or the key reused for another
    request, is refused. The balance moves by one conditional UPDATE whose WHERE holds the
    status, the validity on `redeemed_on` and the balance, so concurrent redemptions can never
    take it below zero; when it touches no row the redemption is refused saying why (balance,
    validity or released). The provider must be active."""
    contract_no = contract_no.strip()
    service = service.strip()
    idempotency_key = (idempotency_key or "").strip() or None
    errors: dict[str, str] = {}
    if not contract_no:
        errors["contract_no"] = _("请填写服务合同编号")
    if not service:
        errors["service"] = _("请填写服务内容")
    if amount_fen <= 0:
        errors["amount_fen"] = _("抵扣金额应大于0")
    if errors:
        raise ValidationError(errors)
    earlier = _earlier(voucher, provider, contract_no, idempotency_key)
    if earlier is not None:
        return _same_contract(earlier, voucher, provider, contract_no, amount_fen)
    if not provider.active:
        raise ValidationError({"provider": _("服务机构“%(name)s”已停用") % {"name": provider.name}})

    try:
        with transaction.atomic():
            redemption = Redemption.objects.create(
                voucher=voucher,
                provider=provider,
                contract_no=contract_no[:60],
                service=service[:200],
                amount_fen=amount_fen,
                redeemed_on=redeemed_on,
                idempotency_key=idempotency_key,
                recorded_by=user_or_none(acting_user),
            )
    except IntegrityError:  # the same request at the same moment: it won, answer as it
        earlier = _earlier(voucher, provider, contract_no, idempotency_key)
        if earlier is None:
            raise
        return _same_contract(earlier, voucher, provider, contract_no, amount_fen)

    touched = Voucher.objects.filter(
        pk=voucher.pk,
        status=V.ACTIVE,
        valid_from__lte=redeemed_on,
        valid_to__gte=redeemed_on,
        redeemed_fen__lte=F("amount_fen") - amount_fen,
    ).update(redeemed_fen=F("redeemed_fen") + amount_fen)
    if touched != 1:
        # Raising undoes the redemption row written above with the whole transaction.
        raise ValidationError({"amount_fen": _why_not_redeemable(voucher, redeemed_on, amount_fen)})
    voucher.refresh_from_db(fields=["redeemed_fen"])
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=redemption,
        changes={
            "voucher": [None, voucher.number],
            "provider": [None, provider.pk],
            "contract_no": [None, redemption.contract_no],
            "amount_fen": [None, amount_fen],
            "redeemed_on": [None, redeemed_on.isoformat()],
            "redeemed_fen": [voucher.redeemed_fen - amount_fen, voucher.redeemed_fen],
        },
        enterprise_id=voucher.enterprise_id,
    )
    return redemption, True


# --- settling and releasing -----------------------------------------------------------------------


@transaction.atomic
def settlement_create(
    *,
    provider: ServiceProvider,
    paid_on: dt.date,
    bank_reference: str,
    acting_user: Any,
    expected_ids: Sequence[int] | None = None,
) -> Settlement:
    """Pays a provider for every redemption not yet settled: one settlement for their total,
    and per voucher involved one PAYMENT entry moving the money committed → paid (so what was
    paid is attributed to the enterprise that held the voucher). Each redemption is settled
    once: it is claimed by a conditional UPDATE on `settlement IS NULL`, and if another
    settlement claimed any of them first the whole settlement is refused. Refused when nothing
    is unsettled, and for the person who recorded any of the redemptions (who records does not
    pay)."""
    pending = list(
        Redemption.objects.filter(provider=provider, settlement__isnull=True)
        .select_related("voucher__measure")
        .order_by("pk")
    )
    if not pending:
        raise ValidationError(
            {"provider": _("服务机构“%(name)s”没有待结算的创新券使用") % {"name": provider.name}}
        )
    if expected_ids is not None and sorted(expected_ids) != [r.pk for r in pending]:
        # What the payer saw is not what is pending now (a redemption was recorded meanwhile):
        # the bank was told another total.
        raise ValidationError(
            {"provider": _("待结算的使用记录已有变化,请刷新页面核对金额后再结算")}
        )
    user_id = getattr(acting_user, "pk", None)
    if user_id is not None and any(r.recorded_by_id == user_id for r in pending):
        raise ValidationError({"provider": _("结算经办人不能是创新券使用的登记人")})
    total = sum(r.amount_fen for r in pending)
    settlement = Settlement.objects.create(
        provider=provider,
        total_fen=total,
        paid_on=paid_on,
        bank_reference=bank_reference.strip()[:60],
        created_by=user_or_none(acting_user),
    )
    ids = [r.pk for r in pending]
    claimed = Redemption.objects.filter(pk__in=ids, settlement__isnull=True).update(
        settlement=settlement
    )
    if claimed != len(ids):
        raise ValidationError({"provider": _("部分创新券使用已被他人结算,请刷新后重试")})
    # One PAYMENT entry per voucher, so the money paid is attributed to the enterprise that
    # held the voucher (the disbursement report and `policy_paid_total` count it there).
    by_voucher: dict[int, int] = defaultdict(int)
    vouchers: dict[int, Voucher] = {}
    for r in pending:
        vouchers[r.voucher_id] = r.voucher
        by_voucher[r.voucher_id] += r.amount_fen
    for voucher_pk, amount in sorted(by_voucher.items()):
        voucher = vouchers[voucher_pk]
        ledger.post(
            kind=LedgerEntry.Kind.PAYMENT,
            measure=voucher.measure,
            year=voucher.year,
            lines=[(Account.COMMITTED, -amount), (Account.PAID, amount)],
            posted_on=paid_on,
            acting_user=acting_user,
            voucher=voucher,
            memo=_("创新券结算 %(p)s") % {"p": provider.name},
        )
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=settlement,
        changes={
            "provider": [None, provider.pk],
            "total_fen": [None, total],
            "paid_on": [None, paid_on.isoformat()],
            "redemptions": [None, ids],
        },
    )
    return settlement


@transaction.atomic
def voucher_release(*, voucher: Voucher, acting_user: Any, today: dt.date | None = None) -> Voucher:
    """Once a voucher has expired (after `valid_to`), marks it released and returns its
    unredeemed balance to the measure's budget (a RELEASE entry, committed → available).
    Once: the status moves active → released by a conditional UPDATE that only one caller
    wins, and a released voucher can no longer be redeemed."""
    today = today or timezone.localdate()
    if today <= voucher.valid_to:
        raise ValidationError(
            {
                "status": _("创新券有效期至%(end)s,到期后才能收回余额")
                % {"end": voucher.valid_to.isoformat()}
            }
        )
    touched = Voucher.objects.filter(pk=voucher.pk, status=V.ACTIVE, valid_to__lt=today).update(
        status=V.RELEASED
    )
    if touched != 1:
        raise ValidationError({"status": _("该创新券余额已收回")})
    voucher.refresh_from_db()
    left = voucher.balance_fen
    if left > 0:
        ledger.post(
            kind=LedgerEntry.Kind.RELEASE,
            measure=voucher.measure,
            year=voucher.year,
            lines=[(Account.COMMITTED, -left), (Account.AVAILABLE, left)],
            posted_on=today,
            acting_user=acting_user,
            voucher=voucher,
            memo=_("创新券%(number)s到期收回余额") % {"number": voucher.number},
        )
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.UPDATE,
        obj=voucher,
        changes={"status": [V.ACTIVE, V.RELEASED], "released_fen": [None, left]},
        enterprise_id=voucher.enterprise_id,
    )
    return voucher
