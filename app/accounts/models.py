"""Where a login account sits in the organisation tree.

FAB's ``ab_user`` knows nothing about 调解组织; the data scopes of roles.yaml
(``county`` / ``township`` / ``station`` / ``own``) are computed from the org a
user belongs to.  ``jf_user_org`` holds that link, one row per user:

    ab_user.id ──1:1── jf_user_org.user_id   (PK; deleting the user deletes the link)
                       jf_user_org.org_id ──► jf_org.id   (RESTRICT: an org with accounts stays)

Built per declarative base, like the generated models, and reported under the
same module (``app.generated.models``) so FAB and Alembic see one namespace.
"""

from __future__ import annotations

from typing import Any

# Registers ab_user in FAB's metadata; referenced by column object because a test base
# has no ab_user table in its own metadata (same approach as generator/builders/models.py).
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Column, ForeignKey, Integer
from sqlalchemy.orm import relationship

from generator import names

TABLE = "jf_user_org"
CLASS_NAME = "UserOrg"


def build_user_org(base: type, org_model: type) -> type:
    """The ``UserOrg`` mapped class on ``base``: one row places one login account in one org.

    Args:
        base: the declarative base the generated models live on (must not hold ``jf_user_org`` yet).
        org_model: the mapped class of the org-tree entity (``models[spec.org_tree.entity]``).

    Returns:
        The class, with ``user_id`` (PK, FK ``ab_user.id`` ON DELETE CASCADE), ``org_id``
        (FK to the org table, indexed, NOT NULL) and the relationships ``user`` and ``org``.
    """
    if TABLE in base.metadata.tables:  # type: ignore[attr-defined]
        raise RuntimeError(f"{TABLE} already built on this base; build once per declarative base "
                           "(fab5-notes gotcha 4)")
    org_table = org_model.__table__  # type: ignore[attr-defined]
    user_id = Column("user_id", Integer,
                     ForeignKey(User.__table__.c.id, ondelete="CASCADE", name=names.fk_name(TABLE, "user_id")),
                     primary_key=True, autoincrement=False)
    org_id = Column("org_id", Integer,
                    ForeignKey(org_table.c.id, ondelete="RESTRICT", name=names.fk_name(TABLE, "org_id")),
                    nullable=False, index=True)

    def __str__(self: Any) -> str:
        return f"{self.user or self.user_id} @ {self.org or self.org_id}"

    attrs: dict[str, Any] = {
        "__tablename__": TABLE,
        "__module__": names.MODELS_MODULE,
        "__qualname__": CLASS_NAME,
        "__doc__": "Login account → organisation (data scopes are computed from it).",
        "user_id": user_id,
        "org_id": org_id,
        "user": relationship(User, foreign_keys=[user_id], lazy="selectin"),
        "org": relationship(org_model, foreign_keys=[org_id], lazy="selectin"),
        "__str__": __str__,
        "__repr__": __str__,
    }
    cls = type(CLASS_NAME, (base,), attrs)
    for idx in cls.__table__.indexes:  # type: ignore[attr-defined]
        if len(idx.columns) == 1:
            idx.name = names.index_name(TABLE, *idx.columns.keys(), unique=bool(idx.unique))
    return cls
