"""A benchmark script run with the abstain check's test (e) on (``abstain_check.STABILITY_BAR``).

    PYTHONPATH=src python benchmarks/stability_stress.py 0.283 benchmarks/stress.py --models --jobs 1 \
        --out benchmarks/results/stress_stability283.json

The first argument is the bar (the share of rows on which the reading's half fits may disagree), the
second the script (benchmarks/stress.py, benchmarks/quality_lodo.py, the shared sets' judge); the
rest goes to the script, whose default fit is then that variant (a study option: docs/studies.md,
"What did not work (issue 7)", "Stability of the reading under half fits").
"""

from __future__ import annotations

import runpy
import sys

import tripletws.estimators.abstain_check as abstain_module

if __name__ == "__main__":
    abstain_module.STABILITY_BAR = float(sys.argv[1])
    script = sys.argv[2]
    sys.argv = [script, *sys.argv[3:]]
    runpy.run_path(script, run_name="__main__")
