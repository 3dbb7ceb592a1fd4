"""The one clock of the security code (naive UTC); tests replace ``now`` to move time."""

from __future__ import annotations

import datetime as _dt

EPOCH = _dt.datetime(1970, 1, 1)


def now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


def micros(at: _dt.datetime) -> int:
    """Microseconds since the Unix epoch of a naive UTC time (JWT claim ``jf_iat_us``)."""
    return (at - EPOCH) // _dt.timedelta(microseconds=1)
