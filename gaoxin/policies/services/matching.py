"""Proactive matching (免申即享): every published measure (or one) against every enterprise in
one vectorised batch, recorded so it can be reproduced.

A run stores the facts it read as a Parquet snapshot with its SHA-256 and the rule versions it
evaluated; `match_run_verify` evaluates those versions on that snapshot again and compares the
result with the stored matches. Staff confirm matches (each becomes an application awaiting
the enterprise's account confirmation, then the usual review → notice → payment path) or
dismiss them with a reason."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from gaoxin.core import audit
from gaoxin.indicators.engine import query_frame
from gaoxin.policies.facts import enterprise_facts
from gaoxin.policies.measures import VOUCHER_CODES
from gaoxin.policies.models import (
    Application,
    ApplicationEvent,
    Match,
    MatchRun,
    Measure,
    Policy,
)
from gaoxin.policies.selectors import decide_measures
from gaoxin.policies.services.applications import CLOSED, check_in_force
from gaoxin.policies.services.ledger import user_or_none

S = Application.Status
INSERT_BATCH = 20_000  # rows per executemany


def active_measures(year: int, code: str | None = None) -> list[Measure]:
    """The measures of published policies in force during `year` (optionally of one type),
    except those paid as innovation vouchers (issued by the zone, not applied for)."""
    qs = (
        Measure.objects.filter(policy__status=Policy.Status.PUBLISHED)
        .exclude(code__in=VOUCHER_CODES)
        .filter(policy__effective_from__lte=dt.date(year, 12, 31))
        .exclude(policy__effective_to__lt=dt.date(year, 1, 1))
        .select_related("policy")
        .prefetch_related("versions")
        .order_by("policy_id", "order", "pk")
    )
    if code:
        qs = qs.filter(code=code)
    return list(qs)


@transaction.atomic
def match_run(*, year: int, acting_user: Any, code: str | None = None) -> MatchRun:
    """Runs the measures in force for `year` over every enterprise and records the run, its
    snapshot and its matches. Enterprises that already have a live application for a measure
    and year are matched too, but the match is marked dismissed with the reason (no
    enterprise is paid twice)."""
    started = time.perf_counter()
    measures = active_measures(year, code)
    if not measures:
        raise ValidationError(
            {"year": _("%(year)s年度没有可匹配的已发布政策条款") % {"year": year}}
        )
    chosen = [(m, m.current()) for m in measures]
    facts = enterprise_facts(year)
    buffer = io.BytesIO()
    facts.write_parquet(buffer, compression="zstd", statistics=False)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    matched = decide_measures(facts, chosen)
    run = MatchRun(
        year=year,
        measure=measures[0] if code and len(measures) == 1 else None,
        enterprises=facts.height,
        matches=matched.height,
        total_fen=int(matched["amount_fen"].sum() or 0),
        snapshot_sha256=digest,
        started_by=user_or_none(acting_user),
    )
    run.snapshot.save(f"{year}-{digest[:16]}.parquet", ContentFile(data), save=False)
    run.save()
    run.versions.set([v for _m, v in chosen])
    _insert_matches(run, matched, year)
    run.seconds = round(time.perf_counter() - started, 3)
    run.save(update_fields=["seconds"])
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.CREATE,
        obj=run,
        changes={
            "year": [None, year],
            "measures": [None, [m.pk for m, _v in chosen]],
            "rule_versions": [None, [v.version for _m, v in chosen]],
            "enterprises": [None, run.enterprises],
            "matches": [None, run.matches],
            "total_fen": [None, run.total_fen],
            "snapshot_sha256": [None, digest],
        },
    )
    return run


def _insert_matches(run: MatchRun, matched: pl.DataFrame, year: int) -> None:
    """Many rows at once, without building a model per row (bulk_create would, which costs
    more than the matching itself at a million enterprises): COPY on PostgreSQL, a prepared
    INSERT run over batches of rows on SQLite."""
    live = query_frame(
        Application.objects.filter(
            year=year, measure_id__in=matched["measure_id"].unique().to_list()
        )
        .exclude(status__in=CLOSED)
        .values_list("enterprise_id", "measure_id"),
        {"enterprise_id": pl.Int64, "measure_id": pl.Int64},
    ).with_columns(pl.lit(True).alias("live"))
    already = pl.col("live").fill_null(False)
    table = Match._meta.db_table
    columns = "run_id, enterprise_id, measure_id, version_id, amount_fen, facts, status, note"
    rows = (
        matched.join(live, on=["enterprise_id", "measure_id"], how="left")
        .select(
            pl.lit(run.pk, pl.Int64).alias("run_id"),
            "enterprise_id",
            "measure_id",
            "version_id",
            "amount_fen",
            "facts",
            pl.when(already)
            .then(pl.lit(str(Match.Status.DISMISSED)))
            .otherwise(pl.lit(str(Match.Status.PROPOSED)))
            .alias("status"),
            pl.when(already).then(pl.lit(str(_("已有申请")))).otherwise(pl.lit("")).alias("note"),
        )
        .rows()
    )
    if connection.vendor == "postgresql":
        # COPY: the fastest way into PostgreSQL (about ten times executemany).
        with connection.cursor() as cursor:
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    placeholders = ", ".join(["%s"] * 8)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_BATCH):
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608
                rows[start : start + INSERT_BATCH],
            )


@dataclass
class Verification:
    same: bool
    snapshot_intact: bool
    missing: int  # stored matches the evaluation no longer gives
    extra: int  # matches the evaluation gives that are not stored
    changed: int  # same pair, different amount


def match_run_verify(run: MatchRun) -> Verification:
    """Evaluates the run's rule versions on its stored snapshot again and compares the result
    with the stored matches. A run is reproducible when nothing differs."""
    with run.snapshot.open("rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != run.snapshot_sha256:
        return Verification(same=False, snapshot_intact=False, missing=0, extra=0, changed=0)
    facts = pl.read_parquet(io.BytesIO(data))
    versions = list(run.versions.select_related("measure"))
    again = decide_measures(facts, [(v.measure, v) for v in versions]).select(
        "enterprise_id", "measure_id", "amount_fen"
    )
    stored = pl.DataFrame(
        list(run.results.values_list("enterprise_id", "measure_id", "amount_fen")),
        schema={"enterprise_id": pl.Int64, "measure_id": pl.Int64, "amount_fen": pl.Int64},
        orient="row",
    )
    keys = ["enterprise_id", "measure_id"]
    joined = stored.join(again, on=keys, how="full", suffix="_again", coalesce=True)
    missing = joined.filter(pl.col("amount_fen_again").is_null()).height
    extra = joined.filter(pl.col("amount_fen").is_null()).height
    changed = joined.filter(
        pl.col("amount_fen").is_not_null()
        & pl.col("amount_fen_again").is_not_null()
        & (pl.col("amount_fen") != pl.col("amount_fen_again"))
    ).height
    return Verification(
        same=not (missing or extra or changed),
        snapshot_intact=True,
        missing=missing,
        extra=extra,
        changed=changed,
    )


@transaction.atomic
def match_confirm(*, matches: Iterable[Match], acting_user: Any) -> list[Application]:
    """Turns proposed matches into applications awaiting the enterprise: each records the
    run's rule version, facts and amount, and waits for the enterprise to confirm its
    receiving account (which submits it for review). A match whose enterprise meanwhile has a
    live application for the measure and year is dismissed instead."""
    created = []
    for match in matches:
        if match.status != Match.Status.PROPOSED:
            raise ValidationError(
                {"matches": _("“%(e)s”的匹配结果已处理") % {"e": match.enterprise.name}}
            )
        check_in_force(match.measure, match.run.year)
        exists = (
            Application.objects.filter(
                enterprise_id=match.enterprise_id, measure_id=match.measure_id, year=match.run.year
            )
            .exclude(status__in=CLOSED)
            .exists()
        )
        if exists:
            _set_match(match, Match.Status.DISMISSED, _("已有申请"), acting_user)
            continue
        # The match is claimed first (a conditional UPDATE): a second confirmation of the same
        # match is refused here rather than colliding on the application.
        _set_match(match, Match.Status.CONFIRMED, "", acting_user)
        try:
            with transaction.atomic():
                application = Application.objects.create(
                    enterprise_id=match.enterprise_id,
                    measure_id=match.measure_id,
                    year=match.run.year,
                    source=Application.Source.MATCHED,
                    version_id=match.version_id,
                    facts=match.facts,
                    eligible=True,
                    computed_fen=match.amount_fen,
                    account_name=match.enterprise.name,
                    match=match,
                )
        except IntegrityError as exc:  # the enterprise applied itself at this very moment
            raise ValidationError(
                {
                    "matches": _("“%(e)s”刚刚提交了该条款的申请,请刷新")
                    % {"e": match.enterprise.name}
                }
            ) from exc
        ApplicationEvent.objects.create(
            application=application,
            to_status=S.DRAFT,
            actor=user_or_none(acting_user),
            reason=_("免申即享:园区匹配批次 #%(run)s") % {"run": match.run_id},
        )
        audit.record(
            actor=acting_user,
            action=audit.AuditEntry.Action.CREATE,
            obj=application,
            changes={
                "source": [None, Application.Source.MATCHED],
                "match": [None, match.pk],
                "computed_fen": [None, match.amount_fen],
            },
            enterprise_id=match.enterprise_id,
        )
        created.append(application)
    return created


@transaction.atomic
def match_dismiss(*, matches: Iterable[Match], reason: str, acting_user: Any) -> int:
    """Decides not to offer proposed matches, with a reason."""
    if not reason.strip():
        raise ValidationError({"reason": _("请填写不予推送的理由")})
    count = 0
    for match in matches:
        if match.status == Match.Status.PROPOSED:
            _set_match(match, Match.Status.DISMISSED, reason.strip(), acting_user)
            count += 1
    return count


def _set_match(match: Match, status: str, note: str, acting_user: Any) -> None:
    touched = Match.objects.filter(pk=match.pk, status=Match.Status.PROPOSED).update(
        status=status, note=note[:200]
    )
    if touched != 1:
        raise ValidationError({"matches": _("匹配结果已被他人处理,请刷新")})
    audit.record(
        actor=acting_user,
        action=audit.AuditEntry.Action.UPDATE,
        obj=match,
        changes={"status": [Match.Status.PROPOSED, status], "note": [None, note or None]},
        enterprise_id=match.enterprise_id,
    )
    match.status = status
    match.note = note
