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
from typing import Any

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

    tabs = [error("E105", Source(file, n, len(m.group(1)) + 1), "", line=n)
            for n, ln in enumerate(text.splitlines(), 1) if (m := _TAB_INDENT.match(ln))]
    if tabs:
        return None, smap, tabs

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
    try:
        for ev in yaml.parse(text, Loader=_Loader):
            src = Source(file, ev.start_mark.line + 1, ev.start_mark.column + 1)
            if isinstance(ev, yaml.AliasEvent):
                errors.append(error("E102", src, "", text=f"*{ev.anchor}"))
            elif getattr(ev, "anchor", None):
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
    problem = " ".join(p for p in (getattr(exc, "context", None), getattr(exc, "problem", None)) if p) \
        or "invalid YAML"
    return error("E104", Source(file, line, col), "", problem=problem, excerpt=_excerpt(text, line))


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
