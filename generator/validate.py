"""Stage 2: data → schema errors (E2xx), every one with a place and a fix.

``Draft202012Validator.iter_errors`` yields all problems, not the first; each
is translated into one of six codes with a Chinese message, pointing at the
key (unknown or misnamed keys) or the value (wrong type, bad value).  Where
YAML 1.1 coerced the value, the hint quotes the original text.
"""

from __future__ import annotations

import datetime as _dt
import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .errors import NO_GUESS, ConfigError, error, suggest
from .fastschema import is_valid
from .schemas import DATE, IDENT, schema_for
from .source import Path, Source, SourceMap, dotted

_TYPE_ZH = {"string": "文字", "integer": "整数", "number": "数字", "boolean": "是/否（true 或 false）",
            "object": "键值映射（key: value）", "array": "列表（以 - 开头的各项）", "null": "空值"}
_TYPE_EN = {"string": "text", "integer": "a whole number", "number": "a number",
            "boolean": "true or false", "object": "a mapping (key: value)", "array": "a list (- items)",
            "null": "empty"}


if TYPE_CHECKING:
    import jsonschema


@lru_cache(maxsize=None)
def validator(kind: str) -> "jsonschema.Draft202012Validator":
    import jsonschema  # imported only when a file has schema errors (see fastschema)

    return jsonschema.Draft202012Validator(schema_for(kind))


def schema_errors(kind: str, data: Any) -> list["jsonschema.ValidationError"]:
    """The detailed errors; skipped when the fast check says the file is valid."""
    if is_valid(kind, data):
        return []
    return list(validator(kind).iter_errors(data))


def validate(kind: str, data: Any, smap: SourceMap) -> list[ConfigError]:
    """Schema errors for one file, plus W108 for coerced values the schema accepted."""
    seen: set[tuple[str, Path, str]] = set()
    out: list[ConfigError] = []
    for err in schema_errors(kind, data):
        for item in _translate(err, smap, kind):
            key = (item.code, tuple(err.absolute_path), item.path + str(item.params.get("key", "")))
            if key not in seen:
                seen.add(key)
                out.append(item)
    out = _indentation_slips(kind, out, smap)
    flagged = {e.path for e in out}
    for path, text in smap.coerced.items():
        value = _get(data, path)
        if dotted(path) not in flagged and not isinstance(value, float):
            out.append(error("W108", smap.value(path), dotted(path), text=text, value=value))
    return out


def schema_at(kind: str, path: Path) -> Any:
    """The schema that applies to the value at ``path`` (None where the path leaves the schema)."""
    node: Any = schema_for(kind)
    for part in path:
        if not isinstance(node, dict):
            return None
        if isinstance(part, int):
            node = node.get("items")
        elif part in (node.get("properties") or {}):
            node = node["properties"][part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return None
    return node


def _allows(kind: str, path: Path, key: str) -> bool:
    node = schema_at(kind, path)
    return isinstance(node, dict) and key in (node.get("properties") or {})


def _indentation_slips(kind: str, errors: list[ConfigError], smap: SourceMap) -> list[ConfigError]:
    """E112 for a key that slipped to a shallower level than the lines above it.

    YAML reads ``to: closed`` indented two spaces too few as a key of the enclosing mapping, where it
    is unknown (E203) or the wrong shape (E201), and the mapping it left misses it (E204, reported
    on a line far above).  When the key is allowed in a mapping the previous line belongs to, the
    first line of the slip is reported instead, with how far to move it.
    """
    from .loader import content_lines_before

    lines = smap.lines
    if not lines or not errors:
        return errors
    by_line: dict[int, Path] = {}
    for p, (line, _col) in smap.keys.items():
        if line not in by_line or len(p) > len(by_line[line]):
            by_line[line] = p
    slips: dict[str, ConfigError] = {}
    resolved: set[tuple[str, str]] = set()  # (dotted mapping, key) an E112 explains as missing there
    for e in errors:
        if e.code not in ("E201", "E203", "E205"):
            continue
        path = next((p for p, (ln, _c) in smap.keys.items() if dotted(p) == e.path and ln == e.src.line), None)
        if not path or not isinstance(path[-1], str):
            continue
        line, key = e.src.line, path[-1]
        prev = content_lines_before(lines, line)
        if prev is None or prev not in by_line:
            continue
        here = len(lines[line - 1]) - len(lines[line - 1].lstrip(" "))
        above = len(lines[prev - 1]) - len(lines[prev - 1].lstrip(" "))
        if here >= above:
            continue
        q = by_line[prev]
        for depth in range(len(q) - 1, len(path) - 2, -1):
            target = q[:depth]
            if len(target) < len(path) - 1 or target == path[:-1] or not _allows(kind, target, key):
                continue
            child = smap.keys.get(q[:depth + 1])
            if child is None:
                break
            want = child[1] - 1
            n = want - here
            ln = child[0]
            slips[e.path] = error(
                "E112", Source(smap.file, line, here + 1), dotted(path), line=line,
                where=f"上文（第 {ln} 行起的 {dotted(target)}）", where_en=f"{dotted(target)} above (from line {ln})",
                reason=f"'{key}' 少缩进了 {n} 格，被读成了 {dotted(path[:-1])} 下的键；按上文它属于 {dotted(target)}",
                reason_en=f"'{key}' is {n} spaces short and was read as a key of {dotted(path[:-1])}; it belongs "
                          f"to {dotted(target)}",
                fix=f"把第 {line} 行（连同它下面属于它的各行）向右移 {n} 格，与第 {ln} 行对齐",
                fix_en=f"move line {line} (and the lines under it) {n} spaces right, in line with line {ln}")
            resolved.add((dotted(target), key))
            break
    if not slips:
        return errors
    out = []
    for e in errors:
        if e.path in slips:
            if slips[e.path] is not None:
                out.append(slips[e.path])
                slips[e.path] = None  # type: ignore[assignment]
        elif e.code == "E204" and (e.path, e.params.get("key")) in resolved:
            continue
        else:
            out.append(e)
    return out


def _get(data: Any, path: Path) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _type_name(value: Any) -> tuple[str, str]:
    if isinstance(value, bool):
        return "是/否值", "a boolean"
    if isinstance(value, int):
        return f"整数 {value}", f"the number {value}"
    if isinstance(value, float):
        return f"数字 {value}", f"the number {value}"
    if isinstance(value, (_dt.date, _dt.datetime)):
        return f"日期 {value}", f"the date {value}"
    if isinstance(value, str):
        return f"文字 '{value[:40]}'", f"the text '{value[:40]}'"
    if isinstance(value, list):
        return "列表", "a list"
    if isinstance(value, dict):
        return "键值映射", "a mapping"
    return "空值", "nothing"


def _quote_fix(smap: SourceMap, path: Path) -> tuple[str, str] | None:
    text = smap.coerced.get(path)
    if text is None:
        return None
    return (f"YAML 把未加引号的 '{text}' 自动转换了；请加引号写成 '{text}'",
            f"YAML converted the unquoted text '{text}'; write it in quotes: '{text}'")


def _description(schema: Any) -> str:
    return schema.get("description", "") if isinstance(schema, dict) else ""


def _translate(err: "jsonschema.ValidationError", smap: SourceMap, file_kind: str = "") -> list[ConfigError]:
    path: Path = tuple(err.absolute_path)
    where = dotted(path)
    kind = err.validator
    in_names = "propertyNames" in err.relative_schema_path

    if in_names:
        name = str(err.instance)
        return [error("E205", smap.key(path + (name,)), dotted(path + (name,)), value=name,
                      fix=_pattern_fix(IDENT)[0], fix_en=_pattern_fix(IDENT)[1])]
    if kind == "additionalProperties" and isinstance(err.instance, dict):
        allowed = sorted(err.schema.get("properties", {}))
        extra = [k for k in err.instance if k not in allowed]
        return [error("E203", smap.key(path + (k,)), dotted(path + (k,)), key=k,
                      choices=", ".join(allowed), **suggest(k, allowed)) for k in extra]
    if kind == "required" and isinstance(err.instance, dict):
        props = err.schema.get("properties", {})
        return [error("E204", smap.key(path) if path else smap.value(path), where, key=k,
                      description=_description(props.get(k)) or k)
                for k in err.validator_value if k not in err.instance]
    if kind in ("type", "oneOf"):
        expected = err.validator_value if kind == "type" else ["string", "array"]
        expected = expected if isinstance(expected, list) else [expected]
        actual_zh, actual_en = _type_name(err.instance)
        quoted = _quote_fix(smap, path)
        if quoted is None and "boolean" in expected and isinstance(err.instance, str):
            quoted = ("写 true 或 false，不要加引号", "write true or false, without quotes")
        fix = quoted or (f"说明：{_description(err.schema)}" if _description(err.schema) else "", "")
        return [error("E201", smap.value(path), where,
                      expected="或".join(_TYPE_ZH.get(t, t) for t in expected),
                      expected_en=" or ".join(_TYPE_EN.get(t, t) for t in expected),
                      actual=actual_zh, actual_en=actual_en, fix=fix[0], fix_en=fix[1] or fix[0])]
    if kind == "enum":
        choices = [str(c) for c in err.validator_value]
        quoted = _quote_fix(smap, path)
        extra = {"suggest": f"；{quoted[0]}", "suggest_en": f"; {quoted[1]}"} if quoted \
            else NO_GUESS if _grants_permission(file_kind, path) else suggest(str(err.instance), choices)
        return [error("E202", smap.value(path), where, value=err.instance,
                      choices=", ".join(choices), **extra)]
    if kind == "pattern":
        fix = _quote_fix(smap, path) or _pattern_fix(err.validator_value)
        return [error("E205", smap.value(path), where, value=err.instance, fix=fix[0], fix_en=fix[1])]
    zh, en, fix, fix_en = _limit_text(kind, err)
    return [error("E206", smap.value(path), where, detail=zh, detail_en=en, fix=fix, fix_en=fix_en)]


def _grants_permission(file_kind: str, path: Path) -> bool:
    """A value of roles.yaml that decides what a role may do (scope, grants): no did-you-mean there."""
    return file_kind == "roles" and any(p in ("grants", "scope", "can_assign") for p in path)


def _pattern_fix(pattern: str) -> tuple[str, str]:
    if pattern == IDENT:
        return ("名称只能用小写英文字母、数字和下划线，并以字母开头，例如 'case_no'；中文请写在 label 里",
                "names use lower-case ASCII letters, digits and underscores, starting with a letter, "
                "e.g. 'case_no'; put Chinese in the label")
    if pattern == DATE:
        return ("日期写成带引号的 'YYYY-MM-DD'，例如 '2027-01-01'",
                "write dates quoted as 'YYYY-MM-DD', e.g. '2027-01-01'")
    if "." in pattern and "\\." in pattern:
        return ("写成 名称.名称 的形式，例如 case_flow.escalate 或 party.id_no",
                "write it as name.name, e.g. case_flow.escalate or party.id_no")
    return (f"必须符合格式 {pattern}", f"must match {pattern}")


def _limit_text(kind: str, err: "jsonschema.ValidationError") -> tuple[str, str, str, str]:
    v = err.validator_value
    if kind == "minLength":
        return ("不能为空", "must not be empty", "填写内容，或删除这一行", "fill it in or delete the line")
    if kind in ("minItems", "minProperties"):
        return (f"至少需要 {v} 项", f"needs at least {v} item(s)",
                "补充内容，或删除这一键", "add an item or delete the key")
    if kind == "uniqueItems":
        return ("列表中有重复项", "the list has duplicate items", "删除重复的项", "remove the duplicates")
    if kind == "minimum":
        return (f"不能小于 {v}", f"must be at least {v}", f"改为不小于 {v} 的数", f"use a number ≥ {v}")
    if kind == "maximum":
        return (f"不能大于 {v}", f"must be at most {v}", f"改为不大于 {v} 的数", f"use a number ≤ {v}")
    msg = re.sub(r"\s+", " ", err.message)[:160]
    return (f"不符合要求：{msg}", msg, "对照 docs/config-guide.md 修改", "see docs/config-guide.md")
