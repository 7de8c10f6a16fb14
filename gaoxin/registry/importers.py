"""The enterprise import: which columns the template has, what each accepts, where rows go.

Rows become the same values `registry.services` would store (normalised USCC, pinyin initials,
former names joined by ";"); checks are polars expressions over whole columns, so a 200k-row
file validates in about a second. The generic machinery lives in gaoxin.core.imports.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from typing import Any

import polars as pl
from django.utils import translation
from django.utils.translation import gettext as _

from gaoxin.core.imports import (
    ROW,
    Checks,
    Column,
    ImportContext,
    Importer,
    SheetSpec,
    UpsertTarget,
    char_map,
    load_existing,
    lookup,
    parse_date,
    parse_decimal,
    split_list,
)
from gaoxin.core.text import pinyin_initials
from gaoxin.core.validators import uscc_check_expr, uscc_error
from gaoxin.registry.models import (
    EmergingCategory,
    Enterprise,
    Grid,
    IndustryCategory,
    IndustryChain,
    Qualification,
)

ENTERPRISES = "enterprises"
QUALIFICATIONS = "qualifications"

# Every sheet that names enterprises by credit code (here and in other apps' imports) reads it
# from this column; `dataclasses.replace` adapts the help text.
USCC_COLUMN = Column(
    "统一社会信用代码",
    "uscc",
    required=True,
    aliases=("社会信用代码", "信用代码", "统一代码", "USCC"),
    help="必填,18位,校验位须正确",
    example="91450211MA5KXXXX0X",
)

ENTERPRISE_COLUMNS = (
    Column(
        "企业名称",
        "name",
        required=True,
        aliases=("单位名称", "公司名称", "企业(单位)名称"),
        help="必填,不超过120字",
        example="柳州示例汽车零部件有限公司",
    ),
    replace(USCC_COLUMN, help="必填,18位,校验位须正确;重复导入按此代码更新"),
    Column(
        "曾用名",
        "former_names",
        aliases=("曾用名称", "原名称"),
        help="多个曾用名用;或、分隔",
        example="柳州示例配件厂",
    ),
    Column(
        "成立日期",
        "founded_on",
        aliases=("成立时间", "注册日期", "设立日期"),
        help="如 2019-03-01、2019/3/1、2019年3月1日;不能晚于今天",
        example="2019-03-01",
    ),
    Column(
        "注册资本(万元)",
        "registered_capital",
        aliases=("注册资本", "注册资金(万元)", "注册资金"),
        help="万元,不小于0,最多4位小数",
        example="1000",
    ),
    Column(
        "行业代码",
        "industry",
        aliases=("国民经济行业代码", "所属行业代码", "行业分类代码"),
        help="GB/T 4754-2017 代码,如 3670 或 C3670",
        example="3670",
    ),
    Column(
        "战略性新兴产业类别",
        "sei_category",
        aliases=("战新类别", "战略性新兴产业", "战略性新兴产业分类"),
        help="1-9 的代码或类别名称,可空",
        example="5",
    ),
    Column("产业链", "chain", aliases=("所属产业链",), help="产业链名称或代码,可空", example=""),
    Column("所在网格", "grid", aliases=("网格", "所属网格"), help="网格名称或代码,可空"),
    Column(
        "企业状态",
        "status",
        aliases=("经营状态", "登记状态"),
        help="存续(在业)、迁出、停业、注销、吊销;空白:新企业为存续,已有企业不变",
        example="存续",
    ),
    Column("企业规模", "size", aliases=("规模",), help="大型、中型、小型、微型", example="小型"),
    Column("法定代表人", "legal_representative", aliases=("法人代表", "法人"), example="张三"),
    Column("注册地址", "address", aliases=("住所", "地址", "企业地址"), example=""),
    Column("联系人", "contact_name", aliases=("企业联系人",), example=""),
    Column("联系电话", "contact_phone", aliases=("电话", "联系方式"), example=""),
    Column(
        "链上位置",
        "chain_position",
        aliases=("产业链位置", "链上环节"),
        help="链主企业、上游、中游、下游、配套服务",
        example="",
    ),
)

QUALIFICATION_COLUMNS = (
    replace(USCC_COLUMN, help="必填,须是库中或本文件企业表中的企业"),
    Column("企业名称", "name", aliases=("单位名称", "公司名称"), help="仅供核对,不导入"),
    Column(
        "资质类型",
        "kind",
        required=True,
        aliases=("资质", "资质名称", "认定类型"),
        help="高新技术企业(高企)、科技型中小企业(科小)、瞪羚企业、专精特新企业、"
        "规模以上工业企业(规上)、广西智能工厂示范企业、研发机构",
        example="高新技术企业",
    ),
    Column(
        "级别",
        "level",
        aliases=("资质级别", "认定级别"),
        help="国家级、自治区级、市级,可空",
        example="国家级",
    ),
    Column(
        "机构类型",
        "subtype",
        aliases=("研发机构类型",),
        help="研发机构必填,如 企业技术中心、工程技术研究中心",
    ),
    Column("证书编号", "certificate_no", aliases=("证书号", "编号"), example="GR202145000123"),
    Column(
        "认定日期",
        "recognised_on",
        required=True,
        aliases=("认定时间", "发证日期", "获批日期"),
        help="必填",
        example="2021-12-15",
    ),
    Column(
        "有效期至",
        "valid_until",
        aliases=("有效期截止", "到期日期", "有效期", "截止日期"),
        help="空白时按资质类型推算(高企3年;科小、规上当年年底)",
        example="",
    ),
    Column("备注", "notes", help="不超过200字"),
)

STATUS_ALIASES = {
    "在业": Enterprise.Status.OPERATING,
    "在营": Enterprise.Status.OPERATING,
    "开业": Enterprise.Status.OPERATING,
    "正常": Enterprise.Status.OPERATING,
    "存续(在营、开业、在册)": Enterprise.Status.OPERATING,
    "歇业": Enterprise.Status.SUSPENDED,
    "吊销未注销": Enterprise.Status.REVOKED,
    "已注销": Enterprise.Status.DEREGISTERED,
    "已迁出": Enterprise.Status.MOVED_OUT,
}
SIZE_ALIASES = {"大": "large", "中": "medium", "小": "small", "微": "micro", "小微": "micro"}
POSITION_ALIASES = {"链主": "leader", "龙头": "leader", "配套": "support"}
KIND_ALIASES = {
    "高企": Qualification.Kind.HIGH_TECH,
    "国家高新技术企业": Qualification.Kind.HIGH_TECH,
    "国家级高新技术企业": Qualification.Kind.HIGH_TECH,
    "科小": Qualification.Kind.TECH_SME,
    "科技型中小企业入库": Qualification.Kind.TECH_SME,
    "瞪羚": Qualification.Kind.GAZELLE,
    "专精特新": Qualification.Kind.SRDI,
    "专精特新中小企业": Qualification.Kind.SRDI,
    "专精特新小巨人": Qualification.Kind.SRDI,
    "专精特新“小巨人”企业": Qualification.Kind.SRDI,
    "规上": Qualification.Kind.ABOVE_SCALE,
    "规上企业": Qualification.Kind.ABOVE_SCALE,
    "规上工业企业": Qualification.Kind.ABOVE_SCALE,
    "规模以上": Qualification.Kind.ABOVE_SCALE,
    "智能工厂": Qualification.Kind.SMART_FACTORY,
    "智能工厂示范企业": Qualification.Kind.SMART_FACTORY,
}
# An R&D institution type typed as the kind: the type goes to 机构类型.
RD_SUBTYPES = ("企业技术中心", "工程技术研究中心", "重点实验室", "工程研究中心", "新型研发机构")
LEVEL_ALIASES = {
    "国家": "national",
    "省级": "provincial",
    "省": "provincial",
    "自治区": "provincial",
    "市": "municipal",
}


def _choices(choices: Any, extra: dict[str, str]) -> dict[str, str]:
    """Cell text -> stored value. The Chinese labels are always accepted (the template and the
    zone's own spreadsheets use them), and so are the labels of the user's current language."""
    out: dict[str, str] = {}
    for language in ("en", translation.get_language() or "zh-hans", "zh-hans"):
        with translation.override(language):
            out.update({str(label): value for value, label in choices if value})
    out.update({value: value for value, _label in choices if value})
    out.update({k: str(v) for k, v in extra.items()})
    return out


def _normalised_uscc(expr: pl.Expr) -> pl.Expr:
    # Same as validators.normalise_code: full-width folded, spaces and hyphens dropped, upper.
    return expr.str.normalize("NFKC").str.replace_all(r"[\s\-]", "").str.to_uppercase()


def check_uscc(checks: Checks) -> None:
    """USCC present, well formed, check digit right (the reason from validators.uscc_error),
    computed vectorised; only the failing values go through the single-value path."""
    checks.required("uscc", _("统一社会信用代码不能为空"))
    checks.with_columns(_normalised_uscc(pl.col("uscc")).alias("_uscc"))
    checks.with_columns(uscc_check_expr(pl.col("_uscc")).alias("_uscc_ok"))
    bad = checks.frame.filter(pl.col("uscc").is_not_null() & ~pl.col("_uscc_ok"))
    if bad.height:
        reasons = {v: uscc_error(v) or "" for v in bad.get_column("uscc").unique().to_list()}
        checks.add_rows(
            bad.select(
                pl.col(ROW),
                pl.lit("uscc").alias("column"),
                pl.col("uscc").alias("value"),
                pl.col("uscc").replace_strict(reasons, return_dtype=pl.String).alias("reason"),
            )
        )


def _text(checks: Checks, key: str, limit: int, label: str) -> pl.Expr | None:
    if not checks.has(key):
        return None
    checks.max_length(key, limit, _("%(label)s不能超过%(n)d个字") % {"label": label, "n": limit})
    return pl.col(key).fill_null("").alias(key)


def _mapped(
    checks: Checks, key: str, mapping: dict[str, Any], reason: str, *, dtype: pl.DataType
) -> pl.Expr:
    """Adds `_<key>` = the mapped value (null when unknown) and an error for unknown values."""
    checks.with_columns(lookup(pl.col(key), mapping, dtype=dtype).alias(f"_{key}"))
    checks.add(
        pl.col(key).is_not_null() & pl.col(f"_{key}").is_null(),
        column=key,
        reason=pl.format(reason, pl.col(key)),
    )
    return pl.col(f"_{key}")


def _code_or_name_map(rows: list[tuple[int, str, str]]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    for pk, code, name in rows:
        mapping[name] = pk
        mapping[code] = pk
        mapping[f"{code}{name}"] = pk
        if name.endswith("产业") and len(name) > 3:
            mapping[name[: -len("产业")]] = pk
    return mapping


def validate_enterprises(checks: Checks, ctx: ImportContext) -> pl.DataFrame:
    """Enterprise rows -> Enterprise column values (FKs as ids); errors name row, column, value.

    Parsing happens in one `with_columns` (polars runs the expressions in parallel); the checks
    then compare ready columns.
    """
    has = checks.has
    names = checks.frame.get_column("name")
    parsed: dict[str, pl.Expr] = {
        "_initials": char_map(pl.col("name"), pinyin_initials, values=names).str.slice(0, 200),
    }
    if has("former_names"):
        parsed["_former"] = split_list(pl.col("former_names")).fill_null("")
    if has("founded_on"):
        parsed["_founded"] = parse_date(pl.col("founded_on"))
    if has("registered_capital"):
        parsed["_capital"] = parse_decimal(pl.col("registered_capital"), places=4)
    if has("industry"):
        codes = dict(IndustryCategory.objects.values_list("code", "id"))
        code = (
            pl.col("industry")
            .str.normalize("NFKC")
            .str.strip_chars()
            .str.to_uppercase()
            .str.extract(r"^([A-Z]?\d+|[A-Z])(?:\s|$)", 1)
            .str.replace(r"^[A-Z](\d+)$", "$1")
        )
        parsed["_industry"] = code.replace_strict(codes, default=None, return_dtype=pl.Int64)
    if has("sei_category"):
        sei_map = _code_or_name_map(
            list(EmergingCategory.objects.values_list("id", "code", "name"))
        )
        sei_text = pl.col("sei_category").str.replace(r"^(\d)\s*[、.．\s]\s*.*$", "$1")
        parsed["_sei"] = lookup(sei_text, sei_map, dtype=pl.Int64())
    checks.with_columns(**parsed)

    checks.required("name", _("企业名称不能为空"))
    checks.max_length("name", 120, _("企业名称不能超过120个字"))
    check_uscc(checks)
    checks.unique(
        ["_uscc"],
        column="uscc",
        reason=_("统一社会信用代码与第{first}行重复"),
        reason_first=_("统一社会信用代码在文件中重复出现(另见第{other}行)"),
    )
    out: list[pl.Expr] = [
        pl.col(ROW),
        pl.col("_uscc").alias("uscc"),
        pl.col("name"),
        pl.col("_initials").alias("name_initials"),
    ]
    if has("former_names"):
        checks.add(
            pl.col("_former").str.len_chars() > 500,
            column="former_names",
            reason=_("曾用名合计不能超过500个字"),
        )
        out.append(pl.col("_former").alias("former_names"))
    if has("founded_on"):
        checks.add(
            pl.col("founded_on").is_not_null() & pl.col("_founded").is_null(),
            column="founded_on",
            reason=_("成立日期无法识别,请写成 2019-03-01 这样的日期"),
        )
        checks.add(
            pl.col("_founded") > pl.lit(ctx.today),
            column="founded_on",
            reason=_("成立日期不能晚于今天"),
        )
        out.append(pl.col("_founded").alias("founded_on"))
    if has("registered_capital"):
        capital = pl.col("_capital")
        checks.add(
            pl.col("registered_capital").is_not_null() & capital.is_null(),
            column="registered_capital",
            reason=_("注册资本应为数字(单位:万元)"),
        )
        checks.add(
            capital.str.starts_with("-"),
            column="registered_capital",
            reason=_("注册资本不能为负数"),
        )
        checks.add(
            capital.str.extract(r"^-?(\d+)", 1).str.len_chars() > 12,
            column="registered_capital",
            reason=_("注册资本超出范围(最多12位整数)"),
        )
        out.append(capital.alias("registered_capital"))
    if has("industry"):
        checks.add(
            pl.col("industry").is_not_null() & pl.col("_industry").is_null(),
            column="industry",
            reason=pl.format(
                _("行业代码“{}”不在国民经济行业分类(GB/T 4754-2017)中"), pl.col("industry")
            ),
        )
        out.append(pl.col("_industry").alias("industry_id"))
    if has("sei_category"):
        checks.add(
            pl.col("sei_category").is_not_null() & pl.col("_sei").is_null(),
            column="sei_category",
            reason=pl.format(
                _("战略性新兴产业类别“{}”无法识别,请填1-9的代码或类别名称"),
                pl.col("sei_category"),
            ),
        )
        # A blank cell keeps the enterprise's category (keep_when_null); sei_status is set by
        # _sei_review_state once the stored categories are known.
        out.append(pl.col("_sei").alias("sei_category_id"))
    if has("chain"):
        chain_map = _code_or_name_map(list(IndustryChain.objects.values_list("id", "code", "name")))
        chain = _mapped(
            checks,
            "chain",
            chain_map,
            _("产业链“{}”不存在,请填写系统中已有的产业链名称"),
            dtype=pl.Int64(),
        )
        out.append(chain.alias("chain_id"))
    if has("grid"):
        grid_map = _code_or_name_map(list(Grid.objects.values_list("id", "code", "name")))
        grid = _mapped(
            checks,
            "grid",
            grid_map,
            _("网格“{}”不存在,请填写系统中已有的网格名称或代码"),
            dtype=pl.Int64(),
        )
        out.append(grid.alias("grid_id"))
    if has("status"):
        status = _mapped(
            checks,
            "status",
            _choices(Enterprise.Status.choices, STATUS_ALIASES),
            _("企业状态“{}”无法识别,可填:存续、迁出、停业、注销、吊销"),
            dtype=pl.String(),
        )
        out.append(status.alias("status"))
    if has("size"):
        size = _mapped(
            checks,
            "size",
            _choices(Enterprise.Size.choices, SIZE_ALIASES),
            _("企业规模“{}”无法识别,可填:大型、中型、小型、微型"),
            dtype=pl.String(),
        )
        out.append(size.fill_null("").alias("size"))
    if has("chain_position"):
        position = _mapped(
            checks,
            "chain_position",
            _choices(Enterprise.ChainPosition.choices, POSITION_ALIASES),
            _("链上位置“{}”无法识别,可填:链主企业、上游、中游、下游、配套服务"),
            dtype=pl.String(),
        )
        out.append(position.fill_null("").alias("chain_position"))
    for key, limit, label in (
        ("legal_representative", 60, _("法定代表人")),
        ("address", 200, _("注册地址")),
        ("contact_name", 60, _("联系人")),
        ("contact_phone", 30, _("联系电话")),
    ):
        expr = _text(checks, key, limit, label)
        if expr is not None:
            out.append(expr)
    return checks.frame.select(out)


def validate_qualifications(checks: Checks, ctx: ImportContext) -> pl.DataFrame:
    """Qualification rows -> Qualification values keyed by (enterprise, kind, subtype, date)."""
    check_uscc(checks)
    frame = checks.frame
    known = (
        set(
            Enterprise.objects.filter(
                uscc__in=frame.get_column("_uscc").drop_nulls().unique().to_list()
            ).values_list("uscc", flat=True)
        )
        if frame.height <= 50_000
        else set(Enterprise.objects.values_list("uscc", flat=True))
    )
    in_file = ctx.valid.get(ENTERPRISES, pl.DataFrame(schema={"uscc": pl.String}))
    known |= set(in_file.get_column("uscc").to_list())
    rejected = ctx.rejected.get(ENTERPRISES, pl.DataFrame(schema={"_uscc": pl.String}))
    rejected_keys = set(rejected.get_column("_uscc").drop_nulls().to_list()) - known
    valid_uscc = pl.col("_uscc_ok")
    checks.add(
        valid_uscc & pl.col("_uscc").is_in(list(rejected_keys)),
        column="uscc",
        reason=_("该企业在企业表中的行未通过校验,其资质不能导入"),
    )
    checks.add(
        valid_uscc & ~pl.col("_uscc").is_in(list(known | rejected_keys)),
        column="uscc",
        reason=_("该统一社会信用代码对应的企业不存在,请先导入企业"),
    )

    checks.required("kind", _("资质类型不能为空"))
    kinds = _choices(Qualification.Kind.choices, KIND_ALIASES)
    kinds.update({name: Qualification.Kind.RD_INSTITUTION.value for name in RD_SUBTYPES})
    kind = lookup(pl.col("kind"), kinds, dtype=pl.String())
    checks.add(
        pl.col("kind").is_not_null() & kind.is_null(),
        column="kind",
        reason=pl.format(
            _(
                "资质类型“{}”无法识别,可填:高新技术企业、科技型中小企业、瞪羚企业、专精特新企业、"
                "规模以上工业企业、广西智能工厂示范企业、研发机构"
            ),
            pl.col("kind"),
        ),
    )
    subtype = pl.col("subtype") if checks.has("subtype") else pl.lit(None, pl.String)
    rd_named = pl.col("kind").is_in(list(RD_SUBTYPES))
    subtype = pl.when(subtype.is_null() & rd_named).then(pl.col("kind")).otherwise(subtype)
    checks.with_columns(kind.alias("_kind"), subtype.fill_null("").alias("_subtype"))
    checks.add(
        (pl.col("_kind") == Qualification.Kind.RD_INSTITUTION) & (pl.col("_subtype") == ""),
        column="subtype" if checks.has("subtype") else "kind",
        value=pl.lit(""),
        reason=_("研发机构须填写机构类型(如企业技术中心)"),
    )
    checks.add(
        pl.col("_subtype").str.len_chars() > 40,
        column="subtype",
        reason=_("机构类型不能超过40个字"),
    )

    checks.required("recognised_on", _("认定日期不能为空"))
    recognised = parse_date(pl.col("recognised_on"))
    checks.add(
        pl.col("recognised_on").is_not_null() & recognised.is_null(),
        column="recognised_on",
        reason=_("认定日期无法识别,请写成 2021-12-15 这样的日期"),
    )
    checks.add(
        recognised > pl.lit(ctx.today), column="recognised_on", reason=_("认定日期不能晚于今天")
    )
    checks.with_columns(recognised.alias("_recognised"))
    stated = (
        parse_date(pl.col("valid_until")) if checks.has("valid_until") else pl.lit(None, pl.Date)
    )
    if checks.has("valid_until"):
        checks.add(
            pl.col("valid_until").is_not_null() & stated.is_null(),
            column="valid_until",
            reason=_("有效期至无法识别,请写成 2024-12-14 这样的日期"),
        )
    # rules.default_valid_until, vectorised: calendar-year lists end on 31 December; others run
    # three years less a day (29 February rolls to 28 February, as the rule does).
    yearly = pl.col("_kind").is_in([Qualification.Kind.TECH_SME, Qualification.Kind.ABOVE_SCALE])
    default = (
        pl.when(yearly)
        .then(pl.date(pl.col("_recognised").dt.year(), 12, 31))
        .otherwise(pl.col("_recognised").dt.offset_by("3y").dt.offset_by("-1d"))
    )
    checks.with_columns(pl.coalesce(stated, default).alias("_valid_until"))
    checks.add(
        pl.col("_valid_until") < pl.col("_recognised"),
        column="valid_until" if checks.has("valid_until") else "recognised_on",
        reason=_("有效期至不能早于认定日期"),
    )
    checks.unique(
        ["_uscc", "_kind", "_subtype", "_recognised"],
        column="kind",
        reason=_("同一企业同一资质、同一认定日期与第{first}行重复"),
        reason_first=_("同一企业同一资质、同一认定日期在文件中重复出现(另见第{other}行)"),
    )
    # As QualificationForm: these kinds are recognised at a level, which must be stated.
    level_blank = pl.col("level").is_null() if checks.has("level") else pl.lit(True)
    for needs_level in (Qualification.Kind.SRDI, Qualification.Kind.RD_INSTITUTION):
        checks.add(
            (pl.col("_kind") == needs_level) & level_blank,
            column="level" if checks.has("level") else "kind",
            reason=_("%(kind)s须填写级别(国家级、自治区级、市级)")
            % {"kind": Qualification.Kind(needs_level).label},
        )
    level = pl.lit("")
    if checks.has("level"):
        level = _mapped(
            checks,
            "level",
            _choices(Qualification.Level.choices, LEVEL_ALIASES),
            _("级别“{}”无法识别,可填:国家级、自治区级、市级"),
            dtype=pl.String(),
        ).fill_null("")
    out = [
        pl.col(ROW),
        pl.col("_uscc"),
        pl.col("_kind").alias("kind"),
        pl.col("_subtype").alias("subtype"),
        pl.col("_recognised").alias("recognised_on"),
        pl.col("_valid_until").alias("valid_until"),
    ]
    if checks.has("level"):
        out.append(level.alias("level"))
    for key, limit, label in (("certificate_no", 60, _("证书编号")), ("notes", 200, _("备注"))):
        expr = _text(checks, key, limit, label)
        if expr is not None:
            out.append(expr)
    return checks.frame.select(out)


def _sei_review_state(frame: pl.DataFrame, ctx: ImportContext) -> pl.DataFrame:
    """sei_status for the enterprise rows, as EnterpriseForm sets it: a category that is new
    for the enterprise is confirmed when the importing user may review categories, otherwise
    declared and awaiting review. Null (kept as stored, keep_when_null) when the cell is blank
    or names the category the enterprise already has, so a pending or rejected declaration is
    left alone and re-importing a file changes nothing. Runs right before planning (inside the
    apply's transaction), against the stored categories."""
    if "sei_category_id" not in frame.columns:
        return frame
    stored = load_existing(ENTERPRISE_SHEET.target, frame, ["uscc", "sei_category_id"])
    frame = frame.join(
        stored.select("uscc", pl.col("sei_category_id").alias("_sei_stored")),
        on="uscc",
        how="left",
    )
    status = Enterprise.SeiStatus.CONFIRMED if ctx.can_review else Enterprise.SeiStatus.DECLARED
    new = pl.col("sei_category_id")
    return frame.with_columns(
        pl.when(new.is_not_null() & new.ne_missing(pl.col("_sei_stored")))
        .then(pl.lit(status.value))
        .otherwise(pl.lit(None, pl.String))
        .alias("sei_status")
    ).drop("_sei_stored")


def _resolve_enterprises(frame: pl.DataFrame, ctx: ImportContext) -> pl.DataFrame:
    """Enterprise ids for the qualification rows, read now: enterprises created earlier in the
    same apply exist by then; in a dry run they do not yet, and their rows count as new."""
    usccs = frame.get_column("_uscc").unique().to_list()
    found: list[tuple[str, int, str]] = []
    for i in range(0, len(usccs), 500):
        found.extend(
            Enterprise.objects.filter(uscc__in=usccs[i : i + 500]).values_list("uscc", "id", "name")
        )
    ids = pl.DataFrame(
        found,
        schema={"_uscc": pl.String, "enterprise_id": pl.Int64, "_ent_name": pl.String},
        orient="row",
    )
    named = ctx.valid.get(ENTERPRISES)
    frame = frame.join(ids, on="_uscc", how="left")
    if named is not None and named.height:
        frame = (
            frame.join(
                named.select(pl.col("uscc").alias("_uscc"), pl.col("name").alias("_file_name")),
                on="_uscc",
                how="left",
            )
            .with_columns(pl.coalesce("_file_name", "_ent_name").alias("_ent_name"))
            .drop("_file_name")
        )
    return frame


def _qualification_repr() -> pl.Expr:
    labels = {value: str(label) for value, label in Qualification.Kind.choices}
    label = pl.col("kind").replace_strict(labels, default=pl.col("kind"), return_dtype=pl.String)
    label = pl.when(pl.col("subtype") != "").then(label + "·" + pl.col("subtype")).otherwise(label)
    return pl.concat_str(
        [
            pl.col("_ent_name").fill_null(""),
            pl.lit(" · "),
            label,
            pl.lit(" "),
            pl.col("recognised_on").dt.strftime("%Y-%m-%d"),
        ]
    )


ENTERPRISE_SHEET = SheetSpec(
    key=ENTERPRISES,
    title="企业",
    label="企业",
    columns=ENTERPRISE_COLUMNS,
    validate=validate_enterprises,
    sheet_names=("企业",),
    target=UpsertTarget(
        model=Enterprise,
        key=("uscc",),
        object_repr=lambda: pl.col("name"),
        enterprise_id=lambda: pl.col("id"),
        prepare=_sei_review_state,
        keep_when_null=("status", "sei_category_id", "sei_status"),
    ),
)
QUALIFICATION_SHEET = SheetSpec(
    key=QUALIFICATIONS,
    title="资质",
    label="资质",
    columns=QUALIFICATION_COLUMNS,
    validate=validate_qualifications,
    sheet_names=("资质",),
    target=UpsertTarget(
        model=Qualification,
        key=("enterprise_id", "kind", "subtype", "recognised_on"),
        object_repr=_qualification_repr,
        enterprise_id=lambda: pl.col("enterprise_id"),
        prepare=_resolve_enterprises,
    ),
)
ENTERPRISE_IMPORTER = Importer(
    kind=ENTERPRISES,
    title="企业及资质",
    sheets=(ENTERPRISE_SHEET, QUALIFICATION_SHEET),
)


def enterprise_template() -> bytes:
    """The downloadable template: 企业 and 资质 sheets with headers and an example row, and a
    说明 sheet listing what each column accepts (reference values read from the database)."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    head = book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1})
    must = book.add_format({"bold": True, "bg_color": "#FDE8E8", "border": 1})
    text = book.add_format({"num_format": "@"})
    for title, columns in (("企业", ENTERPRISE_COLUMNS), ("资质", QUALIFICATION_COLUMNS)):
        sheet = book.add_worksheet(title)
        for i, col in enumerate(columns):
            sheet.write_string(0, i, col.header, must if col.required else head)
            sheet.write_string(1, i, col.example)
            sheet.set_column(i, i, max(12, len(col.header) * 2 + 2), text)
            if col.help:
                sheet.write_comment(0, i, col.help)
        sheet.freeze_panes(1, 0)
    notes = book.add_worksheet("说明")
    notes.set_column(0, 0, 22)
    notes.set_column(1, 1, 90)
    rows: list[tuple[str, str]] = [
        ("填写说明", "表头名称须与模板一致(全角/半角、空格不影响);红色为必填列。"),
        ("", "同一统一社会信用代码再次导入时按文件内容更新,内容相同则不变;先预检,确认后导入。"),
        ("", "默认全部校验通过才导入;勾选“仅导入有效行”时跳过有误的行。"),
    ]
    for title, columns in (("企业表", ENTERPRISE_COLUMNS), ("资质表", QUALIFICATION_COLUMNS)):
        rows.append(("", ""))
        rows.append((title, ""))
        rows.extend((f"  {c.header}", c.help or "可空") for c in columns)
    rows.append(("", ""))
    rows.append(("可选值", ""))
    listings = (
        ("企业状态", "、".join(str(label) for _v, label in Enterprise.Status.choices)),
        ("企业规模", "、".join(str(label) for _v, label in Enterprise.Size.choices)),
        ("链上位置", "、".join(str(label) for _v, label in Enterprise.ChainPosition.choices)),
        ("资质类型", "、".join(str(label) for _v, label in Qualification.Kind.choices)),
        ("级别", "、".join(str(label) for v, label in Qualification.Level.choices if v)),
        (
            "战略性新兴产业类别",
            "、".join(f"{c} {n}" for c, n in EmergingCategory.objects.values_list("code", "name")),
        ),
        (
            "产业链",
            "、".join(IndustryChain.objects.filter(is_active=True).values_list("name", flat=True)),
        ),
        ("网格", "、".join(f"{c} {n}" for c, n in Grid.objects.values_list("code", "name")[:500])),
    )
    rows.extend((f"  {k}", v) for k, v in listings)
    rows.append(("  行业代码", "GB/T 4754-2017 门类、大类、中类或小类代码,如 C、36、367、3670"))
    for r, (k, v) in enumerate(rows):
        notes.write_string(r, 0, k)
        notes.write_string(r, 1, v)
    book.close()
    return buffer.getvalue()


def template_file_name() -> str:
    return f"企业导入模板-{dt.date.today():%Y%m%d}.xlsx"  # noqa: DTZ011 - a label only
