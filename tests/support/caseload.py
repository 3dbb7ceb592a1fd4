"""Bulk case data for statement-count tests and the list benchmark.

``load_cases`` inserts an org tree (county centre → townships → stations), employers,
mediators and ``n`` dispute cases with ``session.execute(insert(Model), rows)`` in batches.
Every required field is filled from the spec by type (so a config change does not break
it); the refs a case list shows are filled with a realistic skew:

* ``registering_org`` / ``current_org``: stations, a few busy ones take most cases;
* ``assigned_mediator``: 85 % of cases (the rest are not yet assigned);
* ``employer``: 90 %; ``priority``: mostly ``normal``;
* ``registered_at``: spread over three years; ``state``: any workflow state.

Optional refs not on the list (sealing/arbitration/court org, arbitrator) are filled on
part of the rows too, so a loader that pulls unlisted relations would show up in counts.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any, Mapping, Optional

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from generator import names
from generator.spec import AppSpec, Entity, Field

PREFIX = "YX-LOAD"
BASE_TIME = dt.datetime(2023, 1, 1, 8, 0)


def _value(spec: AppSpec, f: Field, i: int, rng: random.Random) -> Any:
    if f.default is not None and not f.unique:
        return f.default if f.type not in ("date", "datetime", "decimal") else None
    if f.type == "enum":
        return rng.choice(list(spec.enums[f.enum].values)) if f.enum else None
    if f.type in ("string", "text"):
        text = f"{PREFIX}-{f.name[:6].upper()}-{i}"
        return text[: f.max_length] if f.max_length else text
    if f.type == "integer":
        return max(int(f.min or 0), 1 + i % 50)
    if f.type == "decimal":
        return Decimal("1000.00") + i % 997
    if f.type == "boolean":
        return bool(i % 2)
    if f.type == "date":
        return (BASE_TIME + dt.timedelta(days=i % 1000)).date()
    if f.type == "datetime":
        return BASE_TIME + dt.timedelta(minutes=17 * i)
    return None


def required_values(spec: AppSpec, ent: Entity, i: int, rng: random.Random) -> dict[str, Any]:
    """Column values for every required non-ref field of ``ent`` (row number ``i``)."""
    out: dict[str, Any] = {}
    for f in ent.fields.values():
        if f.type in ("ref", "user", "file") or not f.required:
            continue
        value = _value(spec, f, i, rng)
        if value is not None:
            out[names.column_name(f.name, f.type)] = value
    return out


def _bulk(session: Session, model: type, rows: list[dict[str, Any]], batch: int) -> None:
    for start in range(0, len(rows), batch):
        session.execute(insert(model), rows[start:start + batch])


def _ref_col(ent: Entity, name: str) -> Optional[str]:
    f = ent.fields.get(name)
    return names.column_name(f.name, f.type) if f is not None and f.type == "ref" else None


def load_cases(session: Session, spec: AppSpec, models: Mapping[str, type], n_cases: int, *,
               n_orgs: int = 200, n_mediators: int = 2000, n_employers: int = 5000,
               seed: int = 20260101, batch: int = 5000) -> dict[str, int]:
    """Insert the data described in the module doc; commits.  Returns the row counts added."""
    rng = random.Random(seed)
    org_ent = spec.entities[spec.org_tree.entity]
    org = models[org_ent.name]
    tree = spec.org_tree
    parent_col = _ref_col(org_ent, tree.parent_field)
    type_col = names.column_name(tree.type_field, "enum") if tree.type_field else None
    levels = list(tree.levels.values())  # county, township, station types

    def org_type(level: int) -> Optional[str]:
        kinds = levels[min(level, len(levels) - 1)] if levels else ()
        return kinds[1] if level == 0 and len(kinds) > 1 else (kinds[0] if kinds else None)

    # Org tree: 1 county centre, ~10 % townships, the rest stations under a township.
    start_id = (session.execute(select(func.max(org.id))).scalar() or 0) + 1
    n_town = max(1, n_orgs // 10)
    org_rows = []
    for k in range(n_orgs):
        oid = start_id + k
        row = {"id": oid, **required_values(spec, org_ent, oid, rng)}
        if type_col:
            row[type_col] = org_type(0 if k == 0 else 1 if k <= n_town else 2)
        if parent_col:
            row[parent_col] = None if k == 0 else (start_id if k <= n_town else start_id + 1 + k % n_town)
        org_rows.append(row)
    _bulk(session, org, org_rows, batch)
    stations = [r["id"] for r in org_rows[1 + n_town:]] or [r["id"] for r in org_rows]
    busy = stations[: max(1, len(stations) // 10)]

    def station() -> int:  # 10 % of the stations take half the cases
        return rng.choice(busy) if rng.random() < 0.5 else rng.choice(stations)

    def children(entity: str, n: int) -> list[int]:
        ent = spec.entities[entity]
        model = models[entity]
        first = (session.execute(select(func.max(model.id))).scalar() or 0) + 1
        rows = []
        for k in range(n):
            row = {"id": first + k, **required_values(spec, ent, first + k, rng)}
            for f in ent.fields.values():
                if f.type == "ref" and f.ref == org_ent.name and (f.required or rng.random() < 0.3):
                    row[names.column_name(f.name, f.type)] = station()
            rows.append(row)
        _bulk(session, model, rows, batch)
        return [r["id"] for r in rows]

    mediators = children("mediator", n_mediators)
    employers = children("employer", n_employers)
    arbitrators = children("arbitrator", 40) if "arbitrator" in spec.entities else []

    case_ent = spec.entities["dispute_case"]
    case = models["dispute_case"]
    first = (session.execute(select(func.max(case.id))).scalar() or 0) + 1
    wf = next((w for w in spec.workflows.values() if w.entity == "dispute_case"), None)
    states = list(wf.states) if wf else []
    priorities = list(spec.enums[case_ent.fields["priority"].enum].values) if "priority" in case_ent.fields else []
    span = 3 * 365 * 24 * 60
    rows = []
    for k in range(n_cases):
        cid = first + k
        row = {"id": cid, **required_values(spec, case_ent, cid, rng)}
        here = station()
        for f in case_ent.fields.values():
            if f.type != "ref":
                continue
            col = names.column_name(f.name, f.type)
            if f.ref == org_ent.name:
                if f.name in ("registering_org", "current_org") or f.required:
                    row[col] = here
                elif rng.random() < 0.2:
                    row[col] = station()
            elif f.ref == "mediator" and mediators and rng.random() < 0.85:
                row[col] = rng.choice(mediators)
            elif f.ref == "employer" and employers and rng.random() < 0.9:
                row[col] = rng.choice(employers)
            elif f.ref == "arbitrator" and arbitrators and rng.random() < 0.1:
                row[col] = rng.choice(arbitrators)
        if "registered_at" in row:
            row["registered_at"] = BASE_TIME + dt.timedelta(minutes=rng.randrange(span))
        if priorities:
            row["priority"] = priorities[0] if rng.random() < 0.8 else rng.choice(priorities)
        if states:
            row["state"] = states[0] if rng.random() < 0.3 else rng.choice(states)
        rows.append(row)
    _bulk(session, case, rows, batch)
    session.commit()
    _sync_sequences(session, [org, models["mediator"], models["employer"], case]
                    + ([models["arbitrator"]] if arbitrators else []))
    return {"orgs": n_orgs, "mediators": len(mediators), "employers": len(employers),
            "arbitrators": len(arbitrators), "cases": n_cases}


def _sync_sequences(session: Session, model_list: list[type]) -> None:
    """PostgreSQL: explicit ids leave the serial sequences behind; move them past the max id."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    for model in model_list:
        table = model.__table__.name
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    session.commit()


def load_rows(session: Session, spec: AppSpec, models: Mapping[str, type], entity: str, n: int, *,
              seed: int = 7, batch: int = 5000, ref_fill: float = 0.8) -> int:
    """``n`` rows of any entity: required fields by type, each ref set to an existing target row
    (always when required, else with probability ``ref_fill``).  Commits; returns ``n``."""
    rng = random.Random(seed)
    ent = spec.entities[entity]
    model = models[entity]
    targets: dict[str, list[int]] = {}
    for f in ent.fields.values():
        if f.type == "ref":
            ids = list(session.execute(select(models[f.ref].id).order_by(models[f.ref].id).limit(1000)).scalars())
            if not ids and f.required:
                raise LookupError(f"{entity}.{f.name}: no {f.ref} rows to point at")
            targets[f.name] = ids
    first = (session.execute(select(func.max(model.id))).scalar() or 0) + 1
    wf = next((w for w in spec.workflows.values() if w.entity == entity), None)
    rows = []
    for k in range(n):
        row = {"id": first + k, **required_values(spec, ent, first + k, rng)}
        for name, ids in targets.items():
            f = ent.fields[name]
            if ids and (f.required or rng.random() < ref_fill):
                row[names.column_name(f.name, f.type)] = rng.choice(ids)
        if wf is not None:
            row["state"] = rng.choice(list(wf.states))
        rows.append(row)
    _bulk(session, model, rows, batch)
    session.commit()
    _sync_sequences(session, [model])
    return n
