"""Where a config value came from: file, line and column, kept beside the data.

The loader records two places for every node: where its key sits and where
its value starts.  Errors about a key (unknown, duplicate, misspelt) point at
the key; errors about a value point at the value.  Paths are tuples of keys
and list indexes, e.g. ``("entities", "dispute_case", "fields", "name")``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

PathPart = Union[str, int]
Path = tuple[PathPart, ...]


@dataclass(frozen=True, order=True)
class Source:
    """A 1-based position in a config file."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass
class SourceMap:
    """Positions of every key and value of one file, by path."""

    file: str
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    # Plain scalars that YAML 1.1 silently turned into something else, with their text.
    coerced: dict[Path, str] = field(default_factory=dict)
    # The file's lines (indentation slips are explained from them after the schema ran).
    lines: list[str] = field(default_factory=list, repr=False, compare=False)

    def key(self, path: Path) -> Source:
        """Where the key of ``path`` sits (falls back to the nearest known parent)."""
        return self._find(path, prefer_keys=True)

    def value(self, path: Path) -> Source:
        """Where the value of ``path`` starts (falls back to the nearest known parent)."""
        return self._find(path, prefer_keys=False)

    def _find(self, path: Path, prefer_keys: bool) -> Source:
        first, second = (self.keys, self.values) if prefer_keys else (self.values, self.keys)
        probe = tuple(path)
        while True:
            for table in (first, second):
                if probe in table:
                    line, col = table[probe]
                    return Source(self.file, line, col)
            if not probe:
                return Source(self.file, 1, 1)
            probe = probe[:-1]


def dotted(path: Path) -> str:
    """``("roles", "mediator", "grants", "transitions", 2)`` → ``roles.mediator.grants.transitions[2]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(文件顶层)"
