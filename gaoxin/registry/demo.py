"""The deterministic demo zone: about a thousand fictional enterprises in Liuzhou High-tech Zone,
their qualifications 2017-2021, management grids and a small party organisation tree.

Two halves, kept apart on purpose:

* `generate_zone(seed, n_enterprises)` is pure: it draws everything from one `random.Random(seed)`
  and returns plain dataclasses, so two runs give identical output and tests need no database.
* `load_zone(zone)` writes that plan idempotently, keyed by USCC (enterprises), by
  (enterprise, kind, subtype, recognised_on) (qualifications), by code (grids) and by name
  (party organisations). New rows go in with `bulk_create` and one `create` audit row each under
  a shared batch id; rows that differ from the plan are updated with an `update` audit row;
  identical rows are left alone and leave no audit row.

Figures quoted in the seed articles that are plain counts hold in the default zone
(`DEFAULT_TARGETS`): 150 above-scale industrial enterprises in 2020 and 2021, 21 newly
above-scale in 2019, 11 smart-factory demonstration enterprises held on 2019-12-31 (all
recognised in 2019) and 6 enterprises recognised as gazelles for the first time in 2019.
Everything else, names included, is invented: no real company is meant.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone

from gaoxin.accounts.roles import Department, Role
from gaoxin.core import audit
from gaoxin.core.text import pinyin_initials
from gaoxin.core.validators import uscc_with_check_digit
from gaoxin.party.models import Organisation
from gaoxin.registry.models import (
    EmergingCategory,
    Enterprise,
    Grid,
    IndustryCategory,
    IndustryChain,
    Qualification,
)
from gaoxin.registry.reference import industry_rows, load_reference_data
from gaoxin.registry.rules import default_valid_until
from gaoxin.registry.services import AUDITED_ENTERPRISE_FIELDS, QUALIFICATION_FIELDS

DEFAULT_SEED = 4502  # Liuzhou's region prefix; any integer gives a (different) stable zone
DEFAULT_ENTERPRISES = 1000
MIN_ENTERPRISES = 50
FORMER_NAME_SHARE = 0.05
YEARS = (2017, 2018, 2019, 2020, 2021)

T = TypeVar("T")
E = Enterprise
K = Qualification.Kind
L = Qualification.Level
P = Enterprise.ChainPosition

# ---------------------------------------------------------------------------------------------
# Plan records (pure data)


@dataclass(frozen=True)
class DemoGrid:
    code: str
    name: str
    street: str


@dataclass(frozen=True)
class DemoEnterprise:
    uscc: str
    name: str
    industry_code: str
    chain_code: str
    chain_position: str
    sei_code: str
    sei_status: str
    grid_code: str
    founded_on: dt.date
    registered_capital: Decimal
    status: str
    size: str
    is_non_public: bool
    legal_representative: str
    address: str
    contact_name: str
    contact_phone: str
    description: str
    profile: str  # SectorProfile key; not stored, it steers the qualification draws
    former_names: str = ""
    anchor: str = ""  # key of a named anchor enterprise, "" for generated ones

    @property
    def industrial(self) -> bool:
        return is_industrial(self.industry_code)


@dataclass(frozen=True)
class DemoQualification:
    uscc: str
    kind: str
    recognised_on: dt.date
    valid_until: dt.date
    level: str = ""
    subtype: str = ""
    certificate_no: str = ""
    notes: str = ""

    @property
    def key(self) -> tuple[str, str, str, dt.date]:
        return (self.uscc, self.kind, self.subtype, self.recognised_on)


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    kind: str
    parent: str = ""
    enterprise_uscc: str = ""
    founded_on: dt.date | None = None


@dataclass(frozen=True)
class DemoZone:
    seed: int
    grids: list[DemoGrid]
    enterprises: list[DemoEnterprise]
    qualifications: list[DemoQualification]
    organisations: list[DemoOrganisation]
    demo_enterprise_uscc: str  # the enterprise the demo enterprise user is bound to
    demo_branch_name: str  # the branch the demo branch secretary is bound to


# ---------------------------------------------------------------------------------------------
# Vocabulary

CITY_PREFIXES = (("柳州市", 6), ("柳州", 3), ("广西", 1))
TRADE_NAMES = tuple(
    "华创 恒昌 宏远 鑫泰 瑞祥 金鹏 锦程 盛达 天成 博瑞 嘉诚 德润 凯越 启航 "
    "远航 晟通 众诚 龙城 东泉 富森 汇博 中诚 佳利 精诚 卓越 立信 安泰 和顺 "
    "诚益 通达 永兴 泰和 华邦 昌盛 长青 鼎盛 弘扬 银河 科瑞 英泰 伟业 聚源 "
    "顺昌 宏图 明辉 志诚 睿达 优联 盈科 星联 云帆 峰华 骏达 振兴 恒泰 合力 "
    "普惠 华宇 蓝海 桂兴 柳鑫 融通 亿达 万丰 新锐 创联 天宇 鸿泰 安达 信泰 "
    "金拓 同创 汇智 协力 丰源 群英 东联 翔宇 联拓 雄狮 凯捷 金桂 正阳 华程 "
    "浩然 卓成 元通 宏业 中瑞 天瑞".split()
)
LEGAL_FORMS = (("有限公司", 14), ("有限责任公司", 4), ("股份有限公司", 2))
SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐韦覃蒙莫廖潘蓝陆农")
GIVEN_CHARS = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志斌晓红宇鹏海波峰")

# Grid areas of the zone (柳东新区 and the older 河西 high-tech park): key, area name, number of
# grids, address stem. 官塘 and 汽车城 appear in the seed articles; the rest are the zone's towns.
GRID_AREAS = (
    ("gt", "官塘片区", 3, "柳东新区官塘大道"),
    ("qcc", "汽车城片区", 3, "柳东新区车园路"),
    ("lr", "雒容镇", 2, "鱼峰区雒容镇工业园路"),
    ("lb", "洛埠镇", 2, "鱼峰区洛埠镇工业园路"),
    ("hx", "河西高新片区", 2, "柳南区高新大道"),
)

# USCC region part: most firms register with the zone's market regulator, some with the city
# or a district before moving in.
REGIONS = (("450211", 14), ("450200", 4), ("450203", 1), ("450204", 1))
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714-1997
USCC_SAFE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


@dataclass(frozen=True)
class SectorProfile:
    """A kind of firm in the zone: what it makes, where it sits in a chain, what it is called."""

    key: str
    weight: int
    industries: tuple[str, ...]  # GB/T 4754-2017 classes, repeated to weight them
    chain: str
    positions: tuple[str, ...]
    sei: str = ""  # 战略性新兴产业分类(2018) category declared by firms of this kind
    areas: tuple[str, ...] = ("gt", "qcc", "lr", "lb", "hx")
    tech: bool = False  # candidates for high-tech and R&D recognitions


# fmt: off
PROFILES = (
    SectorProfile("auto_parts", 26,
                  ("3670",) * 6 + ("3660", "3620", "3630", "3391", "3392", "2929", "2913", "3525"),
                  "auto-parts", (P.UPSTREAM, P.UPSTREAM, P.MIDSTREAM),
                  areas=("qcc", "qcc", "lr", "lb", "gt"), tech=True),
    SectorProfile("machinery", 14,
                  ("3514", "3514", "3421", "3422", "3432", "3433", "3441", "3453", "3484", "3491",
                   "3511"),
                  "machinery", (P.UPSTREAM, P.MIDSTREAM, P.MIDSTREAM),
                  areas=("lr", "lb", "hx", "qcc"), tech=True),
    SectorProfile("nev", 8, ("3841", "3841", "3612", "3824", "3813", "3849"),
                  "nev", (P.UPSTREAM, P.MIDSTREAM), sei="5", areas=("qcc", "qcc", "lr"), tech=True),
    SectorProfile("rail", 5, ("3720", "3720", "3715", "3716", "3714", "3719"),
                  "rail-transit", (P.UPSTREAM, P.MIDSTREAM), sei="2", areas=("lb", "lr"),
                  tech=True),
    SectorProfile("electronics", 8,
                  ("3982", "3983", "3962", "3962", "3919", "3976", "3981", "3914"),
                  "electronics-it", (P.UPSTREAM, P.MIDSTREAM), sei="1", areas=("gt", "hx", "qcc"),
                  tech=True),
    SectorProfile("software", 9, ("6513", "6513", "6531", "6532", "6511", "6550", "6560"),
                  "electronics-it", (P.DOWNSTREAM, P.SUPPORT), sei="1", areas=("gt", "gt", "hx"),
                  tech=True),
    SectorProfile("materials", 4, ("3091", "2651", "3252", "2659", "3985"),
                  "", (), sei="3", areas=("lr", "lb"), tech=True),
    SectorProfile("green", 3, ("3591", "4620", "7724", "3825"),
                  "", (), sei="7", areas=("lb", "lr", "hx"), tech=True),
    SectorProfile("general", 6, ("3311", "2231", "2921", "3399", "2110", "1495"),
                  "", (), areas=("lr", "lb", "hx")),
    SectorProfile("logistics", 7, ("5920", "5437", "5821", "5172", "7224", "5292", "5193"),
                  "modern-services", (P.SUPPORT,), areas=("gt", "qcc", "hx")),
    SectorProfile("tech_services", 5, ("7320", "7452", "7491", "7530", "7540", "7243"),
                  "modern-services", (P.SUPPORT,), sei="9", areas=("gt", "hx"), tech=True),
    SectorProfile("other_services", 3, ("4790", "7020", "6210", "7211"),
                  "", (), areas=("gt", "hx")),
)

# The 行业词 a firm in each industry class puts in its name.
INDUSTRY_WORDS = {
    "3670": ("汽车零部件", "汽车配件", "精密部件", "汽车饰件", "底盘系统", "汽车电子"),
    "3660": ("车身部件", "专用车"), "3620": ("动力总成", "发动机"), "3630": ("专用汽车", "改装车"),
    "3391": ("铸造",), "3392": ("精密铸造",), "2929": ("塑料制品", "汽车饰件"),
    "2913": ("橡胶制品",), "3525": ("模具",),
    "3514": ("工程机械", "重工机械"), "3421": ("数控机床", "精密机械"), "3422": ("锻压机械",),
    "3432": ("起重机械",), "3433": ("叉车", "搬运设备"), "3441": ("泵业", "流体设备"),
    "3453": ("齿轮传动", "传动科技"), "3484": ("精密机械", "机械加工"),
    "3491": ("机器人", "智能装备"), "3511": ("矿山机械",),
    "3841": ("电池科技", "新能源科技"), "3612": ("新能源汽车",), "3824": ("电力电子", "电控科技"),
    "3813": ("电机", "电驱科技"), "3849": ("电池科技", "储能科技"),
    "3720": ("轨道交通装备",), "3715": ("轨道交通配件", "轨道交通科技"),
    "3716": ("轨道交通设备",), "3714": ("轨道交通科技",), "3719": ("交通装备",),
    "3982": ("电路科技", "电子"), "3983": ("传感科技", "电子科技"),
    "3962": ("车载电子", "智能科技"),
    "3919": ("电子科技",), "3976": ("光电科技",), "3981": ("电子元件",),
    "3914": ("自动化科技", "工控科技"),
    "6513": ("软件", "信息技术"), "6511": ("软件",), "6531": ("信息技术", "系统集成"),
    "6532": ("物联网科技",), "6550": ("数据科技", "云计算"), "6560": ("信息咨询", "信息技术"),
    "3091": ("碳素材料", "新材料"), "2651": ("高分子材料", "新材料科技"),
    "3252": ("铝业", "轻合金材料"), "2659": ("复合材料",), "3985": ("电子材料",),
    "3591": ("环保设备", "环保科技"), "4620": ("水务", "环境工程"), "7724": ("环保科技",),
    "3825": ("光伏科技", "新能源科技"),
    "3311": ("钢结构", "金属结构"), "2231": ("纸品包装", "包装"), "2921": ("塑料制品", "包装材料"),
    "3399": ("金属制品", "实业"), "2110": ("家具",), "1495": ("食品添加剂", "生物科技"),
    "5920": ("物流", "仓储"), "5437": ("物流", "配送"), "5821": ("国际货运代理", "物流"),
    "5172": ("汽车贸易", "汽配贸易"), "7224": ("供应链管理",), "5292": ("电子商务",),
    "5193": ("电子商务", "商贸"),
    "7320": ("技术研究院",), "7452": ("检测技术", "检验检测"), "7491": ("工业设计",),
    "7530": ("科技服务", "技术转移"), "7540": ("创业服务", "孵化器管理"),
    "7243": ("企业管理咨询", "咨询服务"),
    "4790": ("建设", "建筑工程"), "7020": ("物业服务",), "6210": ("餐饮管理",),
    "7211": ("投资管理", "企业管理"),
}
# fmt: on
PROFILE_BY_KEY = {p.key: p for p in PROFILES}


@dataclass(frozen=True)
class Anchor:
    """A named fictional firm the demo always contains (chain leaders, the demo enterprise)."""

    key: str
    name: str
    profile: str
    industry: str
    size: str
    founded: dt.date
    capital: int  # 万元
    area: str
    position: str = P.LEADER
    is_non_public: bool = True


# fmt: off
ANCHORS = (
    Anchor("wuxing", "柳州五星汽车股份有限公司", "auto_parts", "3611", E.Size.LARGE,
           dt.date(2002, 11, 18), 165000, "qcc", is_non_public=False),
    Anchor("longcheng", "柳州龙城商用车有限公司", "auto_parts", "3611", E.Size.LARGE,
           dt.date(2008, 4, 9), 98000, "qcc", is_non_public=False),
    Anchor("liudong_nev", "广西柳东新能源汽车有限公司", "nev", "3612", E.Size.LARGE,
           dt.date(2015, 6, 30), 60000, "qcc"),
    Anchor("huineng", "广西汇能动力电池有限公司", "nev", "3841", E.Size.LARGE,
           dt.date(2016, 3, 22), 45000, "lr"),
    Anchor("huagui", "柳州华轨轨道交通装备有限公司", "rail", "3720", E.Size.LARGE,
           dt.date(2017, 5, 12), 30000, "lb"),
    Anchor("dongyue", "柳州东岳重工机械股份有限公司", "machinery", "3514", E.Size.LARGE,
           dt.date(1996, 8, 1), 52000, "lr"),
    Anchor("boyue", "柳州博越软件股份有限公司", "software", "6513", E.Size.MEDIUM,
           dt.date(2009, 9, 9), 5000, "gt"),
    Anchor("baoshui", "柳州龙城保税物流有限公司", "logistics", "5920", E.Size.MEDIUM,
           dt.date(2018, 7, 16), 8000, "gt"),
    Anchor("huaxin", "柳州华信精密汽车零部件有限公司", "auto_parts", "3670", E.Size.MEDIUM,
           dt.date(2011, 3, 15), 6800, "qcc", position=P.UPSTREAM),
)
# fmt: on
DEMO_ENTERPRISE_ANCHOR = "huaxin"

# Recognitions the named anchors always hold, so the demo enterprise user has a rich profile.
ANCHOR_QUALIFICATIONS = {
    "wuxing": (
        (K.RD_INSTITUTION, L.NATIONAL, "企业技术中心", dt.date(2019, 12, 20)),
        (K.HIGH_TECH, "", "", dt.date(2019, 12, 2)),
    ),
    "huaxin": (
        (K.HIGH_TECH, "", "", dt.date(2018, 11, 30)),
        (K.HIGH_TECH, "", "", dt.date(2021, 12, 15)),
        (K.RD_INSTITUTION, L.MUNICIPAL, "企业技术中心", dt.date(2019, 6, 20)),
        (K.SRDI, L.PROVINCIAL, "", dt.date(2020, 9, 25)),
    ),
}

# ---------------------------------------------------------------------------------------------
# Qualification targets. Exact at DEFAULT_ENTERPRISES; scaled for smaller demo zones.


@dataclass(frozen=True)
class Targets:
    above_scale_size: dict[int, int]  # enterprises above scale in each year
    above_scale_new: dict[int, int]  # of which newly above scale (first time ever)
    smart_factory: dict[int, int]  # recognised per year; none before 2019
    gazelle_new: dict[int, int]
    gazelle_again: dict[int, int]  # re-recognitions of earlier gazelles
    high_tech_new: dict[int, int]
    high_tech_renewal_share: float  # of the batch three years earlier
    tech_sme: dict[int, int]
    tech_sme_retention: float  # share of last year's list registering again
    srdi_provincial: dict[int, int]
    srdi_national: dict[int, int]
    rd: dict[int, tuple[tuple[str, str, int], ...]]  # (subtype, level, count)

    def scaled(self, n_enterprises: int) -> Targets:
        """The same shape for a zone of another size (counts rounded, at least 1)."""
        if n_enterprises == DEFAULT_ENTERPRISES:
            return self
        factor = n_enterprises / DEFAULT_ENTERPRISES

        def scale(counts: dict[int, int]) -> dict[int, int]:
            return {y: max(1, round(c * factor)) if c else 0 for y, c in counts.items()}

        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "rd":
                value = {
                    y: tuple((s, lv, max(1, round(c * factor))) for s, lv, c in rows)
                    for y, rows in value.items()
                }
            elif isinstance(value, dict):
                value = scale(value)
            out[f.name] = value
        return Targets(**out)


TECH_CENTRE, ENG_CENTRE, KEY_LAB = "企业技术中心", "工程技术研究中心", "重点实验室"
DEFAULT_TARGETS = Targets(
    above_scale_size={2017: 125, 2018: 132, 2019: 140, 2020: 150, 2021: 150},
    above_scale_new={2018: 13, 2019: 21, 2020: 15, 2021: 8},
    smart_factory={2019: 11, 2020: 6, 2021: 7},
    gazelle_new={2018: 4, 2019: 6, 2020: 5, 2021: 6},
    gazelle_again={2021: 2},
    high_tech_new={2017: 22, 2018: 26, 2019: 30, 2020: 28, 2021: 32},
    high_tech_renewal_share=0.7,
    tech_sme={2017: 60, 2018: 80, 2019: 100, 2020: 120, 2021: 140},
    tech_sme_retention=0.75,
    srdi_provincial={2019: 5, 2020: 7, 2021: 9},
    srdi_national={2020: 1, 2021: 2},
    rd={
        2017: (
            (TECH_CENTRE, L.MUNICIPAL, 4),
            (TECH_CENTRE, L.PROVINCIAL, 2),
            (ENG_CENTRE, L.MUNICIPAL, 2),
        ),
        2018: (
            (TECH_CENTRE, L.MUNICIPAL, 5),
            (TECH_CENTRE, L.PROVINCIAL, 2),
            (ENG_CENTRE, L.PROVINCIAL, 1),
            (KEY_LAB, L.PROVINCIAL, 1),
        ),
        2019: (
            (TECH_CENTRE, L.MUNICIPAL, 5),
            (TECH_CENTRE, L.PROVINCIAL, 3),
            (ENG_CENTRE, L.MUNICIPAL, 2),
        ),
        2020: (
            (TECH_CENTRE, L.MUNICIPAL, 6),
            (TECH_CENTRE, L.PROVINCIAL, 3),
            (ENG_CENTRE, L.PROVINCIAL, 2),
            (KEY_LAB, L.PROVINCIAL, 1),
        ),
        2021: (
            (TECH_CENTRE, L.MUNICIPAL, 6),
            (TECH_CENTRE, L.PROVINCIAL, 3),
            (ENG_CENTRE, L.MUNICIPAL, 2),
            (ENG_CENTRE, L.PROVINCIAL, 1),
        ),
    },
)

# Recognition days per year (fictional but in the season each list is usually published).
SMART_FACTORY_DAY = {2019: (11, 29), 2020: (12, 18), 2021: (12, 10)}
INNOVATION_TEAM_DAY = (11, 20)
INNOVATION_TEAMS_2018 = 22
GAZELLE_DAY = {2018: (12, 20), 2019: (12, 16), 2020: (12, 21), 2021: (12, 17)}
HIGH_TECH_DAY = {2017: (11, 30), 2018: (11, 30), 2019: (12, 2), 2020: (12, 1), 2021: (12, 15)}
TECH_SME_BATCH_DAYS = ((4, 30), (7, 31), (10, 31))
SRDI_DAY: dict[str, tuple[int, int]] = {L.PROVINCIAL: (9, 25), L.NATIONAL: (11, 18)}
RD_DAY: dict[str, tuple[int, int]] = {
    L.MUNICIPAL: (6, 20),
    L.PROVINCIAL: (12, 10),
    L.NATIONAL: (12, 20),
}
SMART_FACTORY_CHAINS = ("auto", "auto-parts", "machinery", "nev")


# ---------------------------------------------------------------------------------------------
# Small pure helpers


def is_industrial(industry_code: str) -> bool:
    """Sections B, C and D (divisions 06-46): industry in the statistical sense."""
    return 6 <= int(industry_code[:2]) <= 46


def org_code_check_digit(body: str) -> str:
    """GB 11714-1997 check character for an 8-character organisation code body."""
    total = sum(int(ch, 36) * w for ch, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def _weighted(rng: random.Random, options: Sequence[tuple[T, int]]) -> T:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _day(year: int, month_day: tuple[int, int]) -> dt.date:
    return dt.date(year, *month_day)


def _person(rng: random.Random) -> str:
    given = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given


class _Namer:
    """Unique enterprise names and USCCs for one generation run."""

    def __init__(self, rng: random.Random, reserved: Iterable[str] = ()) -> None:
        self.rng = rng
        self.names: set[str] = set(reserved)
        self.org_codes: set[str] = set()

    def name(self, industry: str, size: str) -> str:
        for _ in range(200):
            form = _weighted(self.rng, LEGAL_FORMS)
            if form == "股份有限公司" and size in (E.Size.SMALL, E.Size.MICRO):
                form = "有限公司"
            candidate = (
                _weighted(self.rng, CITY_PREFIXES)
                + self.rng.choice(TRADE_NAMES)
                + self.rng.choice(INDUSTRY_WORDS[industry])
                + form
            )
            if candidate not in self.names:
                self.names.add(candidate)
                return candidate
        raise RuntimeError("ran out of demo enterprise names")  # pragma: no cover

    def uscc(self, founded_on: dt.date) -> str:
        while True:
            if founded_on.year >= 2016:
                # Organisation codes assigned since the 2015 reform begin with "MA".
                body = "MA5" + "".join(self.rng.choice(USCC_SAFE_CHARS) for _ in range(5))
            else:
                body = str(self.rng.randint(1, 9)) + "".join(
                    self.rng.choice("0123456789") for _ in range(7)
                )
            org_code = body + org_code_check_digit(body)
            if org_code in self.org_codes:
                continue
            self.org_codes.add(org_code)
            region = _weighted(self.rng, REGIONS)
            return uscc_with_check_digit("91" + region + org_code)


# ---------------------------------------------------------------------------------------------
# Generation


def build_grids() -> list[DemoGrid]:
    """The zone's management grids: a few per area, numbered inside each area."""
    return [
        DemoGrid(code=f"{key}-{i:02d}", name=f"{area}第{i}网格", street=area)
        for key, area, count, _stem in GRID_AREAS
        for i in range(1, count + 1)
    ]


def _founded(rng: random.Random) -> dt.date:
    # The 柳东 part of the zone was built from 2010, so most firms are young.
    span = _weighted(rng, (((1990, 2005), 1), ((2006, 2012), 3), ((2013, 2021), 6)))
    return dt.date(rng.randint(*span), rng.randint(1, 12), rng.randint(1, 28))


def _capital(rng: random.Random, size: str) -> Decimal:
    ranges: dict[str, tuple[int, int]] = {
        E.Size.LARGE: (20000, 200000),
        E.Size.MEDIUM: (2000, 20000),
        E.Size.SMALL: (300, 3000),
        E.Size.MICRO: (10, 500),
    }
    low, high = ranges[size]
    value = rng.randint(low, high)
    # Round to what people register: whole hundreds above 1,000万元, some halves below.
    if value >= 1000:
        return Decimal(value // 100 * 100)
    return Decimal(value) + (Decimal("0.5") if rng.random() < 0.2 else Decimal(0))


def _address(rng: random.Random, grid_code: str) -> str:
    stem = {key: s for key, _a, _c, s in GRID_AREAS}[grid_code.split("-")[0]]
    return f"广西壮族自治区柳州市{stem}{rng.randint(1, 399)}号"


def _grid_in(rng: random.Random, areas: Sequence[str]) -> str:
    key = rng.choice(areas)
    count = {k: c for k, _a, c, _s in GRID_AREAS}[key]
    return f"{key}-{rng.randint(1, count):02d}"


def _sei(rng: random.Random, profile: SectorProfile) -> tuple[str, str]:
    if not profile.sei:
        return "", ""
    status = _weighted(
        rng,
        ((E.SeiStatus.CONFIRMED, 80), (E.SeiStatus.DECLARED, 14), (E.SeiStatus.REJECTED, 6)),
    )
    return profile.sei, status


def _description(industry_names: dict[str, str], code: str) -> str:
    return f"主营{industry_names[code]}。（演示数据，企业名称与信息均为虚构）"


def _enterprise(
    rng: random.Random,
    namer: _Namer,
    industry_names: dict[str, str],
    profile: SectorProfile,
    anchor: Anchor | None = None,
) -> DemoEnterprise:
    if anchor is not None:
        industry, size, founded = anchor.industry, anchor.size, anchor.founded
        name, grid = anchor.name, _grid_in(rng, (anchor.area,))
        status, position, non_public = E.Status.OPERATING, anchor.position, anchor.is_non_public
        capital = Decimal(anchor.capital)
        chain = "auto" if industry == "3611" else profile.chain
    else:
        industry = rng.choice(profile.industries)
        industrial = is_industrial(industry)
        size = _weighted(
            rng,
            ((E.Size.LARGE, 3), (E.Size.MEDIUM, 16), (E.Size.SMALL, 60), (E.Size.MICRO, 21))
            if industrial
            else ((E.Size.LARGE, 1), (E.Size.MEDIUM, 9), (E.Size.SMALL, 50), (E.Size.MICRO, 40)),
        )
        founded = _founded(rng)
        name, grid = namer.name(industry, size), _grid_in(rng, profile.areas)
        status = _weighted(
            rng,
            (
                (E.Status.OPERATING, 92),
                (E.Status.MOVED_OUT, 3),
                (E.Status.DEREGISTERED, 3),
                (E.Status.SUSPENDED, 1),
                (E.Status.REVOKED, 1),
            ),
        )
        chain = profile.chain
        position = rng.choice(profile.positions) if chain else ""
        non_public = rng.random() >= 0.03
        capital = _capital(rng, size)
    sei_code, sei_status = _sei(rng, profile)
    return DemoEnterprise(
        uscc=namer.uscc(founded),
        name=name,
        industry_code=industry,
        chain_code=chain,
        chain_position=position,
        sei_code=sei_code,
        sei_status=sei_status,
        grid_code=grid,
        founded_on=founded,
        registered_capital=capital,
        status=status,
        size=size,
        is_non_public=non_public,
        legal_representative=_person(rng),
        address=_address(rng, grid),
        contact_name=_person(rng),
        contact_phone=f"0772-{rng.randint(2000000, 3999999)}",
        description=_description(industry_names, industry),
        profile=profile.key,
        anchor=anchor.key if anchor else "",
    )


def _with_former_names(
    rng: random.Random, namer: _Namer, enterprises: list[DemoEnterprise], share: float
) -> list[DemoEnterprise]:
    generated = [i for i, e in enumerate(enterprises) if not e.anchor]
    renamed = set(rng.sample(generated, round(len(enterprises) * share)))
    out = []
    for i, ent in enumerate(enterprises):
        if i not in renamed:
            out.append(ent)
            continue
        # A firm that changed its 字号 keeps the rest of its name.
        prefix = next(p for p, _w in CITY_PREFIXES if ent.name.startswith(p))
        for _ in range(20):
            old = prefix + rng.choice(TRADE_NAMES) + ent.name[len(prefix) + 2 :]
            if old not in namer.names:
                namer.names.add(old)
                out.append(replace(ent, former_names=old))
                break
        else:  # pragma: no cover - practically unreachable with ~100 trade names
            out.append(ent)
    return out


def generate_enterprises(
    rng: random.Random, n_enterprises: int, industry_names: dict[str, str]
) -> list[DemoEnterprise]:
    """Anchors first, then firms drawn from the sector profiles, ~5% with a former name."""
    namer = _Namer(rng, reserved=[a.name for a in ANCHORS])
    enterprises = [
        _enterprise(rng, namer, industry_names, PROFILE_BY_KEY[a.profile], a) for a in ANCHORS
    ]
    weights = [(p, p.weight) for p in PROFILES]
    while len(enterprises) < n_enterprises:
        enterprises.append(_enterprise(rng, namer, industry_names, _weighted(rng, weights)))
    return _with_former_names(rng, namer, enterprises, share=FORMER_NAME_SHARE)


class _QualificationPlanner:
    """Draws each kind of qualification history from the enterprise list, year by year."""

    def __init__(self, rng: random.Random, enterprises: list[DemoEnterprise], targets: Targets):
        self.rng = rng
        self.targets = targets
        self.enterprises = enterprises
        self.operating = [e for e in enterprises if e.status == E.Status.OPERATING]
        self.by_uscc = {e.uscc: e for e in enterprises}
        self.records: list[DemoQualification] = []
        self.above_scale: dict[int, list[str]] = {}

    # -- helpers -------------------------------------------------------------------------
    def add(self, uscc: str, kind: str, recognised_on: dt.date, **extra: str) -> None:
        self.records.append(
            DemoQualification(
                uscc=uscc,
                kind=kind,
                recognised_on=recognised_on,
                valid_until=default_valid_until(kind, recognised_on),
                **extra,
            )
        )

    def pick(
        self, candidates: Iterable[DemoEnterprise], count: int, exclude: Iterable[str] = ()
    ) -> list[str]:
        excluded = set(exclude)
        pool = sorted(e.uscc for e in candidates if e.uscc not in excluded)
        return self.rng.sample(pool, min(count, len(pool)))

    def holders(self, kind: str) -> set[str]:
        return {q.uscc for q in self.records if q.kind == kind}

    @staticmethod
    def profile_of(ent: DemoEnterprise) -> SectorProfile:
        return PROFILE_BY_KEY[ent.profile]

    # -- kinds ---------------------------------------------------------------------------
    def plan_anchor_records(self) -> None:
        uscc_of = {e.anchor: e.uscc for e in self.enterprises if e.anchor}
        for key, rows in ANCHOR_QUALIFICATIONS.items():
            for kind, level, subtype, day in rows:
                extra = {"level": level, "subtype": subtype}
                if kind == K.HIGH_TECH:
                    extra["certificate_no"] = f"GR{day.year}45{self.rng.randint(1, 999):06d}"
                self.add(uscc_of[key], kind, day, **extra)

    def plan_above_scale(self) -> None:
        """Contiguous spells per firm, so "new in year Y" also means "first time ever"."""
        t = self.targets
        eligible = [e for e in self.operating if e.industrial and e.size != E.Size.MICRO]
        others = [e for e in eligible if not e.anchor]
        self.rng.shuffle(others)
        # Anchors join as soon as they are old enough and never leave.
        pool = [e for e in eligible if e.anchor] + others
        used: set[str] = set()

        def entrants(year: int, count: int) -> list[str]:
            chosen: list[str] = []
            for e in pool:
                if len(chosen) == count:
                    break
                if e.uscc not in used and e.founded_on.year < year:
                    chosen.append(e.uscc)
                    used.add(e.uscc)
            return chosen

        members: list[str] = []
        for year in YEARS:
            new = entrants(year, t.above_scale_new.get(year, t.above_scale_size[year]))
            leaving = max(0, len(members) + len(new) - t.above_scale_size[year])
            movable = sorted(u for u in members if not self.by_uscc[u].anchor)
            gone = set(self.rng.sample(movable, min(leaving, len(movable))))
            members = [u for u in members if u not in gone] + new
            self.above_scale[year] = members
            for uscc in members:
                self.add(
                    uscc, K.ABOVE_SCALE, dt.date(year, 1, 1), notes=f"{year}年规上工业企业名录"
                )

    def plan_smart_factory(self) -> None:
        done: set[str] = set()
        for year, count in sorted(self.targets.smart_factory.items()):
            # Smart factories are made, in the zone mostly by the car and machinery chains.
            makers = [
                self.by_uscc[u]
                for u in self.above_scale.get(year, [])
                if self.by_uscc[u].chain_code in SMART_FACTORY_CHAINS
            ]
            chosen = self.pick(makers, count, exclude=done)
            done.update(chosen)
            for uscc in chosen:
                self.add(
                    uscc,
                    K.SMART_FACTORY,
                    _day(year, SMART_FACTORY_DAY[year]),
                    level=L.PROVINCIAL,
                    notes=f"广西智能工厂示范企业（{year}年度）",
                )

    def plan_gazelle(self) -> None:
        first_batches: dict[int, list[str]] = {}
        ever: set[str] = set()
        years = sorted(set(self.targets.gazelle_new) | set(self.targets.gazelle_again))
        for year in years:
            young = (
                e
                for e in self.operating
                if self.profile_of(e).tech
                and year - 10 <= e.founded_on.year <= year - 3
                and e.size != E.Size.MICRO
            )
            chosen = self.pick(young, self.targets.gazelle_new.get(year, 0), exclude=ever)
            first_batches[year] = chosen
            ever.update(chosen)
            earlier = sorted(u for y, us in first_batches.items() if y <= year - 3 for u in us)
            again = self.rng.sample(
                earlier, min(self.targets.gazelle_again.get(year, 0), len(earlier))
            )
            for uscc in chosen + again:
                self.add(
                    uscc,
                    K.GAZELLE,
                    _day(year, GAZELLE_DAY[year]),
                    level=L.PROVINCIAL,
                    notes=f"广西瞪羚企业（{year}年）",
                )

    def plan_high_tech(self) -> None:
        forced = self.holders(K.HIGH_TECH)
        batches: dict[int, list[str]] = {}
        for year in YEARS:
            day = _day(year, HIGH_TECH_DAY[year])
            holding = {
                q.uscc for q in self.records if q.kind == K.HIGH_TECH and q.valid_until >= day
            }
            renewals: list[str] = []
            if year - 3 in batches:
                due = batches[year - 3]
                renewals = sorted(
                    self.rng.sample(due, round(len(due) * self.targets.high_tech_renewal_share))
                )
            tech = (
                e for e in self.operating if self.profile_of(e).tech and e.founded_on.year < year
            )
            new = self.pick(
                tech,
                self.targets.high_tech_new[year],
                exclude=forced | holding | {u for b in batches.values() for u in b},
            )
            batches[year] = new
            numbers = self.rng.sample(range(1, 2000), len(new) + len(renewals))
            for uscc, number in zip(new + renewals, numbers, strict=True):
                self.add(uscc, K.HIGH_TECH, day, certificate_no=f"GR{year}45{number:06d}")

    def plan_tech_sme(self) -> None:
        last: list[str] = []
        for year in YEARS:
            count = self.targets.tech_sme[year]
            keep = self.rng.sample(
                last, min(len(last), round(count * self.targets.tech_sme_retention))
            )
            smes = (
                e
                for e in self.operating
                if self.profile_of(e).tech and e.size != E.Size.LARGE and e.founded_on.year <= year
            )
            new = self.pick(smes, count - len(keep), exclude=keep)
            listed = sorted(keep + new)
            for seq, uscc in enumerate(listed, start=1):
                batch = self.rng.randrange(len(TECH_SME_BATCH_DAYS))
                self.add(
                    uscc,
                    K.TECH_SME,
                    _day(year, TECH_SME_BATCH_DAYS[batch]),
                    certificate_no=f"{year}450211{batch + 1}{seq:04d}",
                )
            last = listed

    def plan_srdi(self) -> None:
        provincial = sorted(self.holders(K.SRDI))
        national: list[str] = []
        for year in YEARS:
            smes = (
                e
                for e in self.operating
                if e.industrial
                and e.size in (E.Size.MEDIUM, E.Size.SMALL)
                and e.founded_on.year <= year - 3
            )
            chosen = self.pick(smes, self.targets.srdi_provincial.get(year, 0), exclude=provincial)
            # National "little giants" come from firms already on the provincial list.
            earlier = sorted(set(provincial) - set(national))
            promoted = self.rng.sample(
                earlier, min(len(earlier), self.targets.srdi_national.get(year, 0))
            )
            provincial += chosen
            national += promoted
            for uscc in chosen:
                self.add(
                    uscc,
                    K.SRDI,
                    _day(year, SRDI_DAY[L.PROVINCIAL]),
                    level=L.PROVINCIAL,
                    notes="广西专精特新中小企业",
                )
            for uscc in promoted:
                self.add(
                    uscc,
                    K.SRDI,
                    _day(year, SRDI_DAY[L.NATIONAL]),
                    level=L.NATIONAL,
                    notes="国家级专精特新“小巨人”企业",
                )

    def plan_rd_institutions(self) -> None:
        held = {(q.uscc, q.subtype, q.level) for q in self.records if q.kind == K.RD_INSTITUTION}
        for year in YEARS:
            for subtype, level, count in self.targets.rd.get(year, ()):
                able = (
                    e
                    for e in self.operating
                    if self.profile_of(e).tech
                    and e.size != E.Size.MICRO
                    and e.founded_on.year <= year - 2
                )
                taken = {u for u, s, lv in held if s == subtype and lv == level}
                for uscc in self.pick(able, count, exclude=taken):
                    held.add((uscc, subtype, level))
                    day = _day(year, RD_DAY[level])
                    self.add(uscc, K.RD_INSTITUTION, day, level=level, subtype=subtype)

    def plan_innovation_teams(self) -> None:
        """High-level innovation teams (高层次人才创新创业团队) recognised by the zone in 2018, at
        high-tech enterprises, the first by credit code: no random draws, so adding them left
        every other kind's plan as it was. The policy demo grants each its support."""
        day = _day(2018, INNOVATION_TEAM_DAY)
        hosts = sorted(
            q.uscc
            for q in self.records
            if q.kind == K.HIGH_TECH and q.recognised_on <= day <= q.valid_until
        )
        for i, uscc in enumerate(dict.fromkeys(hosts).keys()):
            if i == INNOVATION_TEAMS_2018:
                break
            self.add(
                uscc,
                K.INNOVATION_TEAM,
                day,
                level=L.MUNICIPAL,
                certificate_no=f"LZGX-TD-2018-{i + 1:02d}",
            )

    def plan(self) -> list[DemoQualification]:
        self.plan_anchor_records()
        self.plan_above_scale()
        self.plan_smart_factory()
        self.plan_gazelle()
        self.plan_high_tech()
        self.plan_tech_sme()
        self.plan_srdi()
        self.plan_rd_institutions()
        self.plan_innovation_teams()
        return self.records


def plan_organisations(
    rng: random.Random, enterprises: list[DemoEnterprise]
) -> list[DemoOrganisation]:
    """党工委 → 汽车城联合党委 → a few enterprise branches (the demo enterprise's first)."""
    root = DemoOrganisation("柳州高新区党工委", "working_committee")
    joint = DemoOrganisation(
        "广西柳州汽车城联合党委",
        "joint_committee",
        parent=root.name,
        founded_on=dt.date(2015, 7, 1),
    )
    demo = next(e for e in enterprises if e.anchor == DEMO_ENTERPRISE_ANCHOR)
    others = [
        e
        for e in enterprises
        if not e.anchor
        and e.status == E.Status.OPERATING
        and e.chain_code == "auto-parts"
        and e.size in (E.Size.MEDIUM, E.Size.SMALL)
    ][:5]
    branches = [
        DemoOrganisation(
            f"{e.name}党支部",
            "branch",
            parent=joint.name,
            enterprise_uscc=e.uscc,
            founded_on=dt.date(
                rng.randint(max(2012, e.founded_on.year + 1), 2021), rng.randint(1, 12), 1
            ),
        )
        for e in [demo, *others]
    ]
    return [root, joint, *branches]


def generate_zone(
    seed: int = DEFAULT_SEED,
    n_enterprises: int = DEFAULT_ENTERPRISES,
    targets: Targets = DEFAULT_TARGETS,
) -> DemoZone:
    """The whole demo zone as plain data. Same arguments, same zone: nothing reads the clock."""
    if n_enterprises < MIN_ENTERPRISES:
        raise ValueError(f"a demo zone needs at least {MIN_ENTERPRISES} enterprises")
    rng = random.Random(seed)
    industry_names = {r["code"]: r["name"] for r in industry_rows() if r["level"] == 4}
    enterprises = generate_enterprises(rng, n_enterprises, industry_names)
    qualifications = _QualificationPlanner(rng, enterprises, targets.scaled(n_enterprises)).plan()
    organisations = plan_organisations(rng, enterprises)
    return DemoZone(
        seed=seed,
        grids=build_grids(),
        enterprises=enterprises,
        qualifications=qualifications,
        organisations=organisations,
        demo_enterprise_uscc=organisations[2].enterprise_uscc,
        demo_branch_name=organisations[2].name,
    )


# ---------------------------------------------------------------------------------------------
# Loading

DEMO_PASSWORD = "gaoxin-demo"  # noqa: S105 - documented demo password, overridable by env
DEMO_PASSWORD_ENV = "GAOXIN_DEMO_PASSWORD"  # noqa: S105 - a variable name, not a secret
GRID_FIELDS = ("code", "name", "street")
ORGANISATION_FIELDS = ("name", "kind", "parent", "enterprise", "founded_on")
USER_FIELDS = ("username", "role", "department", "display_name", "enterprise", "party_org")


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    department: str
    display_name: str
    binds: str = ""  # "enterprise" or "branch": what the account is bound to


DEMO_ACCOUNTS = (
    DemoAccount("zone_admin", Role.ZONE_ADMIN, Department.OFFICE, "管委会管理员（演示）"),
    DemoAccount("jingfa", Role.DEPT_STAFF, Department.ECONOMIC, "经发局工作人员（演示）"),
    DemoAccount("keji", Role.DEPT_STAFF, Department.SCITECH, "科技局工作人员（演示）"),
    DemoAccount("dangqun", Role.DEPT_STAFF, Department.PARTY, "党群工作部工作人员（演示）"),
    DemoAccount("caizheng", Role.DEPT_STAFF, Department.FINANCE, "财政局工作人员（演示）"),
    DemoAccount("zhaoshang", Role.DEPT_STAFF, Department.INVESTMENT, "招商局工作人员（演示）"),
    DemoAccount("shenpi", Role.DEPT_STAFF, Department.APPROVAL, "行政审批局工作人员（演示）"),
    DemoAccount("reviewer", Role.REVIEWER, Department.SCITECH, "科技局审核员（演示）"),
    DemoAccount("leader", Role.LEADER, "", "管委会领导（演示）"),
    DemoAccount("auditor", Role.AUDITOR, "", "审计员（演示）"),
    DemoAccount("qiye", Role.ENTERPRISE, "", "企业填报员（演示）", binds="enterprise"),
    DemoAccount("shuji", Role.BRANCH_SECRETARY, "", "支部书记（演示）", binds="branch"),
)


@dataclass
class LoadResult:
    """What a load wrote: per table, rows created, updated and left as they were."""

    batch: uuid.UUID
    reference: dict[str, int] = field(default_factory=dict)
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    # Qualifications of demo enterprises that the plan does not contain (added by staff, or left
    # by a load with another seed or size). Kept: a reload never deletes anything.
    not_in_plan: Counter[str] = field(default_factory=Counter)
    accounts: list[tuple[Any, str]] = field(default_factory=list)  # (user, bound object label)

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) + sum(self.updated.values()))


class _Writer:
    """Creates missing rows and updates differing ones, one audit row each, in bulk."""

    def __init__(self, actor: Any, result: LoadResult) -> None:
        self.actor = actor
        self.result = result

    def entry(
        self, action: str, obj: models.Model, changes: dict[str, Any], label: str, ent: Any
    ) -> audit.AuditEntry:
        return audit.build(
            actor=self.actor,
            action=action,
            obj=obj,
            object_repr=label,
            changes=changes,
            enterprise_id=ent,
            batch=self.result.batch,
        )

    def sync(
        self,
        table: str,
        desired: list[Any],
        existing: Iterable[Any],
        key: Callable[[Any], Any],
        audited: Sequence[str],
        *,
        describe: Callable[[Any], str] = str,
        enterprise_of: Callable[[Any], int | None] = lambda obj: None,
        touch: Sequence[str] = (),
    ) -> dict[Any, Any]:
        """Returns every desired row, by key, as saved."""
        if not desired:
            return {}
        model = type(desired[0])
        current = {key(obj): obj for obj in existing}
        planned = {key(obj) for obj in desired}
        self.result.not_in_plan[table] += sum(1 for k in current if k not in planned)
        new: list[Any] = []
        changed: list[tuple[Any, dict[str, Any]]] = []
        for obj in desired:
            old = current.get(key(obj))
            if old is None:
                new.append(obj)
                continue
            changes = audit.diff(audit.snapshot(old, audited), audit.snapshot(obj, audited))
            if not changes:
                self.result.unchanged[table] += 1
                continue
            for name in changes:
                attname = _attname(model, name)
                setattr(old, attname, getattr(obj, attname))
            changed.append((old, changes))
        entries = []
        if new:
            model.objects.bulk_create(new, batch_size=500)
            if any(obj.pk is None for obj in new):  # pragma: no cover - SQLite < 3.35
                raise RuntimeError("the database did not return keys for bulk-created rows")
            for obj in new:
                current[key(obj)] = obj
                snap = audit.diff({}, audit.snapshot(obj, audited))
                entries.append(self.entry("create", obj, snap, describe(obj), enterprise_of(obj)))
        if changed:
            now = timezone.now()
            for obj, _changes in changed:
                for name in touch:
                    setattr(obj, name, now)
            names = sorted({n for _obj, ch in changed for n in ch} | set(touch))
            model.objects.bulk_update([obj for obj, _ in changed], names, batch_size=500)
            for obj, changes in changed:
                entries.append(
                    self.entry("update", obj, changes, describe(obj), enterprise_of(obj))
                )
        audit.record_many(entries)
        self.result.created[table] += len(new)
        self.result.updated[table] += len(changed)
        return current


def _attname(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):  # pragma: no cover - only concrete fields are synced
        raise TypeError(f"{name} is not a concrete field")
    return field.attname


def _ids(model: type[models.Model], codes: Iterable[str]) -> dict[str, int]:
    wanted = sorted({c for c in codes if c})
    return dict(model._default_manager.filter(code__in=wanted).values_list("code", "pk"))


def _capital_value(value: Decimal) -> Decimal:
    # Same precision as the column, so a reload compares equal to what the database returns.
    return value.quantize(Decimal("0.0001"))


@transaction.atomic
def load_zone(zone: DemoZone, *, actor: Any = None, result: LoadResult | None = None) -> LoadResult:
    """Writes the demo zone idempotently (see the module docstring); returns what changed."""
    result = result or LoadResult(batch=uuid.uuid4())
    writer = _Writer(actor, result)

    grids = writer.sync(
        "grids",
        [Grid(code=g.code, name=g.name, street=g.street) for g in zone.grids],
        Grid.objects.filter(code__in=[g.code for g in zone.grids]),
        key=lambda g: g.code,
        audited=GRID_FIELDS,
    )

    ents = zone.enterprises
    industry = _ids(IndustryCategory, (e.industry_code for e in ents))
    emerging = _ids(EmergingCategory, (e.sei_code for e in ents))
    chains = _ids(IndustryChain, (e.chain_code for e in ents))

    enterprises = writer.sync(
        "enterprises",
        [
            Enterprise(
                uscc=e.uscc,
                name=e.name,
                former_names=e.former_names,
                name_initials=pinyin_initials(e.name),
                founded_on=e.founded_on,
                registered_capital=_capital_value(e.registered_capital),
                legal_representative=e.legal_representative,
                address=e.address,
                industry_id=industry[e.industry_code],
                sei_category_id=emerging.get(e.sei_code),
                sei_status=e.sei_status,
                chain_id=chains.get(e.chain_code),
                chain_position=e.chain_position,
                grid_id=grids[e.grid_code].pk,
                status=e.status,
                size=e.size,
                is_non_public=e.is_non_public,
                contact_name=e.contact_name,
                contact_phone=e.contact_phone,
                description=e.description,
            )
            for e in ents
        ],
        Enterprise.objects.filter(uscc__in=[e.uscc for e in ents]),
        key=lambda e: e.uscc,
        audited=AUDITED_ENTERPRISE_FIELDS,
        enterprise_of=lambda e: e.pk,
        touch=("updated_at",),
    )

    name_of = {e.pk: e.name for e in enterprises.values()}
    writer.sync(
        "qualifications",
        [
            Qualification(
                enterprise_id=enterprises[q.uscc].pk,
                kind=q.kind,
                level=q.level,
                subtype=q.subtype,
                certificate_no=q.certificate_no,
                recognised_on=q.recognised_on,
                valid_until=q.valid_until,
                notes=q.notes,
            )
            for q in zone.qualifications
        ],
        Qualification.objects.filter(enterprise_id__in=list(name_of)),
        key=lambda q: (q.enterprise_id, q.kind, q.subtype, q.recognised_on),
        audited=QUALIFICATION_FIELDS,
        describe=lambda q: f"{name_of[q.enterprise_id]} · {q}",
        enterprise_of=lambda q: q.enterprise_id,
    )

    # Parents before children: the plan lists the tree top-down; one pass per level.
    orgs: dict[str, Any] = {}
    depth: dict[str, int] = {}
    for o in zone.organisations:
        depth[o.name] = depth[o.parent] + 1 if o.parent else 0
    for level in sorted(set(depth.values())):
        rows = [o for o in zone.organisations if depth[o.name] == level]
        orgs.update(
            writer.sync(
                "organisations",
                [
                    Organisation(
                        name=o.name,
                        kind=o.kind,
                        parent_id=orgs[o.parent].pk if o.parent else None,
                        enterprise_id=enterprises[o.enterprise_uscc].pk
                        if o.enterprise_uscc
                        else None,
                        founded_on=o.founded_on,
                    )
                    for o in rows
                ],
                Organisation.objects.filter(name__in=[o.name for o in rows]),
                key=lambda o: o.name,
                audited=ORGANISATION_FIELDS,
                enterprise_of=lambda o: o.enterprise_id,
            )
        )
    return result


def demo_password() -> str:
    """The demo accounts' password: $GAOXIN_DEMO_PASSWORD, or the documented default."""
    return os.environ.get(DEMO_PASSWORD_ENV) or DEMO_PASSWORD


@transaction.atomic
def load_accounts(
    zone: DemoZone, *, password: str, actor: Any = None, result: LoadResult | None = None
) -> LoadResult:
    """One demo account per role (and per department for staff), idempotently.

    An existing account is brought back to its demo role, binding and password; only real
    changes write audit rows, and the password itself never appears in one.
    """
    from django.contrib.auth import get_user_model

    result = result or LoadResult(batch=uuid.uuid4())
    writer = _Writer(actor, result)
    user_model = get_user_model()
    enterprise = Enterprise.objects.get(uscc=zone.demo_enterprise_uscc)
    branch = Organisation.objects.get(name=zone.demo_branch_name)
    usernames = [a.username for a in DEMO_ACCOUNTS]
    existing = {u.username: u for u in user_model.objects.filter(username__in=usernames)}
    entries = []
    for account in DEMO_ACCOUNTS:
        wanted = user_model(
            username=account.username,
            role=account.role,
            department=account.department,
            display_name=account.display_name,
            enterprise=enterprise if account.binds == "enterprise" else None,
            party_org=branch if account.binds == "branch" else None,
        )
        user = existing.get(account.username)
        if user is None:
            wanted.set_password(password)
            wanted.save()
            user = wanted
            changes = audit.diff({}, audit.snapshot(user, USER_FIELDS))
            entries.append(writer.entry("create", user, changes, user.username, None))
            result.created["users"] += 1
        else:
            changes = audit.diff(
                audit.snapshot(user, USER_FIELDS), audit.snapshot(wanted, USER_FIELDS)
            )
            update_fields = []
            for name in changes:
                attname = _attname(user_model, name)
                setattr(user, attname, getattr(wanted, attname))
                update_fields.append(attname)
            if not user.is_active:
                user.is_active = True
                update_fields.append("is_active")
                changes["is_active"] = [False, True]
            if not user.check_password(password):
                user.set_password(password)
                update_fields.append("password")
                changes["password"] = ["******", "******"]
            if update_fields:
                user.save(update_fields=update_fields)
                entries.append(writer.entry("update", user, changes, user.username, None))
                result.updated["users"] += 1
            else:
                result.unchanged["users"] += 1
        bound = enterprise.name if account.binds == "enterprise" else ""
        bound = branch.name if account.binds == "branch" else bound
        result.accounts.append((user, bound))
    audit.record_many(entries)
    return result


@transaction.atomic
def load_demo(
    *,
    seed: int = DEFAULT_SEED,
    n_enterprises: int = DEFAULT_ENTERPRISES,
    password: str | None = None,
    actor: Any = None,
) -> LoadResult:
    """Reference data, the demo zone and the demo accounts in one transaction (idempotent)."""
    result = LoadResult(batch=uuid.uuid4())
    result.reference = load_reference_data()
    zone = generate_zone(seed, n_enterprises)
    load_zone(zone, actor=actor, result=result)
    load_accounts(zone, password=password or demo_password(), actor=actor, result=result)
    return result
