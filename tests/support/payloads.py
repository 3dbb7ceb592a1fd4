"""Valid values for any spec field, for CRUD tests driven by the config (no hand-listed entities)."""

from __future__ import annotations

import datetime as dt
import io
import random
import re
from decimal import Decimal
from re import _constants as sre_constants  # the public sre_* modules are deprecated aliases
from re import _parser as sre_parse
from typing import Any, Optional

from generator.spec import AppSpec, Entity, Field
from generator.validation import id_card_check_char, uscc_check_char

DIGITS = "0123456789"


def from_pattern(pattern: str, rng: random.Random) -> str:
    """A string that fully matches ``pattern`` (the subset of regex our configs use)."""
    def gen(tokens: Any) -> str:
        out = []
        for op, arg in tokens:
            if op == sre_constants.LITERAL:
                out.append(chr(arg))
            elif op == sre_constants.IN:
                choices: list[str] = []
                for iop, iarg in arg:
                    if iop == sre_constants.LITERAL:
                        choices.append(chr(iarg))
                    elif iop == sre_constants.RANGE:
                        choices += [chr(c) for c in range(iarg[0], iarg[1] + 1)]
                    elif iop == sre_constants.CATEGORY and iarg == sre_constants.CATEGORY_DIGIT:
                        choices += list(DIGITS)
                out.append(rng.choice(choices or ["A"]))
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
                lo, hi, sub = arg
                # Vary the length where the pattern allows it, so unique values rarely collide.
                n = lo if hi == lo else rng.randint(max(lo, 1), min(hi, max(lo, 1) + 5))
                out.append("".join(gen(sub) for _ in range(n)))
            elif op == sre_constants.SUBPATTERN:
                out.append(gen(arg[-1]))
            elif op == sre_constants.BRANCH:
                out.append(gen(arg[1][0]))
            elif op == sre_constants.CATEGORY:
                out.append(rng.choice(DIGITS) if arg == sre_constants.CATEGORY_DIGIT else "a")
            elif op == sre_constants.ANY:
                out.append("x")
        return "".join(out)
    value = gen(sre_parse.parse(pattern))
    assert re.fullmatch(pattern, value), (pattern, value)
    return value


def id_card(rng: random.Random) -> str:
    first = "420222" + f"{rng.randint(1960, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" \
        + f"{rng.randint(0, 999):03d}"
    return first + id_card_check_char(first)


def uscc(rng: random.Random) -> str:
    first = "91420222" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return first + uscc_check_char(first)


def text_value(f: Field, rng: random.Random, tag: str) -> str:
    if f.format == "id_card":
        return id_card(rng)
    if f.format == "uscc":
        return uscc(rng)
    if f.format in ("mobile", "phone"):
        return "13" + "".join(rng.choice(DIGITS) for _ in range(9))
    if f.format == "email":
        return f"t{rng.randint(1000, 9999)}@example.cn"
    if f.format == "url":
        return "https://example.cn/x"
    if f.pattern:
        return from_pattern(f.pattern, rng)
    value = f"测试{tag}{rng.randint(1000, 9999)}"
    if f.max_length:
        value = value[: f.max_length]
    if f.min_length and len(value) < f.min_length:
        value = value + "字" * (f.min_length - len(value))
    return value


def field_value(spec: AppSpec, f: Field, rng: random.Random, refs: dict[str, int], api: bool,
                tag: str = "") -> Optional[Any]:
    """A valid value; ``refs`` maps entity → an existing id; ``api`` selects JSON vs form encoding."""
    if f.type in ("string", "text"):
        return text_value(f, rng, tag)
    if f.type == "integer":
        lo = int(f.min) if f.min is not None else 1
        hi = int(f.max) if f.max is not None else lo + 100
        return rng.randint(lo, max(lo, min(hi, lo + 100)))
    if f.type == "decimal":
        lo = float(f.min) if f.min is not None else 1.0
        value = round(lo + 12.34, 2) if f.max is None or lo + 12.34 <= f.max else lo
        return value if api else f"{value:.2f}"
    if f.type == "boolean":
        return True if api else "y"
    if f.type == "date":
        return "2026-11-02"
    if f.type == "datetime":
        return "2026-11-02T10:00:00" if api else "2026-11-02 10:00:00"
    if f.type == "enum":
        return next(iter(spec.enums[f.enum].values))  # type: ignore[index]
    if f.type == "ref":
        return refs.get(f.ref or "")
    if f.type == "user":
        return refs.get("__user__")
    if f.type == "file":
        # A form posts a file (multipart); the JSON API names a staged upload instead (app/files):
        # callers that need one stage it first (tests/app/test_files.py ``stage_via_api``).
        if api:
            return None
        from .files import sample

        data, name, _ = sample(f)
        return (io.BytesIO(data), name)
    raise AssertionError(f.type)


def writable_by(f: Field, role: Optional[str]) -> bool:
    """May ``role`` set ``f`` by a plain edit (its ``writers:``; None = no restriction)?  ``role=None``
    means system work (no request), which the writers rule does not govern."""
    return role is None or f.writers is None or role in f.writers


def payload(spec: AppSpec, ent: Entity, refs: dict[str, int], *, api: bool, seed: int = 0,
            required_only: bool = False, role: Optional[str] = None) -> dict[str, Any]:
    """Valid values for the fields ``role`` may write (all writable fields when ``role`` is None)."""
    rng = random.Random(f"{ent.name}-{seed}")
    out = {}
    for f in ent.fields.values():
        if f.readonly or (required_only and not f.required) or not writable_by(f, role):
            continue
        value = field_value(spec, f, rng, refs, api, tag=str(seed))
        if value is not None:
            out[f.name] = value
    tree = spec.org_tree
    if ent.name == tree.entity and tree.type_field in out:
        # the org tree keeps its shape (allowed_parents): a new organisation is a root, without a parent
        roots = [t for t, parents in tree.allowed_parents.items() if not parents]
        if roots:
            out[tree.type_field] = roots[0]
            out.pop(tree.parent_field, None)
    return out


def form_values(spec: AppSpec, ent: Entity, obj: Any) -> dict[str, Any]:
    """What an edit form posts back when nothing is changed: the stored values of ``obj``'s editable
    fields, form-encoded (file inputs left empty)."""
    from generator import names

    out: dict[str, Any] = {}
    for f in ent.fields.values():
        if f.readonly or f.type == "file":
            continue
        value = getattr(obj, names.column_name(f.name, f.type))
        if value is None:
            continue
        if f.type == "boolean":
            if value:
                out[f.name] = "y"
        elif f.type == "datetime" and isinstance(value, dt.datetime):
            out[f.name] = value.strftime("%Y-%m-%d %H:%M:%S")
        elif isinstance(value, Decimal):
            out[f.name] = f"{value:.2f}"
        else:
            out[f.name] = str(value)
    return out
