"""The audit trail: ``log`` (the append-only table and how rows are written), ``listener`` (every
record change in the same transaction), ``denials`` (every refusal), ``views`` (the log, per-record
history and the access matrix under 系统管理).

The audit trail never imports the access package: the app tells it whose organisation the actor is
(``log.set_org_of_actor``).
"""
