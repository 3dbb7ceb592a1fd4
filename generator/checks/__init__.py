"""Stage 4: semantic checks over the typed spec.

Each check is a small pure function ``(spec) -> list[ConfigError]`` registered
with ``@check``.  Checks never raise and never stop at the first problem; every
error points at the *referring* node (the line the officer must change) and
offers a did-you-mean where a close name exists.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from ..errors import NO_GUESS, WIDENING_CODES, ConfigError, error, suggest
from ..source import Path, Source, dotted
from ..spec import AppSpec

CheckFn = Callable[[AppSpec], list[ConfigError]]
REGISTRY: list[CheckFn] = []


def check(fn: CheckFn) -> CheckFn:
    REGISTRY.append(fn)
    return fn


def unknown(code: str, src: Source, path: Path, name: str, choices: Iterable[str], **params: Any) -> ConfigError:
    """An 'unknown X' error with a did-you-mean built from ``choices``.

    Never for a permission (``WIDENING_CODES``): the closest name is another grant, and following
    the hint would widen what a role may do."""
    hint = NO_GUESS if code in WIDENING_CODES else suggest(name, choices)
    return error(code, src, dotted(path), name=name, **hint, **params)


def run_checks(spec: AppSpec) -> list[ConfigError]:
    from . import checklists, labels, lifecycle, naming, references, security, workflows  # noqa: F401

    out: list[ConfigError] = []
    for fn in REGISTRY:
        out.extend(fn(spec))
    return out
