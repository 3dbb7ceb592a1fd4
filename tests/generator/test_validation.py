"""generator.validation: ID numbers, credit codes, phones, mail, URLs and field_problems.

Valid ID numbers and credit codes are built here by computing their check
characters independently of the module (from the standards' formulas), so no
test depends on a hand-typed "known good" string.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import MappingProxyType

import pytest

from generator import validation as v
from generator.source import Source
from generator.spec import Enum, Field, Label

TODAY = dt.date(2024, 6, 15)

# ------------------------------------------------------------------ reference implementations

ID_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
USCC_CS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_W = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_number(region: str, birth: str, seq: str) -> str:
    body = region + birth + seq
    assert len(body) == 17
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, ID_W)) % 11]


def uscc(body: str) -> str:
    assert len(body) == 17
    c = 31 - sum(USCC_CS.index(ch) * w for ch, w in zip(body, USCC_W)) % 31
    return body + USCC_CS[0 if c == 31 else c]


def wrong_last(code: str, charset: str) -> str:
    return code[:-1] + next(c for c in charset if c != code[-1])


def fld(type: str = "string", **kw) -> Field:
    return Field(src=Source("t.yaml", 1, 1), path=("entities", "e", "fields", "f"), name="f",
                 label=Label("字段", "Field"), type=type, **kw)


# ------------------------------------------------------------------ ID numbers

VALID_IDS = [
    id_number("420222", "19900307", "123"),   # 阳新县
    id_number("110105", "19491001", "001"),
    id_number("440305", "20000229", "456"),   # leap day
    id_number("420222", "19000101", "002"),   # earliest accepted year
    id_number("420222", "20240615", "003"),   # born "today"
]


@pytest.mark.parametrize("number", VALID_IDS)
def test_valid_id_numbers(number: str) -> None:
    assert v.check_id_card(number, today=TODAY)
    assert v.id_card_problem(number, today=TODAY) is None


def test_id_check_char_matches_reference_for_many_bodies() -> None:
    for seq in range(0, 1000, 7):
        n = id_number("420222", "19851231", f"{seq:03d}")
        assert v.id_card_check_char(n[:17]) == n[17]
        assert v.check_id_card(n)
    # every check character occurs, X included
    seen = {id_number("420222", "19851231", f"{s:03d}")[-1] for s in range(200)}
    assert seen == set("0123456789X")


def test_id_published_example() -> None:
    # The worked example of GB 11643-1999 Annex: 11010519491231002X.
    assert v.check_id_card("11010519491231002X")
    assert v.check_id_card("11010519491231002x")  # lower-case x accepted


def test_id_lowercase_x_accepted() -> None:
    x_number = next(n for n in (id_number("420222", "19880808", f"{s:03d}") for s in range(100))
                    if n.endswith("X"))
    assert v.check_id_card(x_number)
    assert v.check_id_card(x_number[:-1] + "x")


def test_id_wrong_check_digit() -> None:
    for good in VALID_IDS:
        bad = wrong_last(good, "0123456789X")
        assert not v.check_id_card(bad, today=TODAY)
        assert v.id_card_problem(bad, today=TODAY) == "id_card_check"


@pytest.mark.parametrize("birth", ["19990230", "19990231", "19991301", "19990000", "19000229",
                                   "18991231", "20240616", "30000101"])
def test_id_bad_birth_dates(birth: str) -> None:
    number = id_number("420222", birth, "123")   # check char right, date wrong
    assert v.id_card_problem(number, today=TODAY) == "id_card_birth"
    assert not v.check_id_card(number, today=TODAY)


def test_id_future_default_today() -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    assert not v.check_id_card(id_number("420222", tomorrow.strftime("%Y%m%d"), "123"))


def test_id_legacy_15_digits_rejected() -> None:
    assert v.id_card_problem("420222900307123") == "id_card_legacy"
    assert not v.check_id_card("420222900307123")


@pytest.mark.parametrize("value", ["", "4202221990030712", "4202221990030712345",
                                   "42022219900307123A", "4202221990030712X3", " " + VALID_IDS[0],
                                   VALID_IDS[0] + "\n", "４２０２２２19900307123" + VALID_IDS[0][-1],
                                   None, 420222199003071230])
def test_id_bad_shape(value) -> None:
    assert v.id_card_problem(value) == "id_card_shape"
    assert not v.check_id_card(value)


def test_id_check_char_rejects_bad_input() -> None:
    for bad in ("1234", "1" * 18, "１" * 17, "a" * 17):
        with pytest.raises(ValueError):
            v.id_card_check_char(bad)


# ------------------------------------------------------------------ USCC

VALID_USCC = [
    uscc("91420222MA4F0C2B1"),   # 91 enterprise, 420222 阳新县, MA4… as issued by Hubei
    uscc("91420222MA49XW7D3"),
    uscc("12420222MB0000001"),   # 事业单位
    uscc("51420222MJ1234567"),   # 社会团体
    uscc("Y1420222000000000"),
]


@pytest.mark.parametrize("code", VALID_USCC)
def test_valid_uscc(code: str) -> None:
    assert v.check_uscc(code)
    assert v.uscc_problem(code) is None
    assert v.uscc_check_char(code[:17]) == code[17]


def test_uscc_real_format_91420222ma4() -> None:
    code = uscc("91420222MA4" + "A1B2C3")
    assert code.startswith("91420222MA4") and len(code) == 18
    assert v.check_uscc(code)


def test_uscc_check_zero_when_31() -> None:
    # Find a body whose weighted sum is a multiple of 31: the check must be "0".
    body = next(b for b in (f"91420222MA4{n:06d}" for n in range(10000))
                if sum(USCC_CS.index(c) * w for c, w in zip(b, USCC_W)) % 31 == 0)
    assert v.uscc_check_char(body) == "0"
    assert v.check_uscc(body + "0")


def test_uscc_check_chars_cover_letters() -> None:
    seen = {uscc(f"91420222MA4{n:06d}")[-1] for n in range(2000)}
    assert seen == set(USCC_CS)


def test_uscc_wrong_check_char() -> None:
    for good in VALID_USCC:
        bad = wrong_last(good, USCC_CS)
        assert v.uscc_problem(bad) == "uscc_check"
        assert not v.check_uscc(bad)


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_uscc_forbidden_letters(letter: str) -> None:
    good = VALID_USCC[0]
    for pos in (0, 10, 17):
        bad = good[:pos] + letter + good[pos + 1:]
        assert v.uscc_problem(bad) == "uscc_shape"
        assert not v.check_uscc(bad)
    with pytest.raises(ValueError):
        v.uscc_check_char(letter + good[1:17])


def test_uscc_lowercase_rejected_with_own_message() -> None:
    lower = VALID_USCC[0].lower()
    assert lower != VALID_USCC[0]
    assert v.uscc_problem(lower) == "uscc_lowercase"
    assert not v.check_uscc(lower)
    # lower-case forbidden letters are a shape problem, not a case problem
    assert v.uscc_problem("i" + VALID_USCC[0][1:]) == "uscc_shape"


@pytest.mark.parametrize("value", ["", "91420222MA4F0C2B1", VALID_USCC[0] + "0", None, 123,
                                   " " + VALID_USCC[0][1:], VALID_USCC[0][:17] + "-"])
def test_uscc_bad_shape(value) -> None:
    assert v.uscc_problem(value) == "uscc_shape"


# ------------------------------------------------------------------ phones, mail, url

@pytest.mark.parametrize("value,ok", [
    ("13812345678", True), ("19912345678", True), ("15071234567", True),
    ("12812345678", False), ("10012345678", False), ("1381234567", False), ("138123456789", False),
    ("138 1234 5678", False), ("+8613812345678", False), ("1381234567８", False), ("13812345678\n", False),
    ("", False), (None, False), (13812345678, False),
])
def test_check_mobile(value, ok) -> None:
    assert v.check_mobile(value) is ok


@pytest.mark.parametrize("value,ok", [
    ("13812345678", True), ("0714-1234567", True), ("07141234567", True), ("010-12345678", True),
    ("01012345678", True), ("027 87654321", True), ("0714-1234567-801", True), ("0714-1234567转801", True),
    ("0714-1234567 ext 801", True), ("0714-1234567 EXT. 801", True), ("400-123-4567", True),
    ("4001234567", True), ("800-123-4567", True),
    ("1234567", False), ("0714-0234567", False), ("0714-123456", False), ("0714--1234567", False),
    ("714-1234567", False), ("0714-1234567-", False), ("0714-1234567-1234567", False),
    ("12345", False), ("abc", False), ("", False), (None, False),
])
def test_check_phone(value, ok) -> None:
    assert v.check_phone(value) is ok


@pytest.mark.parametrize("value,ok", [
    ("a@b.cn", True), ("zhang.san@yangxin.gov.cn", True), ("x+tag@mail.example.com", True),
    ("user@xn--fiqs8s.cn", True), ("o'neil@example.org", True),
    ("plain", False), ("@example.com", False), ("a@", False), ("a@b", False), ("a@b.c", False),
    ("a@@b.cn", False), ("a b@c.cn", False), (".a@b.cn", False), ("a..b@c.cn", False),
    ("a@-b.cn", False), ("a@b-.cn", False), ("a@b.cn.", False), ("张三@example.com", False),
    ("a@b.1n", False), ("a" * 65 + "@b.cn", False), ("", False), (None, False),
])
def test_check_email(value, ok) -> None:
    assert v.check_email(value) is ok


@pytest.mark.parametrize("value,ok", [
    ("http://example.com", True), ("https://www.yangxin.gov.cn/path?q=1#top", True),
    ("HTTPS://EXAMPLE.COM", True), ("http://localhost:5000/", True), ("http://192.168.1.10/", True),
    ("https://user@example.com:8443/x", True),
    ("ftp://example.com", False), ("javascript:alert(1)", False), ("//example.com", False),
    ("http://", False), ("http:///path", False), ("example.com", False), ("http://exa mple.com", False),
    ("http://example.com:99999", False), ("http://example.com:0", False), ("http://example", False),
    ("http://999.1.1.1/", False), ("https://例子.中国", False), ("http://a.cn/\n", False),
    ("", False), (None, False),
])
def test_check_url(value, ok) -> None:
    assert v.check_url(value) is ok


# ------------------------------------------------------------------ messages

def test_every_message_has_both_languages() -> None:
    for code, (zh, en) in v.MESSAGES.items():
        assert zh and en and zh != en, code
        assert v.message(code, "zh", n=3) == zh.format(n=3)
        assert v.message(code, "en", n=3) == en.format(n=3)
    assert v.message("id_card_check", "zh") == "身份证号码校验位不正确"
    assert v.message("id_card_check", "en") == "ID number check digit is wrong"
    assert v.message("required", "fr") == "此项为必填项"   # unknown language → Chinese


@pytest.mark.parametrize("value,empty", [(None, True), ("", True), ("  \t", True), ("0", False),
                                         (0, False), (False, False), ("x", False)])
def test_is_empty(value, empty) -> None:
    assert v.is_empty(value) is empty


# ------------------------------------------------------------------ field_problems

def test_required_and_empty() -> None:
    req = fld(required=True, format="id_card", min_length=18)
    for empty in (None, "", "   "):
        assert v.field_problems(req, empty) == ["此项为必填项"]
        assert v.field_problems(req, empty, "en") == ["This field is required"]
        assert v.field_problems(fld(format="id_card", min_length=18), empty) == []
    # False and 0 are answers, not blanks
    assert v.field_problems(fld("boolean", required=True), False) == []
    assert v.field_problems(fld("integer", required=True), 0) == []


def test_lengths() -> None:
    f = fld(min_length=2, max_length=4)
    assert v.field_problems(f, "ab") == []
    assert v.field_problems(f, "阳新县城") == []          # characters, not bytes
    assert v.field_problems(f, "a") == ["长度不能少于 2 个字符"]
    assert v.field_problems(f, "abcde", "en") == ["Must be at most 4 characters"]
    assert v.field_problems(fld("text", max_length=3), "四个汉字") == ["长度不能超过 3 个字符"]


def test_numbers() -> None:
    f = fld("integer", min=0, max=150)
    assert v.field_problems(f, 0) == []
    assert v.field_problems(f, 150) == []
    assert v.field_problems(f, "42") == []
    assert v.field_problems(f, -1) == ["不能小于 0"]
    assert v.field_problems(f, 151, "en") == ["Must be at most 150"]
    assert v.field_problems(f, 1.5) == ["请输入整数"]
    assert v.field_problems(f, "abc", "en") == ["Must be a whole number"]
    assert v.field_problems(f, True) == ["请输入整数"]
    assert v.field_problems(f, 3.0) == []
    d = fld("decimal", min=0.5, max=1000000)
    assert v.field_problems(d, Decimal("0.5")) == []
    assert v.field_problems(d, 0.49) == ["不能小于 0.5"]
    assert v.field_problems(d, Decimal("1000000.01"), "en") == ["Must be at most 1000000"]
    assert v.field_problems(d, "12.30") == []
    assert v.field_problems(d, "x") == ["请输入数字"]
    assert v.field_problems(d, float("nan"), "en") == ["Must be a number"]
    assert v.field_problems(d, float("inf")) == ["请输入数字"]
    assert v.field_problems(d, Decimal("Infinity")) == ["请输入数字"]
    assert v.field_problems(d, [1]) == ["请输入数字"]
    assert v.field_problems(fld("integer"), object()) == ["请输入整数"]
    # no bounds: anything numeric passes
    assert v.field_problems(fld("decimal"), -99999.99) == []
    # decimal bounds given as Decimal are shown plainly
    assert v.field_problems(fld("decimal", max=Decimal("100")), 101) == ["不能大于 100"]


def test_pattern_must_match_whole_value() -> None:
    f = fld(pattern=r"YX-[A-Z]-\d{2}")
    assert v.field_problems(f, "YX-A-01") == []
    assert v.field_problems(f, "YX-A-012") == ["格式不符合要求"]
    assert v.field_problems(f, "xYX-A-01", "en") == ["Does not match the required format"]
    anchored = fld(pattern=r"^YX-[A-Z]-\d{2}$")
    assert v.field_problems(anchored, "YX-A-01") == []
    assert v.field_problems(anchored, "YX-A-01\n") == ["此项只能填一行，不能换行"]  # refused before the pattern


@pytest.mark.parametrize("fmt,good,bad,zh,en", [
    ("id_card", VALID_IDS[0], wrong_last(VALID_IDS[0], "0123456789X"),
     "身份证号码校验位不正确", "ID number check digit is wrong"),
    ("id_card", VALID_IDS[0], id_number("420222", "19990230", "123"),
     "身份证号码中的出生日期无效", "ID number contains an invalid birth date"),
    ("id_card", VALID_IDS[0], "420222900307123",
     "不支持15位旧身份证号码，请填写18位号码", "15-digit legacy ID numbers are not accepted; enter the 18-digit number"),
    ("id_card", VALID_IDS[0], "42022219900307", v.MESSAGES["id_card_shape"][0], v.MESSAGES["id_card_shape"][1]),
    ("uscc", VALID_USCC[0], wrong_last(VALID_USCC[0], USCC_CS),
     "统一社会信用代码校验位不正确", "Unified social credit code check character is wrong"),
    ("uscc", VALID_USCC[0], VALID_USCC[0].lower(), v.MESSAGES["uscc_lowercase"][0], v.MESSAGES["uscc_lowercase"][1]),
    ("uscc", VALID_USCC[0], "O" + VALID_USCC[0][1:], v.MESSAGES["uscc_shape"][0], v.MESSAGES["uscc_shape"][1]),
    ("mobile", "13812345678", "12812345678", v.MESSAGES["mobile"][0], v.MESSAGES["mobile"][1]),
    ("phone", "0714-1234567", "1234567", v.MESSAGES["phone"][0], v.MESSAGES["phone"][1]),
    ("email", "a@b.cn", "a@b", "电子邮箱格式不正确", "Email address is not valid"),
    ("url", "https://a.cn", "ftp://a.cn", v.MESSAGES["url"][0], v.MESSAGES["url"][1]),
])
def test_formats(fmt, good, bad, zh, en) -> None:
    f = fld(format=fmt)
    assert v.field_problems(f, good) == []
    assert v.field_problems(f, bad) == [zh]
    assert v.field_problems(f, bad, "en") == [en]


def test_every_problem_is_reported() -> None:
    f = fld(required=True, max_length=10, pattern=r"\d+", format="mobile")
    assert v.field_problems(f, "abcdefghijkl") == ["长度不能超过 10 个字符", "格式不符合要求", v.MESSAGES["mobile"][0]]
    assert v.field_problems(f, "abcdefghijkl", "en") == [
        "Must be at most 10 characters", "Does not match the required format", v.MESSAGES["mobile"][1]]


def test_enum_keys_checked_only_with_enums() -> None:
    enums = {"gender": Enum(src=Source("e.yaml", 1, 1), path=("enums", "gender"), name="gender",
                            label=Label("性别", "Gender"),
                            values=MappingProxyType({"male": Label("男", "Male"), "female": Label("女", "Female")}))}
    f = fld("enum", enum="gender")
    assert v.field_problems(f, "male", enums=enums) == []
    assert v.field_problems(f, "other", enums=enums) == ["不是有效的选项"]
    assert v.field_problems(f, "other", "en", enums=enums) == ["Not a valid choice"]
    assert v.field_problems(f, "other") == []                       # no enums given
    assert v.field_problems(fld("enum", enum="nope"), "x", enums=enums) == []


def test_non_string_values_skip_string_rules() -> None:
    f = fld("date", required=True)
    assert v.field_problems(f, dt.date(2024, 1, 1)) == []
    assert v.field_problems(fld("boolean"), True) == []
    assert v.field_problems(fld("ref", required=True), object()) == []
