"""A clean compile result kept between starts of the app (``load`` stays the compiler).

Compiling ``config/*.yaml`` (parse, schema, compile, checks) is about 0.07 s of every start.
A result without errors (warnings are kept) is pickled under ``var/cache/`` next to the schema
validators (``fastschema.cache_dir``), keyed by a hash of everything the compile depends on:
the bytes of each config file (and which ones are missing), the compiler's own source (every
``.py``/``.json`` file under ``generator/``), PyYAML's version, the interpreter, the config
directory and the working directory (messages name files relative to it).  Any change to one
of those compiles again; a config with errors is never cached, so its report is always fresh;
any problem with the cache (unreadable, stale format, unpicklable) falls back to ``load``.
Loading the pickle takes ~15 ms.
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import os
import pickle
import sys
import tempfile
from pathlib import Path
from types import MappingProxyType
from typing import Optional

from .fastschema import cache_dir
from .pipeline import KINDS, Result, load
from .spec import frozen_map

PACKAGE = Path(__file__).resolve().parent


def load_cached(config_dir: str) -> Result:
    """``load(config_dir)``, answered from the cache when nothing it reads has changed."""
    try:
        stem, key = _names(config_dir)
    except Exception:  # noqa: BLE001 - a broken cache must never break the start
        return load(config_dir)
    path = cache_dir() / f"{stem}_{key}.pickle"
    try:
        if path.exists():
            cached = pickle.loads(path.read_bytes())  # noqa: S301 - our own file, like the .marshal ones
            if isinstance(cached, Result) and cached.ok:
                return cached
    except Exception:  # noqa: BLE001 - unreadable or stale: compile and write it again
        pass
    result = load(config_dir)
    if result.ok:
        _store(path, stem, result)
    return result


def _names(config_dir: str) -> tuple[str, str]:
    """``(file stem of this config directory, hash of everything the compile reads)``."""
    where = f"{os.path.abspath(config_dir)}\0{os.getcwd()}"
    stem = "jiefen_spec_" + hashlib.sha256(where.encode()).hexdigest()[:12]
    import yaml

    digest = hashlib.sha256()
    for part in (where, sys.version, getattr(yaml, "__version__", "")):
        digest.update(part.encode() + b"\0")
    for kind in KINDS:
        digest.update(kind.encode() + b"\0" + _read(Path(config_dir) / f"{kind}.yaml") + b"\0")
    for src in sorted(p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".json")
                      and "__pycache__" not in p.parts):
        digest.update(str(src.relative_to(PACKAGE)).encode() + b"\0" + src.read_bytes() + b"\0")
    return stem, digest.hexdigest()[:32]


def _read(path: Path) -> bytes:
    try:
        return b"+" + path.read_bytes()
    except OSError:
        return b"-"  # missing (or unreadable): a different key from any content


class _Pickler(pickle.Pickler):
    dispatch_table = copyreg.dispatch_table.copy()
    dispatch_table[MappingProxyType] = lambda m: (frozen_map, (dict(m),))  # the spec's read-only maps


def _store(path: Path, stem: str, result: Result) -> Optional[Path]:
    try:
        buf = io.BytesIO()
        _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(result)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(buf.getvalue())
        os.replace(tmp, path)  # atomic: concurrent starts never read a half-written file
        for old in path.parent.glob(f"{stem}_*.pickle"):  # earlier versions of this config
            if old != path:
                old.unlink(missing_ok=True)
        return path
    except Exception:  # noqa: BLE001 - caching is an optimisation only
        return None
