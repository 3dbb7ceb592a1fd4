"""The case workflow of workflows.yaml at run time: transitions, history, deadlines, lists.

    engine.py     perform() one transition in one transaction; available(); history(); case_view()
    guards.py     what a transition still lacks; checklist_item_passing() (the 五有 hook)
    effects.py    create / set / deadline effects, assignee resolution, field coercion
    deadlines.py  deadlines from the history on read; extensions; derived rows; recompute_open()
    calendar.py   the Chinese working-day calendar (chinesecalendar + YAML overrides, coverage warnings)
    queries.py    inbox(), overdue(), funnel()
    tables.py     jf_case_history, jf_deadline_extension, jf_case_deadline, jf_case_clock
    api.py        the REST endpoints (/api/v1/dispute_case/<id>/transitions…, /api/v1/workflow/…)
    demo.py       demo histories for the demo cases
    common.py     context, errors (with HTTP status), principals outside a request, role scopes

For the UI, everything takes a SQLAlchemy session and an :class:`app.access.Principal`
(``access.current().principal()`` in a request) and returns JSON-ready dicts:

    from app.workflow import engine, deadlines, queries
    engine.case_view(session, case_id, principal)          state, version, actions, deadlines, history
    engine.available(session, case_row, principal)         the buttons, each with its form and what is missing
    engine.perform(session, case_id, name, principal=p, expected_version=v, comment=…, data={"fields": {…}})
    engine.history(session, case_id)                       the timeline
    deadlines.case_deadlines(session, case_id).as_dict()   countdowns: due_on, status, remaining_days…
    deadlines.extend(session, case_id, deadline, days, reason, principal=p)
    queries.inbox(session, p) / queries.overdue(session, p) / queries.funnel(session, p)

Errors are :class:`common.WorkflowError` subclasses with ``status`` (403/404/409/422), ``message``
and ``missing``.  ``python -m generator explain --workflow case_flow`` prints the mermaid diagram
(generator.explain.mermaid).
"""

from __future__ import annotations

from .common import (BadInput, CaseNotFound, GuardFailed, TransitionForbidden, TransitionNotFound,  # noqa: F401
                     VersionConflict, WorkflowError, WrongState)
