"""Quick schema-only lint used while writing config (the full checker is `python -m generator check`)."""
import sys, yaml, jsonschema
sys.path.insert(0, ".")
from generator.schemas import schema_for
for kind in ["entities", "roles", "workflows", "checklists", "reference"]:
    path = f"config/{kind}.yaml"
    try:
        data = yaml.safe_load(open(path, encoding="utf-8"))
    except FileNotFoundError:
        print(f"{path}: missing"); continue
    v = jsonschema.Draft202012Validator(schema_for(kind))
    errs = sorted(v.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    for e in errs:
        print(f"{path}: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}")
    print(f"{path}: {len(errs)} schema errors")
