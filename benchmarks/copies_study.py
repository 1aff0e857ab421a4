"""LFs that copy each other, counted once: the default against variants on the stress suite.

Runs ``benchmarks/stress.py`` (full suite, in this process, one job) once per variant of
:mod:`tripletws.estimators.copies` (module settings changed in place: the test's level, the
copy share of its null, which pairs are tested, which tables the null is computed from) and
with the treatment off, then writes ``results/stress_copies.{md,json}``: mean accuracy, the
share of problems at or above majority vote - 0.5 points, and both per family.

    PYTHONPATH=src python benchmarks/copies_study.py            # about 10 CPU minutes
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import stress  # noqa: E402

import tripletws.estimators.copies as copies  # noqa: E402
from tripletws.atomic import atomic_write_text  # noqa: E402

#: name -> (counted once?, settings of tripletws.estimators.copies)
VARIANTS: dict[str, tuple[bool, dict]] = {
    "off (before)": (False, {}),
    "default": (True, {}),
    "copy share 0.3": (True, {"COPY_SHARE": 0.3}),
    "copy share 0.7": (True, {"COPY_SHARE": 0.7}),
    "level 1 %": (True, {"ALPHA": 0.01}),
    "pairs with a one-class LF too": (True, {"PAIRS": "either"}),
    "all pairs": (True, {"PAIRS": "all"}),
    "null from the fitted tables": (True, {"NULL": "fit"}),
    "all pairs, null from the fitted tables": (True, {"PAIRS": "all", "NULL": "fit"}),
}


def run(tmp: Path) -> dict:
    defaults = {name: getattr(copies, name) for name in ("ALPHA", "COPY_SHARE", "PAIRS", "NULL")}
    out = {}
    for name, (on, settings) in VARIANTS.items():
        for key, value in {**defaults, **settings}.items():
            setattr(copies, key, value)
        path = tmp / "stress.json"
        kw = {} if on else {"copies": "keep"}
        stress.main(["--jobs", "1", "--models", "--model-kw", json.dumps(kw), "--out", str(path)])
        res = json.loads(path.read_text())
        name = stress.method_name(kw)
        rows = [(p["family"], p["results"]["mv"]["acc"], p["results"][name]["acc"]) for p in res["problems"]]
        fams = sorted({f for f, _, _ in rows})
        out[name] = {
            "settings": {"counted_once": on, **settings},
            "mean": sum(a for _, _, a in rows) / len(rows),
            "share": sum(a >= m - 0.005 for _, m, a in rows) / len(rows),
            "families": {
                f: {
                    "mean": sum(a for g, _, a in rows if g == f) / sum(g == f for g, _, _ in rows),
                    "at_least_mv": sum(a >= m - 0.005 for g, m, a in rows if g == f),
                }
                for f in fams
            },
            "mv_mean": sum(m for _, m, _ in rows) / len(rows),
        }
    for key, value in defaults.items():
        setattr(copies, key, value)
    return out


def markdown(out: dict) -> str:
    names = list(out)
    fams = list(next(iter(out.values()))["families"])
    lines = [
        "# LFs that copy each other, counted once: variants on the stress suite",
        "",
        "`PYTHONPATH=src python benchmarks/copies_study.py` (312 problems, `stress.py --jobs 1",
        "--models` per variant; settings of `tripletws.estimators.copies`). Accuracy on the test rows;",
        "share = problems at or above majority vote - 0.5 points. Majority vote's mean: "
        f"{out[names[0]]['mv_mean']:.4f}.",
        "",
        "| variant | mean acc | >= MV - 0.5 pt | " + " | ".join(fams) + " |",
        "|---|---|---|" + "---|" * len(fams),
    ]
    for name in names:
        r = out[name]
        cells = [f"{r['families'][f]['mean']:.3f} ({r['families'][f]['at_least_mv']})" for f in fams]
        lines.append(f"| {name} | {r['mean']:.4f} | {100 * r['share']:.1f} % | " + " | ".join(cells) + " |")
    lines += ["", "Family cells: mean accuracy (problems of 26 at or above MV - 0.5 points).", ""]
    return "\n".join(lines)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = run(Path(tmp))
    results = HERE / "results"
    atomic_write_text(results / "stress_copies.json", json.dumps(out, indent=1))
    atomic_write_text(results / "stress_copies.md", markdown(out))
    print(markdown(out))


if __name__ == "__main__":
    main()
