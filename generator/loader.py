"""Stage 1: bytes → (data, SourceMap, errors), strictly and safely.

PyYAML's safe loader is the base (libyaml's C parser where present), but a
policy officer's mistakes that YAML accepts silently are refused here, each
with its own code, before the schema runs:

* E107 bytes that are not UTF-8, E103 files over the size cap,
* E105 tabs used as indentation (reported for every line),
* E102 anchors and aliases (also closes the "billion laughs" door),
* E106 explicit tags such as ``!!python/object``,
* E101 duplicate keys, naming both lines (PyYAML keeps the last one silently),
* E104 syntax errors, with a numbered excerpt.

Plain scalars that YAML 1.1 coerces (``0755`` → 493, ``NO`` → False,
``2025-10-28`` → date, ``12:30`` → 750) are remembered in the SourceMap so the
schema stage can say "write it in quotes".
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Optional

import yaml
from yaml.constructor import SafeConstructor

from .errors import ConfigError, error
from .source import Path, Source, SourceMap, dotted as _dotted

try:  # libyaml is much faster; fall back to pure Python where it is missing
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the build of PyYAML
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

MAX_BYTES = 4 * 1024 * 1024
MAX_NODES = 500_000

_TAB_INDENT = re.compile(r"^( *)\t")
_MAYBE_SPECIAL = re.compile(r"(?:^|[\s\[\]{},:?-])[&*!][^\s,\]}]", re.M)
_STR_TAG = "tag:yaml.org,2002:str"
_BOOL_WORDS = {"true", "false"}


class _Constructor(SafeConstructor):
    """Builds Python values for single scalar nodes (no aliases can reach it)."""


def load_text(raw: bytes, file: str) -> tuple[Any, SourceMap, list[ConfigError]]:
    """Parse one config file. Returns ``(None, map, errors)`` when it cannot be read."""
    smap = SourceMap(file)
    if len(raw) > MAX_BYTES:
        return None, smap, [error("E103", Source(file, 1, 1), "", size=len(raw), limit=MAX_BYTES)]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, smap, [error("E107", Source(file, line, col), "", offset=exc.start)]

    lines = text.splitlines()
    smap.lines = lines
    tabs = [error("E105", Source(file, n, len(m.group(1)) + 1), "", line=n)
            for n, ln in enumerate(lines, 1) if (m := _TAB_INDENT.match(ln))]
    if tabs:
        return None, smap, tabs
    # Full-width punctuation where YAML needs its ASCII sign: YAML would read it as text and
    # report something a line later (or nothing at all); name the character where it sits.
    fullwidth = _full_width(lines, file)
    if fullwidth:
        return None, smap, fullwidth

    # Anchors, aliases and tags can only start after a space, a flow indicator or a line start;
    # the event scan (a second parse) is skipped for the usual file that has none of them.
    errors = _scan_events(text, file) if _MAYBE_SPECIAL.search(text) else []
    if errors:
        return None, smap, errors
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        return None, smap, [_syntax_error(exc, text, file)]
    if root is None:
        return None, smap, []
    builder = _Builder(smap)
    data = builder.build(root, ())
    if builder.count > MAX_NODES:
        return None, smap, [error("E103", Source(file, 1, 1), "", size=len(raw), limit=MAX_BYTES)]
    return data, smap, builder.errors


def _scan_events(text: str, file: str) -> list[ConfigError]:
    """Find anchors, aliases and explicit tags, which ``compose`` would resolve silently."""
    errors: list[ConfigError] = []
    anchors: set[str] = set()
    try:
        for ev in yaml.parse(text, Loader=_Loader):
            src = Source(file, ev.start_mark.line + 1, ev.start_mark.column + 1)
            if isinstance(ev, yaml.AliasEvent) and ev.anchor not in anchors:
                # No anchor of that name: not an alias anyone meant, but text starting with '*'.
                errors.append(_special(text, file, ev.start_mark.line, ev.start_mark.column))
            elif isinstance(ev, yaml.AliasEvent):
                errors.append(error("E102", src, "", text=f"*{ev.anchor}"))
            elif getattr(ev, "anchor", None):
                anchors.add(ev.anchor)
                errors.append(error("E102", src, "", text=f"&{ev.anchor}"))
            if isinstance(ev, (yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                implicit = ev.implicit if isinstance(ev, yaml.ScalarEvent) else (ev.implicit,)
                if ev.tag and ev.tag != "!" and not any(implicit):
                    errors.append(error("E106", src, "", tag=_short_tag(ev.tag)))
    except yaml.YAMLError as exc:
        return errors + [_syntax_error(exc, text, file)]
    return errors


def _short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


def _syntax_error(exc: yaml.YAMLError, text: str, file: str) -> ConfigError:
    if isinstance(exc, yaml.reader.ReaderError):  # a control character such as NUL: no mark, a position
        pos = max(0, min(exc.position, len(text)))
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        problem = f"不允许的控制字符 #x{exc.character:04x} (control character #x{exc.character:04x})" \
            if isinstance(exc.character, int) else str(exc.reason)
        return error("E104", Source(file, line, col), "", problem=problem, excerpt=_excerpt(text, line))
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = (mark.line + 1) if mark else 1
    col = (mark.column + 1) if mark else 1
    context = getattr(exc, "context", None) or ""
    start = getattr(exc, "context_mark", None)
    if context in ("while scanning an alias", "while scanning an anchor", "while scanning a tag") and start:
        return _special(text, file, start.line, start.column)
    slip = _indent_slip(exc, text, file, line, col)
    if slip is not None:
        return slip
    problem = " ".join(p for p in (getattr(exc, "context", None), getattr(exc, "problem", None)) if p) \
        or "invalid YAML"
    return error("E104", Source(file, line, col), "", problem=problem, excerpt=_excerpt(text, line))


# ------------------------------------------------------------------ typing traps (E109–E112)

# full-width character -> (its ASCII sign, what else the fix needs, zh / en)
_FULL_WIDTH = {"：": (":", "，并在它后面留一个空格", " followed by a space"), "，": (",", "", ""),
               "［": ("[", "", ""), "］": ("]", "", ""), "｛": ("{", "", ""), "｝": ("}", "", ""),
               "\u3000": (" ", "（全角空格不能用来缩进）", " (a full-width space cannot indent)")}
_FW_KEY = re.compile(r"^(\s*(?:-\s+)?)[A-Za-z_][A-Za-z0-9_]*\s*(：)")
_FW_INDENT = re.compile(r"^[ ]*(\u3000)")
_FW_VALUE = re.compile(r"(?:^|:\s|-\s)\s*([［｛])")
_FLOW_SEQ = re.compile(r"\[([^\]\n]*)\]")
_FW_COMMA = re.compile(r"[A-Za-z_][A-Za-z0-9_.*]*\s*(，)\s*[A-Za-z_]")


def _unquoted(line: str, pos: int) -> bool:
    """Whether ``pos`` lies outside quotes and before any comment on ``line`` (a good guess, not a parse)."""
    single = double = False
    for i, ch in enumerate(line[:pos]):
        if ch == "'" and not double:
            single = not single
        elif ch == '"' and not single:
            double = not double
        elif ch == "#" and not single and not double and (i == 0 or line[i - 1] in " \t"):
            return False
    return not single and not double


def _full_width(lines: list[str], file: str) -> list[ConfigError]:
    out: list[ConfigError] = []
    for n, ln in enumerate(lines, 1):
        if ln.lstrip().startswith("#"):
            continue
        hits = []
        for rx in (_FW_INDENT, _FW_KEY, _FW_VALUE):
            m = rx.search(ln)
            if m:
                hits.append(m.start(m.lastindex or 0))
        for seq in _FLOW_SEQ.finditer(ln):
            for m in _FW_COMMA.finditer(seq.group(1)):
                hits.append(seq.start(1) + m.start(1))
        for pos in sorted(set(hits)):
            if not _unquoted(ln, pos):
                continue
            char = ln[pos]
            ascii_, after, after_en = _FULL_WIDTH[char]
            shown = "全角空格" if char == "\u3000" else char
            out.append(error("E109", Source(file, n, pos + 1), "", line=n, col=pos + 1, char=shown,
                             ascii="空格" if ascii_ == " " else ascii_, after=after, after_en=after_en))
    return out


def _special(text: str, file: str, line0: int, col0: int) -> ConfigError:
    """E111: a value starting with ``*``, ``&`` or ``!`` that YAML took for an alias, anchor or tag."""
    ln = text.splitlines()[line0] if line0 < len(text.splitlines()) else ""
    rest = ln[col0:]
    m = re.match(r"[^,\]}#]*", rest)
    shown = (m.group(0) if m else rest).strip() or rest[:1]
    char = shown[:1] or "*"
    meaning = {"*": ("别名（引用别处的锚点）", "an alias (a reference to an anchor)"),
               "&": ("锚点", "an anchor"), "!": ("类型标签", "a type tag")}.get(char, ("特殊符号", "a special sign"))
    return error("E111", Source(file, line0 + 1, col0 + 1), "", text=shown, char=char,
                 meaning=meaning[0], meaning_en=meaning[1])


def _indent(ln: str) -> int:
    return len(ln) - len(ln.lstrip(" "))


def content_lines_before(lines: list[str], line: int) -> Optional[int]:
    """The 1-based number of the last line before ``line`` that holds YAML (not blank, not a comment)."""
    for k in range(line - 1, 0, -1):
        s = lines[k - 1].strip()
        if s and not s.startswith("#"):
            return k
    return None


def _indent_slip(exc: yaml.YAMLError, text: str, file: str, line: int, col: int) -> Optional[ConfigError]:
    """E112 for the two syntax errors an indentation slip causes, at the line that slipped."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return None
    problem = getattr(exc, "problem", None) or ""
    context = getattr(exc, "context", None) or ""
    here = lines[line - 1]
    prev = content_lines_before(lines, line)
    if prev is None:
        return None
    above = lines[prev - 1]
    if problem == "mapping values are not allowed here" or problem == "mapping values are not allowed in this context":
        # `key: value` followed by a line indented deeper: the value already ended that key.
        if _indent(here) > _indent(above) and re.match(r"^\s*(?:-\s+)?[^\s:#][^:#]*:\s+\S", above) \
                and col - 1 == here.find(":"):
            n = _indent(here) - _indent(above)
            before = content_lines_before(lines, prev)
            if before is not None and _indent(lines[before - 1]) == _indent(here):
                # The line above is the one that slipped left: its neighbours agree with each other.
                return error("E112", Source(file, prev, _indent(above) + 1), "", line=prev,
                             where=f"第 {before} 行和第 {line} 行", where_en=f"lines {before} and {line}",
                             reason=f"比前后两行少缩进了 {n} 格",
                             reason_en=f"it is {n} spaces shallower than the lines before and after it",
                             fix=f"把第 {prev} 行向右移 {n} 格，与第 {before} 行对齐",
                             fix_en=f"move line {prev} {n} spaces right, in line with line {before}")
            return error("E112", Source(file, line, _indent(here) + 1), "", line=line,
                         where=f"第 {prev} 行", where_en=f"line {prev}",
                         reason=f"比第 {prev} 行多缩进了 {n} 格，而第 {prev} 行的键已经有值，不能再有下级",
                         reason_en=f"it is {n} spaces deeper than line {prev}, whose key already has a value "
                                   "and cannot hold more",
                         fix=f"把第 {line} 行向左移 {n} 格，与第 {prev} 行对齐",
                         fix_en=f"move line {line} {n} spaces left, in line with line {prev}")
        return None
    if context.startswith("while parsing a block") and problem.startswith("did not find expected"):
        start = getattr(exc, "context_mark", None)
        if start is None or start.line + 1 == line:
            return None
        want = start.column
        got = _indent(here)
        if got == want:
            return None
        sibling = start.line + 1
        # The two levels it may have meant: the line above's, and the block the parser was in.
        options = sorted({(_indent(above), prev), (want, sibling)}, key=lambda o: (abs(o[0] - got), -o[0]))
        fix = "或".join(f"缩进 {n} 格（与第 {k} 行对齐）" for n, k in options)
        fix_en = " or ".join(f"{n} spaces (in line with line {k})" for n, k in options)
        return error("E112", Source(file, line, got + 1), "", line=line,
                     where="和".join(f"第 {k} 行" for k in sorted({prev, sibling})),
                     where_en="line " + " and ".join(str(k) for k in sorted({prev, sibling})),
                     reason=f"这一行缩进了 {got} 格，既不与上面的键同级，也不是上一行的下级",
                     reason_en=f"this line is indented {got}: neither a sibling of the keys above nor a child "
                               "of the line above",
                     fix=f"把第 {line} 行改为{fix}", fix_en=f"indent line {line} by {fix_en}")
    return None


def _excerpt(text: str, line: int) -> str:
    lines = text.splitlines()
    lo, hi = max(1, line - 2), min(len(lines), line + 1)
    return "\n".join(f"{n:>4} | {lines[n - 1]}" for n in range(lo, hi + 1)) if lines else ""


class _Builder:
    """Walks composed nodes into plain data, recording positions and duplicates."""

    def __init__(self, smap: SourceMap) -> None:
        self.smap = smap
        self.errors: list[ConfigError] = []
        self.count = 0
        self._constructor = _Constructor()

    def build(self, node: yaml.Node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            return None
        self.smap.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            first_line: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = self._scalar(key_node, path) if isinstance(key_node, yaml.ScalarNode) else None
                if not isinstance(key, (str, int, float, bool)) or key is None:
                    key = str(key_node.start_mark)  # unhashable key: the schema reports it
                key = key if isinstance(key, str) else str(key)
                line = key_node.start_mark.line + 1
                if node.flow_style and first_line and _split_by_comma(key_node, value_node):
                    prev_key = list(out)[-1]
                    prev_val = out[prev_key]
                    self.errors.append(error(
                        "E110", Source(self.smap.file, line, key_node.start_mark.column + 1), _dotted(path + (key,)),
                        text=f"{prev_val}, {key}" if isinstance(prev_val, str) else key, key=key, name=prev_key))
                    continue
                if key in first_line:
                    self.errors.append(error("E101", Source(self.smap.file, line, key_node.start_mark.column + 1),
                                             _dotted(path + (key,)), key=key, first_line=first_line[key]))
                    continue
                first_line[key] = line
                self.smap.keys[path + (key,)] = (line, key_node.start_mark.column + 1)
                out[key] = self.build(value_node, path + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, child in enumerate(node.value):
                self.smap.keys[path + (i,)] = (child.start_mark.line + 1, child.start_mark.column + 1)
                items.append(self.build(child, path + (i,)))
            return items
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: Path) -> Any:
        if node.tag == _STR_TAG:  # most config scalars: no construction needed
            return node.value
        value = self._constructor.construct_object(node, deep=True)
        if node.tag != _STR_TAG and isinstance(node, yaml.ScalarNode) and not node.style:  # plain (libyaml says '', PyYAML None)
            if _is_surprising(node.value, value):
                self.smap.coerced[path] = node.value
        return value


def _split_by_comma(key_node: yaml.Node, value_node: yaml.Node) -> bool:
    """In ``{zh: 调解员, 专职, en: …}`` the text after the comma becomes a key without a colon or value."""
    return (isinstance(key_node, yaml.ScalarNode) and not key_node.style
            and isinstance(value_node, yaml.ScalarNode) and value_node.tag == "tag:yaml.org,2002:null"
            and value_node.value == "" and value_node.start_mark.index == key_node.end_mark.index)


def _is_surprising(text: str, value: Any) -> bool:
    """True when YAML 1.1 turned plain text into a value its author likely did not mean."""
    if isinstance(value, bool):
        return text.lower() not in _BOOL_WORDS
    if isinstance(value, (_dt.date, _dt.datetime)):
        return True
    if isinstance(value, (int, float)):
        digits = text.lstrip("+-")
        if ":" in text or "_" in text or digits.startswith(("0x", "0o", "0b")):
            return True
        if len(digits) > 1 and digits.startswith("0") and not digits.startswith("0."):
            return True
        if isinstance(value, float) and "." in digits and digits.endswith("0"):
            return digits != repr(abs(value))  # '1.10' → 1.1 loses a digit that mattered
    return False
