"""Who is asking, and how a refusal is raised: the small vocabulary the access rules and the write
rules share (``rules.py`` computes principals and scopes; ``writes.py`` checks what is written)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional

from flask import has_request_context

from generator.spec import Role

UNRESTRICTED = frozenset({"all", "county"})


class AccessRefused(Exception):
    """A write the user's scope does not allow.  ``status`` is what the API answers.

    Raising one notes a ``denied`` audit event, written after the request (app/audit/denials.py)."""

    def __init__(self, message: str, status: int = 400, entity: Optional[str] = None, record_id: Any = None) -> None:
        super().__init__(message)
        self.status = status
        if has_request_context():
            from app.audit.denials import note

            note(f"scope: {message}", entity, record_id)


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the access rules see them (one per request)."""

    user_id: Optional[int]
    username: str
    org_id: Optional[int]
    roles: tuple[Role, ...]
    # org id -> (parent id, org type), loaded once per request when a scoped rule needs it
    tree: Mapping[int, tuple[Optional[int], Optional[str]]] = field(default_factory=dict)

    def unrestricted_for(self, roles: Iterable[Role]) -> bool:
        return any(r.scope in UNRESTRICTED for r in roles)


def _children(tree: Mapping[int, tuple[Optional[int], Optional[str]]]) -> dict[Optional[int], list[int]]:
    out: dict[Optional[int], list[int]] = {}
    for oid, (parent, _t) in tree.items():
        out.setdefault(parent, []).append(oid)
    return out


def subtree(tree: Mapping[int, tuple[Optional[int], Optional[str]]], root: int) -> frozenset[int]:
    """``root`` and every org under it (cycles in bad data cannot loop)."""
    kids = _children(tree)
    seen: set[int] = set()
    stack = [root]
    while stack:
        oid = stack.pop()
        if oid in seen:
            continue
        seen.add(oid)
        stack.extend(kids.get(oid, ()))
    return frozenset(seen)


