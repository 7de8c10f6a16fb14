"""Identifier validation. Each rule has a single-value path (forms, API) and a vectorised path
(polars, for imports); tests prove the two agree on arbitrary input."""

from __future__ import annotations

import unicodedata

import polars as pl
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum.cn import uscc as stdnum_uscc

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 32100-2015 登记管理部门代码: 1-9 plus A (中央军委改革和编制办公室), N (农业), Y (其他).
USCC_DEPARTMENT_CODES = "123456789ANY"


def normalise_code(value: str) -> str:
    """Full-width to half-width, drop spaces and hyphens, upper-case."""
    text = unicodedata.normalize("NFKC", value or "")
    return "".join(ch for ch in text if ch not in " -\u3000\t").upper()


def uscc_error(value: str) -> str | None:
    """The reason a unified social credit code is invalid, in the user's language, or None."""
    code = normalise_code(value)
    if not code:
        return _("统一社会信用代码不能为空")
    if len(code) != 18:
        return _("统一社会信用代码应为18位,实际为%(n)d位") % {"n": len(code)}
    for pos, ch in enumerate(code, start=1):
        if ch not in USCC_ALPHABET:
            return _("统一社会信用代码第%(pos)d位“%(ch)s”不是允许的字符(不使用I、O、Z、S、V)") % {
                "pos": pos,
                "ch": ch,
            }
    if code[0] not in USCC_DEPARTMENT_CODES:
        return _("统一社会信用代码第1位(登记管理部门代码)“%(ch)s”无效") % {"ch": code[0]}
    if not code[2:8].isdigit():
        return _("统一社会信用代码第3-8位应为行政区划代码(6位数字)")
    expected = stdnum_uscc.calc_check_digit(code[:17])
    if code[17] != expected:
        return _("统一社会信用代码校验位错误:第18位应为“%(exp)s”,实际为“%(got)s”") % {
            "exp": expected,
            "got": code[17],
        }
    return None


def validate_uscc(value: str) -> None:
    """Django field validator."""
    error = uscc_error(value)
    if error:
        raise ValidationError(error, code="invalid_uscc")


def uscc_check_expr(col: pl.Expr) -> pl.Expr:
    """Vectorised: True where `col` (already normalised) is a valid USCC."""
    value_of = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
    chars = [col.str.slice(i, 1) for i in range(18)]
    total = pl.lit(0, dtype=pl.Int64)
    for i in range(17):
        digit = chars[i].replace_strict(value_of, default=None, return_dtype=pl.Int64)
        total = total + digit * USCC_WEIGHTS[i]
    check = ((31 - total % 31) % 31).replace_strict(
        dict(enumerate(USCC_ALPHABET)), default=None, return_dtype=pl.String
    )
    well_formed = (col.str.len_chars() == 18) & col.str.contains(
        f"^[{USCC_DEPARTMENT_CODES}][{USCC_ALPHABET}][0-9]{{6}}[{USCC_ALPHABET}]{{10}}$"
    )
    return (well_formed & (chars[17] == check)).fill_null(False)


def uscc_with_check_digit(first17: str) -> str:
    """Complete a 17-character prefix with its check digit (demo data, tests)."""
    return first17 + stdnum_uscc.calc_check_digit(first17)
