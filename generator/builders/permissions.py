"""Role → FAB permissions, computed from ``roles.yaml`` (pure; the app applies it).

Entity grants map onto the vocabulary the generated views and APIs use
(``can_read``/``can_create``/``can_update``/``can_delete``/``can_export`` on the
entity's name); a readable entity also gives access to its menu entry and
menu group.  Every signed-in role may see and edit its own account.
"""

from __future__ import annotations

from ..spec import AppSpec

Permission = tuple[str, str]  # (permission name, view-menu name)

SELF_SERVICE: frozenset[Permission] = frozenset({
    ("can_userinfo", "UserDBModelView"), ("can_this_form_get", "ResetMyPasswordView"),
    ("can_this_form_post", "ResetMyPasswordView"), ("can_this_form_get", "UserInfoEditView"),
    ("can_this_form_post", "UserInfoEditView"), ("menu_access", "Security"),
})


def menu_category(menu: str) -> str:
    """The FAB category a YAML menu group registers under (system merges with FAB's Security)."""
    return "Security" if menu == "system" else menu


def role_permissions(spec: AppSpec, role_name: str) -> set[Permission]:
    role = spec.roles[role_name]
    out: set[Permission] = set(SELF_SERVICE)
    for ent in spec.entities.values():
        actions = role.actions_on(ent.name)
        for action in actions:
            out.add((f"can_{action}", ent.name))
        if "read" in actions:
            out.add(("menu_access", f"menu_{ent.name}"))
            out.add(("menu_access", menu_category(ent.menu)))
    return out


def desired_permissions(spec: AppSpec) -> dict[str, set[Permission]]:
    return {name: role_permissions(spec, name) for name in spec.roles}
