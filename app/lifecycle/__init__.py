"""Changing a live system (issue #14): plan, apply, the applied versions and their history page.

* ``codes``    E7xx/W7xx codes of plan, apply and refused start-ups; ``Refused`` prints as its lines
* ``plan``     the rehearsal: renames, moves, schema operations, permissions, workflow, checklists,
               reference data, each item safe / confirm / refused with its row counts
* ``apply``    backup, the plan in one transaction, the recorded version, roles and reference data
* ``history``  ``jf_config_version``: what was applied, when, by whom, its diff and plan
* ``cli``      ``python -m generator plan|apply|history`` (generator/__main__.py delegates here)
* ``views``    系统管理 → 配置历史 (grants.system: config_history)
"""
