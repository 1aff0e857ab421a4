"""Label the frames of a tennis video: majority vote, per-frame label model, chain model.

The data are FlyingSquid's video tutorial matrices (6 LFs vote rally / no rally on
every frame).  We fit on the train split without gold and score on valid::

    PYTHONPATH=src python examples/tennis.py [path/to/shared/data]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from tripletws import LabelModel, MajorityLabelVoter
from tripletws.datasets import load_dataset
from tripletws.diagnostics import dependency_candidates
from tripletws.sequence import SequenceLabelModel

HERE = Path(__file__).resolve().parent


def main() -> None:
    data_home = (
        sys.argv[1]
        if len(sys.argv) > 1
        else os.environ.get("TRIPLETWS_DATA", HERE.parent.parent / "shared" / "data")
    )
    ds = load_dataset("tennis_flyingsquid", data_home)
    train, valid = ds["train"], ds["valid"]
    # Frames of each split are one video in temporal order (frame = 0..n-1): one sequence.
    assert np.all(np.diff(train.extra["frame"]) == 1)
    v = int(train.extra["v"])  # FlyingSquid's window length (3)

    models = {
        "majority vote": MajorityLabelVoter(),
        "LabelModel, per frame": LabelModel().fit(train.L),
        "SequenceLabelModel, one sequence": SequenceLabelModel().fit(train.L),
        f"SequenceLabelModel, windows of {v}": SequenceLabelModel(window=v).fit(train.L),
    }
    print(f"{'model':36s} {'acc':>6s} {'F1':>6s}")
    for name, model in models.items():
        res = model.score(valid.L, valid.y, metrics=["accuracy", "f1"], tie_break_policy="random")
        print(f"{name:36s} {res['accuracy']:6.3f} {res['f1']:6.3f}")

    chain = models["SequenceLabelModel, one sequence"]
    print(
        f"\nestimated persistence rho = {chain.persistence_:.3f} (P(label stays) = "
        f"{chain.transition_[0, 0]:.3f} / {chain.transition_[1, 1]:.3f})"
    )
    print(f"valid gold: P(label stays) = {np.mean(valid.y[1:] == valid.y[:-1]):.3f}")
    print("per-frame LF accuracies:", np.round(chain.accuracies_, 3))

    print("\nLF pairs that agree more than the model predicts (likely dependencies):")
    table = dependency_candidates(train.L, models["LabelModel, per frame"], top=5)
    print(table.to_string(index=False) if hasattr(table, "to_string") else table)


if __name__ == "__main__":
    main()
