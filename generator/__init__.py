"""Jiefen's config compiler: ``config/*.yaml`` → a validated, typed ``AppSpec``.

    from generator import load
    result = load("config")
    if not result.ok:
        for e in result.errors: print(e.render())

Stages: loader (E1xx) → validate (E2xx) → compile → checks (E3xx–E6xx).
"""

from .errors import CODES, ConfigError
from .pipeline import Result, load
from .spec import AppSpec

__all__ = ["AppSpec", "CODES", "ConfigError", "Result", "load"]
