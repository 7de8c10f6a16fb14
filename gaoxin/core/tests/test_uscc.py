import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaoxin.core.validators import USCC_ALPHABET, normalise_code, uscc_check_expr, uscc_error

# The first is python-stdnum's documented example; the others are well-formed codes (enterprise,
# 其他 department, public institution) whose check digit was computed independently by hand.
VALID = ["91110000600037341L", "91450200198230052L", "Y1450200MJ0000001E", "12450200000000001M"]


@pytest.mark.parametrize("code", VALID)
def test_valid_codes_pass(code):
    assert uscc_error(code) is None


def test_full_width_and_spaces_are_tolerated():
    assert uscc_error("９１１１ ００００６０００３７３４１ｌ") is None


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("", "不能为空"),
        ("9111000060003734", "应为18位,实际为16位"),
        ("91110000600037341I", "第18位“I”不是允许的字符"),
        ("B1110000600037341L", "第1位(登记管理部门代码)"),
        ("911A0000600037341L", "第3-8位应为行政区划代码"),
        ("91110000600037341M", "校验位错误:第18位应为“L”,实际为“M”"),
    ],
)
def test_each_kind_of_wrong_code_is_explained(code, fragment):
    error = uscc_error(code)
    assert error is not None and fragment in error


uscc_like = st.text(alphabet=USCC_ALPHABET + "IOZSV a-", min_size=0, max_size=20)


@settings(max_examples=300, deadline=None)
@given(st.lists(uscc_like, min_size=1, max_size=20))
def test_vectorised_check_agrees_with_single_value_check(values):
    normalised = [normalise_code(v) for v in values]
    frame = pl.DataFrame({"c": normalised})
    vector = frame.select(uscc_check_expr(pl.col("c"))).to_series().to_list()
    assert vector == [uscc_error(v) is None for v in normalised]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=10, max_size=10))
def test_generated_valid_codes_agree(org):
    from gaoxin.core.validators import uscc_with_check_digit

    code = uscc_with_check_digit("91450211" + org[:9])
    assert uscc_error(code) is None
    frame = pl.DataFrame({"c": [code]})
    assert frame.select(uscc_check_expr(pl.col("c"))).item() is True
