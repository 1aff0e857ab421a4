"""The whole weak-supervision loop on generated product reviews, offline.

raw text rows -> labeling functions -> apply (with a progress bar) -> LFAnalysis
-> fit the label model -> HTML report -> a scikit-learn classifier trained on the
probabilistic labels -> scored on gold labels it never saw.

Run:  python examples/end_to_end.py [--n 20000] [--out-dir out/]
Needs pandas, scikit-learn and matplotlib (pip install "tripletws[report]" pandas scikit-learn).
"""

from __future__ import annotations

import argparse
import itertools
import warnings
from pathlib import Path

import numpy as np

from tripletws import LabelModel
from tripletws.labeling import (
    ABSTAIN,
    LFAnalysis,
    PandasLFApplier,
    keyword_lf,
    labeling_function,
    preprocessor,
    threshold_lf,
)

POSITIVE = ["great", "excellent", "love", "perfect", "superb", "happy", "recommend", "amazing"]
NEGATIVE = ["bad", "terrible", "broken", "refund", "awful", "disappointed", "waste", "poor"]
NEUTRAL = (
    "the it this product arrived box item use day week price color size battery screen "
    "delivery works came looks seller order again bought for my with and was is"
).split()


def make_reviews(n: int, seed: int = 0):
    """Reviews with a hidden sentiment (0 negative, 1 positive) and a star rating that is
    missing for most rows.  Sentiment words of the wrong class appear as noise."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.55).astype(np.int64)
    texts, stars = [], np.full(n, np.nan)
    for i in range(n):
        words = list(rng.choice(NEUTRAL, size=rng.integers(6, 14)))
        own, other = (POSITIVE, NEGATIVE) if y[i] == 1 else (NEGATIVE, POSITIVE)
        words += list(rng.choice(own, size=rng.poisson(1.2)))
        words += list(rng.choice(other, size=rng.poisson(0.3)))
        if rng.random() < 0.08:
            words += ["not", "good"] if y[i] == 0 else ["not", "bad"]
        rng.shuffle(words)
        texts.append(" ".join(words))
        if rng.random() < 0.3:
            stars[i] = np.clip(round(rng.normal(4.2 if y[i] else 2.0, 1.0)), 1, 5)
    return pd.DataFrame({"text": texts, "stars": stars}), y


@preprocessor(memoize=True)
def tokens(x):
    """Tokenise once per row, however many LFs use it."""
    return {"words": x["text"].split()}


@labeling_function(pre=[tokens])
def lf_not_good(x):
    w = x["words"]
    return 0 if any(a == "not" and b == "good" for a, b in itertools.pairwise(w)) else ABSTAIN


@labeling_function(pre=[tokens])
def lf_not_bad(x):
    w = x["words"]
    return 1 if any(a == "not" and b == "bad" for a, b in itertools.pairwise(w)) else ABSTAIN


LFS = [
    keyword_lf(["great", "excellent"], label=1, name="kw_great"),
    keyword_lf(["love", "perfect"], label=1, name="kw_love"),
    keyword_lf(["recommend", "happy"], label=1, name="kw_recommend"),
    keyword_lf(["bad", "terrible"], label=0, name="kw_bad"),
    keyword_lf(["broken", "refund"], label=0, name="kw_broken"),
    keyword_lf(["awful", "waste"], label=0, name="kw_awful"),
    threshold_lf("stars", 3.5, label=1, name="stars_high"),
    threshold_lf("stars", 2.5, label=0, above=False, name="stars_low"),
    lf_not_good,
    lf_not_bad,
]


def soft_label_fit(X, probs: np.ndarray, random_state: int = 0):
    """Logistic regression on probabilistic labels: each row once per class, weighted by P(Y = c)."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    k = probs.shape[1]
    Xk = sparse.vstack([X] * k) if sparse.issparse(X) else np.vstack([X] * k)
    yk = np.repeat(np.arange(k), X.shape[0])
    clf = LogisticRegression(max_iter=1000, random_state=random_state)
    clf.fit(Xk, yk, sample_weight=probs.T.reshape(-1))
    return clf


def main(
    n: int = 20_000, out_dir: str | Path = "end_to_end_out", seed: int = 0, progress: bool = True
) -> dict:
    """Run the loop; returns the figures it prints."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train, y_train = make_reviews(n, seed)
    test, y_test = make_reviews(max(n // 4, 500), seed + 1)

    # 1. apply the LFs (vectorised keyword/threshold LFs run once per frame; the bar counts rows)
    applier = PandasLFApplier(LFS, cache_dir=out / "lf_cache", rows="records")
    L_train = applier.apply(train, progress=progress)

    # 2. look at the LFs before trusting them
    analysis = LFAnalysis(L_train, LFS)
    print(
        "matrix:",
        {k: round(v, 3) if isinstance(v, float) else v for k, v in analysis.matrix_summary().items()},
    )

    # 3. fit the label model, with 95 % bootstrap intervals on the accuracies
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = LabelModel(cardinality=2).fit(L_train)
    model.confidence_intervals(L_train, n_boot=200, random_state=seed)
    table = analysis.lf_summary(Y=y_train, model=model)
    cols = ["Coverage", "Conflicts", "Emp. Acc.", "Learned Acc.", "Acc. low", "Acc. high"]
    print(table[cols].round(3).to_string())

    # 4. the report (open it in any browser, offline)
    report = out / "report.html"
    model.report(L_train, y_train, path=report, lf_names=[lf.name for lf in LFS])
    print(f"report: {report}")

    # 5. an end model trained on the probabilistic labels of the rows that got a vote
    probs = model.predict_proba(L_train)
    voted = (L_train != ABSTAIN).any(axis=1)
    vec = TfidfVectorizer(min_df=2)
    X_train = vec.fit_transform(train["text"][voted])
    clf = soft_label_fit(X_train, probs[voted], random_state=seed)
    end_acc = float(np.mean(clf.predict(vec.transform(test["text"])) == y_test))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        lm_acc = model.score(L_train, y_train, ["accuracy"], tie_break_policy="random")["accuracy"]
    figures = {
        "label_model_train_accuracy": lm_acc,
        "end_model_test_accuracy": end_acc,
        "rows_with_a_vote": float(voted.mean()),
    }
    print({k: round(v, 4) for k, v in figures.items()})
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="training rows (default: %(default)s)")
    parser.add_argument(
        "--out-dir", default="end_to_end_out", help="report and LF cache (default: %(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.n, args.out_dir, args.seed)
