"""app.formatting (values shown in the reader's language, PII masking) and the
form/API adapters of app.forms_validation (WTForms and marshmallow).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import MappingProxyType

import pytest

from app.access.formatting import EMPTY, format_date, format_datetime, format_decimal, format_value, pii_mask
from generator.source import Source
from generator.spec import Enum, Field, Label
from generator.validation import MESSAGES

SRC = Source("t.yaml", 1, 1)


def fld(type: str = "string", **kw) -> Field:
    return Field(src=SRC, path=("entities", "e", "fields", "f"), name="f", label=Label("字段", "Field"),
                 type=type, **kw)


ENUMS = {"case_status": Enum(src=SRC, path=("enums", "case_status"), name="case_status",
                             label=Label("状态", "Status"),
                             values=MappingProxyType({"open": Label("受理中", "Open"),
                                                      "closed": Label("已结案", "Closed")}))}


# ------------------------------------------------------------------ format_value

@pytest.mark.parametrize("ftype", ["string", "text", "integer", "decimal", "boolean", "date", "datetime",
                                   "enum", "ref", "user", "file"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_empty_is_dash(ftype: str, lang: str) -> None:
    for empty in (None, "", "  "):
        assert format_value(fld(ftype, enum="case_status"), empty, lang, ENUMS) == EMPTY == "—"


def test_booleans() -> None:
    b = fld("boolean")
    assert format_value(b, True, "zh", ENUMS) == "是"
    assert format_value(b, False, "zh", ENUMS) == "否"
    assert format_value(b, True, "en", ENUMS) == "Yes"
    assert format_value(b, False, "en", ENUMS) == "No"
    assert format_value(b, 1, "xx", None) == "是"


def test_enums() -> None:
    e = fld("enum", enum="case_status")
    assert format_value(e, "open", "zh", ENUMS) == "受理中"
    assert format_value(e, "closed", "en", ENUMS) == "Closed"
    assert format_value(e, "lost", "zh", ENUMS) == "lost"          # unknown key as is
    assert format_value(e, "open", "zh", None) == "open"           # no enums given
    assert format_value(e, "open", "zh", {}) == "open"
    assert format_value(fld("enum", enum="missing"), "open", "en", ENUMS) == "open"


def test_dates_and_datetimes() -> None:
    d = fld("date")
    assert format_value(d, dt.date(2024, 3, 5), "zh", ENUMS) == "2024-03-05"
    assert format_value(d, dt.datetime(2024, 3, 5, 9, 7), "en", ENUMS) == "2024-03-05"
    assert format_value(d, "2024-03-05", "zh", ENUMS) == "2024-03-05"   # text as is
    t = fld("datetime")
    assert format_value(t, dt.datetime(2024, 3, 5, 9, 7, 59), "zh", ENUMS) == "2024-03-05 09:07"
    assert format_value(t, dt.datetime(2024, 12, 31, 23, 59, tzinfo=dt.timezone.utc), "en", ENUMS) \
        == "2024-12-31 23:59"
    assert format_value(t, dt.date(2024, 3, 5), "zh", ENUMS) == "2024-03-05"
    assert format_date(dt.date(900, 1, 2)) == "0900-01-02"
    assert format_datetime(dt.datetime(900, 1, 2, 3, 4)) == "0900-01-02 03:04"


@pytest.mark.parametrize("value,shown", [
    (Decimal("1234567.5"), "1,234,567.50"), (Decimal("0"), "0.00"), (0, "0.00"), (12, "12.00"),
    (Decimal("999.995"), "1,000.00"), (Decimal("0.125"), "0.13"), (0.285, "0.29"), (1234.5, "1,234.50"),
    (Decimal("-1234.567"), "-1,234.57"), (Decimal("-0.001"), "0.00"), ("1000", "1,000.00"),
    ("abc", "abc"), (float("nan"), "nan"), (True, "True"),
])
def test_decimals(value, shown) -> None:
    assert format_value(fld("decimal"), value, "zh", ENUMS) == shown
    assert format_decimal(value) == shown


def test_refs_and_others() -> None:
    class Org:
        def __str__(self) -> str:
            return "阳新县人民调解委员会"

    assert format_value(fld("ref", ref="org"), Org(), "zh", ENUMS) == "阳新县人民调解委员会"
    assert format_value(fld("user"), Org(), "en", ENUMS) == "阳新县人民调解委员会"
    assert format_value(fld("integer"), 2024, "en", ENUMS) == "2024"     # no separators: years, counts
    assert format_value(fld("integer"), 0, "zh", ENUMS) == "0"
    assert format_value(fld("string"), "张三", "en", ENUMS) == "张三"
    assert format_value(fld("file"), "uploads/a.pdf", "zh", ENUMS) == "uploads/a.pdf"


# ------------------------------------------------------------------ pii_mask

@pytest.mark.parametrize("kind,value,masked", [
    ("id_number", "420222199003071234", "4202**********1234"),
    ("id_number", "11010519491231002X", "1101**********002X"),
    ("id_number", "E12345678", "E123*5678"),
    ("id_number", "12345678", "********"),
    ("phone", "13812345678", "138****5678"),
    ("phone", "0714-1234567", "071*****4567"),
    ("phone", "1234567", "*******"),
    ("phone", 13812345678, "138****5678"),
    ("name", "张三", "张*"),
    ("name", "张三丰", "张**"),
    ("name", "欧阳娜娜", "欧阳**"),
    ("name", "欧阳修", "欧阳*"),
    ("name", "欧阳", "欧*"),
    ("name", "司马懿", "司马*"),
    ("name", "张", "*"),
    ("name", "  李四 ", "李*"),
    ("address", "湖北省黄石市阳新县兴国镇某路1号", "湖北省黄石市****"),
    ("address", "阳新县兴国镇", "阳新县****"),
    ("address", "阳", "****"),
    ("bank_account", "6222 0212 3456 7890 123", "**** **** **** 0123"),
    ("bank_account", "6222021234567890", "**** **** **** 7890"),
    ("bank_account", "1234", "**** **** **** ****"),
    ("email", "zhangsan@example.com", "z***@example.com"),
    ("email", "a@b.cn", "a***@b.cn"),
    ("email", "@b.cn", "***@b.cn"),
    ("email", "not-an-email", "******"),
    ("email", "x@", "******"),
    ("health", "工伤，左手骨折", "******"),
    ("biometric", "指纹", "******"),
    ("minor", "未成年", "******"),
    ("other", "随便", "******"),
    ("unknown_kind", "随便", "******"),
    (None, "随便", "******"),
])
def test_pii_mask(kind, value, masked) -> None:
    assert pii_mask(kind, value) == masked


def test_pii_mask_lengths_kept() -> None:
    for kind, value in (("id_number", "420222199003071234"), ("phone", "13812345678"), ("name", "欧阳娜娜")):
        assert len(pii_mask(kind, value)) == len(value)


@pytest.mark.parametrize("kind", ["id_number", "phone", "name", "address", "bank_account", "email",
                                  "health", "biometric", "minor", "other"])
def test_pii_mask_empty_stays_empty(kind: str) -> None:
    assert pii_mask(kind, None) == ""
    assert pii_mask(kind, "") == ""
    assert pii_mask(kind, "   ") == ""


# ------------------------------------------------------------------ forms_validation: WTForms

from flask import Flask  # noqa: E402
from flask_babel import Babel  # noqa: E402
from werkzeug.datastructures import MultiDict  # noqa: E402
from wtforms import BooleanField, DateField, DecimalField, Form, IntegerField, StringField  # noqa: E402

from app.access import validation as fv  # noqa: E402

ID_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
GOOD_ID = "42022219900307123" + "10X98765432"[sum(int(c) * w for c, w in zip("42022219900307123", ID_W)) % 11]
BAD_ID = GOOD_ID[:-1] + ("0" if GOOD_ID[-1] != "0" else "1")


def make_form(**specs: Field) -> type:
    kinds = {"integer": IntegerField, "decimal": DecimalField, "boolean": BooleanField, "date": DateField}
    attrs = {name: kinds.get(s.type, StringField)(name, validators=fv.wtforms_validators(s, enums=ENUMS))
             for name, s in specs.items()}
    return type("F", (Form,), attrs)


def submit(form_cls: type, **data: str) -> Form:
    form = form_cls(MultiDict(data))
    form.validate()
    return form


@pytest.fixture
def flask_app():
    app = Flask(__name__)
    app.config["LANG"] = "zh"
    Babel(app, locale_selector=lambda: app.config["LANG"])
    return app


def test_wtforms_validator_shape() -> None:
    req, opt = fv.wtforms_validators(fld(required=True)), fv.wtforms_validators(fld())
    assert isinstance(req[0], fv.SpecRequired) and req[0].field_flags == {"required": True}
    assert isinstance(opt[0], fv.SpecOptional) and opt[0].field_flags == {"optional": True}
    assert isinstance(req[1], fv.SpecValidator) and len(req) == len(opt) == 2


def test_wtforms_outside_request_is_chinese() -> None:
    assert fv.current_lang() == "zh"
    F = make_form(idno=fld(required=True, format="id_card"), note=fld(max_length=3))
    form = submit(F, idno=BAD_ID, note="")
    assert form.errors == {"idno": ["身份证号码校验位不正确"]}
    form = submit(F, idno="  ", note="abcd")
    assert form.errors == {"idno": ["此项为必填项"], "note": ["长度不能超过 3 个字符"]}
    assert submit(F, idno=GOOD_ID).errors == {}


def test_wtforms_required_flag_rendered() -> None:
    F = make_form(idno=fld(required=True, format="id_card"), note=fld())
    form = F()
    assert form.idno.flags.required and not form.note.flags.required
    assert 'required' in form.idno()


def test_wtforms_locale_follows_request(flask_app) -> None:
    F = make_form(idno=fld(required=True, format="id_card"))
    with flask_app.test_request_context():
        assert fv.current_lang() == "zh"
        assert submit(F, idno=BAD_ID).errors == {"idno": ["身份证号码校验位不正确"]}
    flask_app.config["LANG"] = "en"
    with flask_app.test_request_context():
        assert fv.current_lang() == "en"
        assert submit(F, idno=BAD_ID).errors == {"idno": ["ID number check digit is wrong"]}
        assert submit(F, idno="").errors == {"idno": ["This field is required"]}
    flask_app.config["LANG"] = "en_US"
    with flask_app.test_request_context():
        assert fv.current_lang() == "en"
    flask_app.config["LANG"] = "zh_Hans_CN"
    with flask_app.test_request_context():
        assert fv.current_lang() == "zh"


def test_current_lang_without_babel() -> None:
    app = Flask(__name__)
    with app.test_request_context():
        assert fv.current_lang() == "zh"


def test_wtforms_fixed_lang_overrides() -> None:
    F = type("F", (Form,), {"m": StringField("m", validators=fv.wtforms_validators(fld(format="mobile"), lang="en"))})
    assert submit(F, m="123").errors == {"m": [MESSAGES["mobile"][1]]}


def test_wtforms_optional_empty_passes() -> None:
    F = make_form(m=fld(format="mobile", min_length=11), n=fld("integer", min=1), d=fld("date"),
                  b=fld("boolean"))
    assert submit(F).errors == {}
    assert submit(F, m="", n="", d="").errors == {}
    assert submit(F, m="   ", n="  ").errors == {}


def test_wtforms_every_problem_listed() -> None:
    F = make_form(code=fld(max_length=5, pattern=r"[A-Z]+", format="uscc"))
    errors = submit(F, code="abcdef").errors["code"]
    assert errors == ["长度不能超过 5 个字符", "格式不符合要求", MESSAGES["uscc_shape"][0]]


def test_wtforms_numbers(flask_app) -> None:
    F = make_form(age=fld("integer", required=True, min=0, max=150), fee=fld("decimal", min=0))
    assert submit(F, age="0").errors == {}                      # 0 is an answer (DataRequired would fail)
    assert submit(F, age="151").errors == {"age": ["不能大于 150"]}
    assert submit(F, age="", fee="-1").errors == {"age": ["此项为必填项"], "fee": ["不能小于 0"]}
    # WTForms' English conversion error replaced by ours, in the request language
    assert submit(F, age="abc", fee="x").errors == {"age": ["请输入整数"], "fee": ["请输入数字"]}
    flask_app.config["LANG"] = "en"
    with flask_app.test_request_context():
        assert submit(F, age="abc").errors == {"age": ["Must be a whole number"]}


def test_wtforms_other_conversion_errors_kept() -> None:
    F = make_form(day=fld("date", required=True))
    errors = submit(F, day="2024-13-45").errors["day"]
    assert len(errors) == 1 and "此项为必填项" not in errors     # WTForms' own date error kept
    assert submit(F, day="").errors == {"day": ["此项为必填项"]}
    assert submit(F, day="2024-02-29").errors == {}


def test_wtforms_required_boolean_accepts_false() -> None:
    F = make_form(agreed=fld("boolean", required=True))
    assert submit(F).errors == {}
    assert submit(F, agreed="y").errors == {}


def test_wtforms_enum_choice() -> None:
    F = make_form(status=fld("enum", enum="case_status", required=True))
    assert submit(F, status="open").errors == {}
    assert submit(F, status="lost").errors == {"status": ["不是有效的选项"]}


# ------------------------------------------------------------------ forms_validation: marshmallow

def test_marshmallow_validator(flask_app) -> None:
    from marshmallow import Schema, ValidationError, fields

    class S(Schema):
        idno = fields.String(required=True, validate=fv.marshmallow_validator(fld(required=True, format="id_card")))
        age = fields.Integer(allow_none=True, validate=fv.marshmallow_validator(fld("integer", min=0)))
        code = fields.String(validate=fv.marshmallow_validator(fld(max_length=5, pattern=r"[A-Z]+")))

    assert S().load({"idno": GOOD_ID, "age": None}) == {"idno": GOOD_ID, "age": None}
    with pytest.raises(ValidationError) as exc:
        S().load({"idno": BAD_ID, "age": -1, "code": "abcdef"})
    assert exc.value.messages == {"idno": ["身份证号码校验位不正确"], "age": ["不能小于 0"],
                                  "code": ["长度不能超过 5 个字符", "格式不符合要求"]}
    with pytest.raises(ValidationError) as exc:
        S().load({"idno": ""})
    assert exc.value.messages == {"idno": ["此项为必填项"]}
    flask_app.config["LANG"] = "en"
    with flask_app.test_request_context(), pytest.raises(ValidationError) as exc:
        S().load({"idno": BAD_ID})
    assert exc.value.messages == {"idno": ["ID number check digit is wrong"]}


def test_marshmallow_validator_direct() -> None:
    from marshmallow import ValidationError

    check = fv.marshmallow_validator(fld(format="email"), lang="en")
    assert check.__name__ == "validate_f"
    assert check("a@b.cn") is None
    assert check("") is None                   # optional and empty
    with pytest.raises(ValidationError) as exc:
        check("nope")
    assert exc.value.messages == ["Email address is not valid"]
