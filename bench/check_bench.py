"""Benchmark of the config compiler (not a test): prints medians and growth ratios.

    .venv/bin/python bench/check_bench.py [--runs 7]

Measures ``generator.load`` in-process and ``python -m generator check`` as a
whole process on the shipped config, then in-process on generated configs of
50, 200 and 500 entities (each with 12 fields, refs, enums and personal data).
Targets (issue #2): shipped config < 0.3 s; growth close to linear; < 3 s at 500.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator import load  # noqa: E402

MINIMAL = ROOT / "tests" / "fixtures" / "minimal"


def median_time(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def synthetic(n: int, dest: Path) -> Path:
    """The minimal config plus ``n`` generated entities, all referenced from roles."""
    cfg = dest / f"config_{n}"
    shutil.copytree(MINIMAL, cfg)
    lines = []
    for i in range(n):
        prev = f"gen_{i - 1:04d}" if i else "dispute_case"
        lines.append(f"""  gen_{i:04d}:
    label: {{zh: 生成实体{i}, en: Generated {i}}}
    menu: registry
    display: title
    scope: {{org: org}}
    fields:
      title: {{label: {{zh: 标题, en: Title}}, type: string, required: true, max_length: 100}}
      org: {{label: {{zh: 所属组织, en: Org}}, type: ref, ref: org, required: true}}
      previous: {{label: {{zh: 上一条, en: Previous}}, type: ref, ref: {prev}}}
      kind: {{label: {{zh: 类型, en: Kind}}, type: enum, enum: doc_type}}
      amount: {{label: {{zh: 金额, en: Amount}}, type: decimal, min: 0}}
      happened_on: {{label: {{zh: 日期, en: Date}}, type: date}}
      person_name: {{label: {{zh: 姓名, en: Name}}, type: string, pii: name}}
      id_no: {{label: {{zh: 证件号, en: ID}}, type: string, pii: id_number, format: id_card}}
      mobile: {{label: {{zh: 手机, en: Mobile}}, type: string, pii: phone, format: mobile}}
      note: {{label: {{zh: 备注, en: Note}}, type: text}}
      done: {{label: {{zh: 完成, en: Done}}, type: boolean}}
      counted: {{label: {{zh: 数量, en: Count}}, type: integer, min: 0, max: 100000}}
    list: [title, org, kind, amount, happened_on]
    search: [title, person_name]
    filters: [kind, org]
    order_by: -happened_on
""")
    ents = (cfg / "entities.yaml").read_text("utf-8")
    (cfg / "entities.yaml").write_text(ents + "".join(lines), "utf-8")
    grants = "".join(f"        gen_{i:04d}: [read, create, update]\n" for i in range(n))
    roles = (cfg / "roles.yaml").read_text("utf-8").replace(
        "        mediator: [read, create, update]\n", "        mediator: [read, create, update]\n" + grants)
    (cfg / "roles.yaml").write_text(roles, "utf-8")
    result = load(str(cfg))
    assert result.ok, [e.render() for e in result.errors][:5]
    return cfg


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    shipped = ROOT / "config"
    result = load(str(shipped))
    spec = result.spec
    print(f"shipped config: ok={result.ok}, {len(spec.entities) if spec else '?'} entities, "
          f"{sum(len(e.fields) for e in spec.entities.values()) if spec else '?'} fields")
    t_in = median_time(lambda: load(str(shipped)), args.runs)
    cmd = [sys.executable, "-m", "generator", "check", str(shipped), "--no-db"]  # the compiler alone
    t_proc = median_time(lambda: subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False), args.runs)
    print(f"check, shipped config, in-process load():      median {t_in * 1000:8.1f} ms")
    print(f"check, shipped config, python -m generator:    median {t_proc * 1000:8.1f} ms  (target < 300 ms)")
    with tempfile.TemporaryDirectory() as tmp:
        times = {}
        for n in (50, 200, 500):
            cfg = synthetic(n, Path(tmp))
            times[n] = median_time(lambda c=cfg: load(str(c)), args.runs)
            print(f"check, generated {n:>3} entities, in-process:   median {times[n] * 1000:8.1f} ms"
                  f"  ({times[n] / n * 1000:.2f} ms/entity)")
        print(f"growth 50→200: x{times[200] / times[50]:.2f} for x4 entities; "
              f"200→500: x{times[500] / times[200]:.2f} for x2.5 entities (linear = 4.00 / 2.50)")
        t500 = median_time(lambda: subprocess.run([sys.executable, "-m", "generator", "check",
                                                   str(Path(tmp) / "config_500"), "--no-db"], cwd=ROOT,
                                                  capture_output=True, check=False), args.runs)
        print(f"check, generated 500 entities, process:        median {t500 * 1000:8.1f} ms  (target < 3000 ms)")


if __name__ == "__main__":
    main()
