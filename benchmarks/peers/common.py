"""Shared pieces of the peer benchmark: data loading, tie-break, metrics, method adapters.

Every method is wrapped in a small adapter with the same two calls::

    method.fit(L_fit, k, class_balance=None)   # L_fit: (n, m) int, -1 = abstain, classes 0..k-1
    P = method.predict_proba(L_eval)             # (n_eval, k), rows sum to 1

Adapters convert to each peer's own conventions (FlyingSquid: 0 = abstain, +-1 votes;
crowd-kit: long task/worker/label table). Run with the peers' venv python
(benchmarks/peers/.venv/bin/python, built by setup_env.sh).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DATA = Path(os.environ.get("TRIPLETWS_DATA", ROOT.parent / "shared" / "data"))

TIE_TOL = 1e-5  # same absolute tolerance as Snorkel's probs_to_preds / WRENCH

# pgmpy warns once per FlyingSquid call that MarkovModel was renamed; keep the output readable.
logging.getLogger("pgmpy").setLevel(logging.ERROR)


# --------------------------------------------------------------------------- data


def load_index() -> dict:
    with open(DATA / "index.json") as fh:
        return json.load(fh)


def load_split(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    z = np.load(DATA / name / f"{split}.npz")
    return z["L"], z["y"]


def pool_map(fn, todo: list, jobs: int) -> list:
    """``fn`` over ``todo`` in ``jobs`` worker processes, in order, one line of progress each on stderr
    (the record's set and size, and the seconds since the start)."""
    from concurrent.futures import ProcessPoolExecutor

    t0 = time.time()
    out = []
    with ProcessPoolExecutor(max(1, jobs)) as pool:
        for i, rec in enumerate(pool.map(fn, todo, chunksize=1), 1):
            out.append(rec)
            print(f"[{i}/{len(todo)}] {rec['set']}/{rec['size']} {time.time() - t0:.0f} s", file=sys.stderr)
    return out


def machine_info() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


_THREAD_LIMITS: list = []  # keeps the threadpoolctl limiter alive


def limit_threads(n: int) -> str:
    """Cap BLAS/OpenMP threads (numpy's OpenBLAS, torch's intra-op pool) at `n` for every method.

    On this shared 2-core machine, with the other core busy, torch's 2-thread OpenMP pool makes
    a Snorkel fit (n=1e4, m=20) take ~6.5 s instead of ~0.34 s with one thread; a single thread
    for everyone is the fair and reproducible default here."""
    from threadpoolctl import threadpool_limits

    _THREAD_LIMITS.append(threadpool_limits(limits=n))
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass
    return f"{n} thread(s) for BLAS/OpenMP and torch"


_OURS_REV: list[str] = []  # set by use_ours_revision


def use_ours_revision(rev: str) -> str:
    """Run our package as committed at git revision `rev` instead of the (editable) working
    tree: `git archive rev src/tripletws` into a temp dir put first on sys.path. Must be called
    before tripletws is imported. Lets a benchmark run while the library is being edited."""
    import atexit
    import shutil
    import subprocess
    import sys
    import tarfile
    import tempfile

    if "tripletws" in sys.modules:
        raise RuntimeError("use_ours_revision() must run before tripletws is imported")
    full = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", rev],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dest = Path(tempfile.mkdtemp(prefix=f"tripletws-{full}-"))
    atexit.register(shutil.rmtree, dest, ignore_errors=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", rev, "src/tripletws"],
        capture_output=True,
        check=True,
    ).stdout
    tar_path = dest / "src.tar"
    tar_path.write_bytes(archive)
    with tarfile.open(tar_path) as tf:
        tf.extractall(dest, filter="data")
    sys.path.insert(0, str(dest / "src"))
    _OURS_REV.append(f"tripletws @ {full} (exported from git, working tree not used)")
    return _OURS_REV[-1]


def ours_revision() -> str:
    """Which tripletws code ran: git HEAD of the repo, plus '+ uncommitted src changes' when
    src/ differs from HEAD (the package is installed editable, so the working tree is what ran)."""
    import subprocess

    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    if _OURS_REV:
        return _OURS_REV[-1]
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "src")
    return f"tripletws @ {head}" + (" + uncommitted src changes" if dirty else "")


# --------------------------------------------------------------------------- tie-break


def _row_hash(n: int) -> np.ndarray:
    """Fixed pseudo-random uint64 per row index (splitmix64 finaliser of 0..n-1)."""
    z = np.arange(n, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def argmax_hash_tiebreak(P: np.ndarray, tol: float = TIE_TOL) -> np.ndarray:
    """Argmax per row; classes within `tol` of the row max are tied and one of them is picked by
    a fixed hash of the row index (identical for every method, independent of any RNG)."""
    P = np.asarray(P, dtype=np.float64)
    n = P.shape[0]
    tied = P >= P.max(axis=1, keepdims=True) - tol
    n_tied = tied.sum(axis=1)
    pick = (_row_hash(n) % n_tied.astype(np.uint64)).astype(np.int64)  # rank among tied classes
    rank = np.cumsum(tied, axis=1) - 1
    return np.argmax(tied & (rank == pick[:, None]), axis=1)


# --------------------------------------------------------------------------- metrics


def f1_of_class(y: np.ndarray, pred: np.ndarray, c: int) -> float:
    tp = np.sum((pred == c) & (y == c))
    fp = np.sum((pred == c) & (y != c))
    fn = np.sum((pred != c) & (y == c))
    denom = 2 * tp + fp + fn
    return float(2 * tp / denom) if denom else 0.0


def metrics(P: np.ndarray, y: np.ndarray, k: int) -> dict:
    """Metrics over rows with gold (y >= 0). F1 of class 1 for binary, macro-F1 over the classes
    present in gold or predictions (sklearn's default label set) for k > 2."""
    P = np.asarray(P, dtype=np.float64)
    pred = argmax_hash_tiebreak(P)
    g = y >= 0
    yg, pg, Pg = y[g].astype(np.int64), pred[g], P[g]
    out = {"n_eval": int(g.sum()), "acc": float(np.mean(pg == yg))}
    if k == 2:
        out["f1"] = f1_of_class(yg, pg, 1)
    else:
        labels = np.union1d(yg, pg)
        out["macro_f1"] = float(np.mean([f1_of_class(yg, pg, c) for c in labels]))
    onehot = np.eye(k)[yg]
    out["brier"] = float(np.mean(np.sum((Pg - onehot) ** 2, axis=1)))
    return out


# --------------------------------------------------------------------------- timeouts


class FitTimeout(Exception):
    """Raised by the SIGALRM backstop when a fit overruns its hard limit."""


@contextmanager
def hard_limit(seconds: float | None):
    """Raise FitTimeout after `seconds` of wall time (main thread only). It fires as soon as the
    interpreter regains control, so a long C call overruns by that call's length."""
    if not seconds:
        yield
        return

    def handler(signum, frame):
        raise FitTimeout(f"exceeded {seconds:.0f} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------------------- methods


class NotApplicable(Exception):
    """The method does not apply to this input (e.g. FlyingSquid on k > 2)."""


class Method:
    name = "?"
    family = "peer"  # "peer" | "ours" | "baseline"
    transductive = False  # fits on the rows it predicts (no separate predict)
    binary_only = False

    def fit(self, L: np.ndarray, k: int, class_balance: np.ndarray | None = None) -> Method:
        raise NotImplementedError

    def predict_proba(self, L: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def mv_counts(L: np.ndarray, k: int) -> np.ndarray:
    """(n, k) vote counts, abstains (-1) ignored."""
    L = np.asarray(L)
    n = L.shape[0]
    counts = np.zeros((n, k), dtype=np.int64)
    for c in range(k):
        counts[:, c] = np.count_nonzero(L == c, axis=1)
    return counts


class NumpyMV(Method):
    """Plain numpy majority vote: probability split evenly over the most-voted classes (one-hot
    when there is a single mode, Snorkel's MajorityLabelVoter convention); uniform if no vote."""

    name = "mv_numpy"
    family = "baseline"

    def fit(self, L, k, class_balance=None):
        self.k = k
        return self

    def predict_proba(self, L):
        counts = mv_counts(L, self.k)
        top = counts == counts.max(axis=1, keepdims=True)
        return top / top.sum(axis=1, keepdims=True)


class OursMV(Method):
    name = "ours_mv"
    family = "ours"

    def fit(self, L, k, class_balance=None):
        from tripletws import MajorityLabelVoter

        self.model = MajorityLabelVoter(cardinality=k)
        if hasattr(self.model, "fit"):
            self.model.fit(L)
        return self

    def predict_proba(self, L):
        return self.model.predict_proba(L)


class Ours(Method):
    family = "ours"

    def __init__(self, name: str, kwargs: dict):
        self.name = name
        self.kwargs = kwargs

    def fit(self, L, k, class_balance=None):
        from tripletws import LabelModel

        given = {} if class_balance is None else {"class_balance": class_balance}
        self.model = LabelModel(cardinality=k, **self.kwargs, **given)
        self.model.fit(L)
        return self

    def predict_proba(self, L):
        return self.model.predict_proba(L)


def our_models() -> list[tuple[str, dict]]:
    """Every configuration of our LabelModel that the benchmark reports."""
    return [
        ("ours_symmetric", dict(model="symmetric")),
        ("ours_class_conditional", dict(model="class_conditional")),
        ("ours_default", {}),
    ]


class SnorkelLM(Method):
    """Snorkel 0.10 LabelModel, fit(L, seed=0); class_balance given only for the 'valid prior'
    variant (uniform prior otherwise, Snorkel's default)."""

    def __init__(self, name="snorkel", use_prior=False, **train_config):
        self.name = name
        self.use_prior = use_prior
        self.train_config = train_config

    def fit(self, L, k, class_balance=None):
        from snorkel.labeling.model import LabelModel

        if self.use_prior and class_balance is None:
            raise NotApplicable("no valid split with gold")
        self.model = LabelModel(cardinality=k, verbose=False)
        cb = class_balance if self.use_prior else None
        self.model.fit(
            np.asarray(L, dtype=np.int64),
            class_balance=cb,
            seed=0,
            progress_bar=False,
            **self.train_config,
        )
        return self

    def predict_proba(self, L):
        return self.model.predict_proba(np.asarray(L, dtype=np.int64))


class SnorkelMV(Method):
    """Snorkel's MajorityLabelVoter (pure-Python loop over rows x LFs)."""

    name = "snorkel_mv"

    def fit(self, L, k, class_balance=None):
        from snorkel.labeling.model import MajorityLabelVoter

        self.model = MajorityLabelVoter(cardinality=k, verbose=False)
        return self

    def predict_proba(self, L):
        return self.model.predict_proba(np.asarray(L, dtype=np.int64))


def to_flyingsquid(L: np.ndarray) -> np.ndarray:
    """-1 abstain / {0, 1}  ->  0 abstain / {-1, +1}."""
    L = np.asarray(L)
    return np.where(L < 0, 0, 2 * L.astype(np.int64) - 1)


class FlyingSquid(Method):
    """FlyingSquid LabelModel(m).fit(solve_method='triplet_mean'), binary only. predict_proba
    columns follow enumerate_ys() = [[-1], [+1]] = classes [0, 1]."""

    name = "flyingsquid"
    binary_only = True

    def fit(self, L, k, class_balance=None):
        from flyingsquid.label_model import LabelModel

        if k != 2:
            raise NotApplicable("binary only")
        m = L.shape[1]
        self.model = LabelModel(m)
        given = {} if class_balance is None else {"class_balance": np.asarray(class_balance, dtype=float)}
        self.model.fit(to_flyingsquid(L), solve_method="triplet_mean", verbose=False, **given)
        ys = [list(v) for v in self.model.enumerate_ys()]
        if ys != [[-1], [1]]:
            raise RuntimeError(f"unexpected FlyingSquid label order {ys}")
        return self

    def predict_proba(self, L):
        return np.asarray(self.model.predict_proba(to_flyingsquid(L)), dtype=np.float64)


class WithBalance(Method):
    """A method given a known class balance (k,) at every fit, named ``<its name>+balance``; it must
    take one (ours, Snorkel with ``use_prior=True``, FlyingSquid; its labels' order: classes 0, 1)."""

    def __init__(self, inner: Method, balance: np.ndarray):
        self.inner = inner
        self.balance = np.asarray(balance, dtype=np.float64)
        self.name = f"{inner.name}+balance"
        self.family = inner.family
        self.transductive = inner.transductive
        self.binary_only = inner.binary_only

    def fit(self, L, k, class_balance=None):
        self.inner.fit(L, k, class_balance=self.balance)
        return self

    def predict_proba(self, L):
        return self.inner.predict_proba(L)


def crowd_frame(L: np.ndarray):
    """Long (task, worker, label) DataFrame of the non-abstain votes of L, crowd-kit's input."""
    import pandas as pd

    L = np.asarray(L)
    rows, cols = np.nonzero(L >= 0)
    return pd.DataFrame({"task": rows, "worker": cols, "label": L[rows, cols].astype(np.int64)})


class CrowdKit(Method):
    """A crowd-kit 1.4.2 aggregator with default arguments, abstains dropped (= missing answers).
    Crowd-kit cannot score new rows, so this adapter is transductive: the runner fits it on the
    rows it must predict (train + eval stacked for train/test protocols) and predict_proba
    returns the posteriors of the last len(L) fitted rows. Rows with no answer get the uniform
    distribution.

    Wawa and ZeroBasedSkill crash in ``predict*`` with scikit-learn >= 1.6 (``check_is_fitted``
    asks for ``__sklearn_tags__``); their posteriors are read as ``MajorityVote().fit(df,
    skills=agg.skills_).probas_``, which is what their own ``_apply`` computes without the check."""

    transductive = True
    SKILL_WEIGHTED = ("Wawa", "ZeroBasedSkill")

    def __init__(self, name: str, aggregator: str, **kwargs):
        self.name = name
        self.aggregator = aggregator
        self.kwargs = kwargs

    def _probas(self, df):
        from crowdkit import aggregation

        agg = getattr(aggregation, self.aggregator)(**self.kwargs)
        if self.aggregator in self.SKILL_WEIGHTED:
            agg.fit(df)
            return aggregation.MajorityVote().fit(df, skills=agg.skills_).probas_
        return agg.fit(df).probas_

    def fit(self, L, k, class_balance=None):
        L = np.asarray(L)
        P = np.full((L.shape[0], k), 1.0 / k)
        df = crowd_frame(L)
        if len(df):
            probs = self._probas(df)
            idx = probs.index.to_numpy().astype(np.int64)
            cols_present = [int(c) for c in probs.columns]
            P[idx] = 0.0
            P[np.ix_(idx, cols_present)] = probs.to_numpy(dtype=np.float64)
            bad = ~np.isfinite(P[idx]).all(axis=1)
            P[idx[bad]] = 1.0 / k
        self.P = P
        self.n_fit = L.shape[0]
        return self

    def predict_proba(self, L):
        n = np.asarray(L).shape[0]
        return self.P[self.n_fit - n :]


class CrowdKitDS(CrowdKit):
    """crowd-kit DawidSkene (default n_iter); see CrowdKit."""

    def __init__(self):
        super().__init__("crowdkit_ds", "DawidSkene")


def _hyperlm_probs(model, L: np.ndarray, gold: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """``model.infer(L, return_probs=True)``; where its calibration fails, the probabilities before it.

    ``gold``: (row indices into ``L``, their labels) for hyperlm's semi-supervised inference
    (``infer(L, y_indices=, y_vals=)``, its ``HyperLMSemi``). HyperLMSemi takes k as the largest gold
    label + 1 (fewer columns where the gold rows lack the top class: the caller pads them).

    hyperlm 0.0.5's ``calibrate_probs`` rescales the entries above and below 1/k by the largest and
    smallest of them, and raises (``np.max`` of an empty array) where no entry lies on one side, e.g.
    where every row ties.  The rescaling keeps each row's order of classes, so the uncalibrated
    probabilities (``unsupervised_HyperLM.predict_prob``, rows summing to 1) predict the same classes;
    taking them scores the model where it would otherwise be recorded as a crash (17 of the 895
    real-LF subsets of ``run_subsets.py``, seeds 12-16)."""
    # arrays, not lists: HyperLMSemi compares y_vals with each class (a list compares False)
    kw = (
        {}
        if gold is None
        else {"y_indices": np.asarray(gold[0], np.int64), "y_vals": np.asarray(gold[1], np.int64)}
    )
    try:
        return model.infer(L, return_probs=True, **kw)
    except ValueError as exc:
        if "zero-size array" not in str(exc):
            raise
        if gold is None:
            return model.unsupervised_HyperLM.predict_prob(L)
        from hyperlm.hyper_label_model import HyperLMSemi

        return HyperLMSemi(L, kw["y_vals"], kw["y_indices"], model.device, model.checkpoint_path)


class HyperLM(Method):
    """Hyper Label Model (PyPI ``hyperlm`` 0.0.5, Wu et al., VLDB 2023):
    ``HyperLabelModel(device="cpu").infer(L, return_probs=True)``. It has no separate predict,
    so it is transductive like crowd-kit (fit on train + eval rows, read out the eval rows).

    Three fixes (``raw=True`` keeps the second one off, to show its effect):

    1. hyperlm sizes its output by the last row that has a vote, so trailing all-abstain rows
       were silently dropped. It is row-permutation equivariant, so the all-abstain rows are moved
       to the front and the permutation is undone afterwards.
    2. All-abstain rows get a constant, non-neutral score (class 1 on binary data); they are set
       to uniform, as every other method here gives them.
    3. Its calibration raises where no probability lies above (or below) 1/k; the probabilities
       before it, which rank the classes alike, are taken there (:func:`_hyperlm_probs`).

    hyperlm infers k as max(L) + 1, so missing top classes get probability-0 columns. Its
    checkpoint is a full pickle, which torch >= 2.6 loads only with
    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` (set here for this process)."""

    transductive = True

    def __init__(self, raw: bool = False):
        self.raw = raw
        self.name = "hyperlm_raw" if raw else "hyperlm"

    def fit(self, L, k, class_balance=None, gold=None):
        """``gold``: optional (row indices into ``L``, labels) for hyperlm's semi-supervised inference."""
        os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
        from hyperlm import HyperLabelModel

        L = np.asarray(L, dtype=np.int64)
        n = L.shape[0]
        voted = (L >= 0).any(axis=1)
        P = np.full((n, k), 1.0 / k)
        if voted.any():
            order = np.argsort(voted, kind="stable")  # all-abstain rows first
            if gold is not None:  # the gold rows' indices in the reordered matrix
                where = np.empty(n, dtype=np.int64)
                where[order] = np.arange(n)
                gold = (where[np.asarray(gold[0])], np.asarray(gold[1]))
            model = HyperLabelModel(device="cpu")
            out = np.asarray(_hyperlm_probs(model, L[order], gold), dtype=np.float64)
            if out.ndim != 2 or out.shape[0] != n or out.shape[1] > k:
                raise RuntimeError(f"hyperlm returned shape {out.shape} for {n} rows, k = {k}")
            P[order] = 0.0
            P[order, : out.shape[1]] = out
            if not self.raw:
                P[~voted] = 1.0 / k
        self.P = P
        self.n_fit = n
        return self

    def predict_proba(self, L):
        n = np.asarray(L).shape[0]
        return self.P[self.n_fit - n :]


def synthetic_binary(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Binary label matrix: balanced Y; each LF votes with prob 0.5 and, when it votes, is
    correct with its own accuracy drawn from U(0.55, 0.9). Returns (L int8 (n, m), y)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n, dtype=np.int8)
    acc = rng.uniform(0.55, 0.9, m)
    L = np.empty((n, m), dtype=np.int8)
    for j in range(m):  # column by column keeps the temporaries at O(n)
        votes = rng.random(n) < 0.5
        correct = rng.random(n) < acc[j]
        L[:, j] = np.where(votes, np.where(correct, y, 1 - y), -1)
    return L, y


def warm_up(methods, k: int = 2) -> None:
    """One untimed tiny fit per method, so that imports and first-call costs (torch, pandas)
    are not charged to the first dataset."""
    L, _ = synthetic_binary(500, 6, seed=123)
    if k != 2:
        L = np.where(L >= 0, L % k, -1).astype(np.int8)
    for method in methods:
        try:
            method.fit(L, k).predict_proba(L)
        except Exception:
            pass


def time_call(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


# -- command line shared by the runners ---------------------------------------------


def add_runner_args(ap: argparse.ArgumentParser) -> None:
    """Options every runner takes: methods, output folder, threads, code revision, re-render."""
    ap.add_argument("--methods", nargs="*", help="subset of method names")
    ap.add_argument("--out", default=str(RESULTS), help="results folder")
    ap.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP/torch threads (default 1)")
    ap.add_argument(
        "--ours-rev",
        help="benchmark tripletws as committed at this git revision (e.g. HEAD) instead of "
        "the editable working tree",
    )
    ap.add_argument("--render", metavar="JSON", help="only re-render the markdown from a results json")
    ap.add_argument(
        "--update",
        metavar="JSON",
        help="rerun only --methods and replace their results in this results json (the other "
        "methods' results are kept; the header says which columns were rerun, when and at which "
        "revision); writes the json and its markdown in place",
    )


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def merge_results(old: dict, new: dict) -> dict:
    """Replace the rerun methods' results of ``new`` in ``old``, dataset by dataset.

    Every dataset of ``new`` must be in ``old`` (a rerun never adds rows the other columns lack);
    the header's ``ours`` line records the rerun.
    """
    missing = sorted(set(new["datasets"]) - set(old["datasets"]))
    if missing:
        raise SystemExit(f"--update: datasets {missing} are not in the results being updated")
    rerun = new["meta"]["methods"]
    for name, row in new["datasets"].items():
        old["datasets"][name]["results"].update({m: row["results"][m] for m in rerun})
    for m in rerun:
        if m not in old["meta"]["methods"]:
            old["meta"]["methods"].append(m)
    sets = "all sets" if len(new["datasets"]) == len(old["datasets"]) else ", ".join(new["datasets"])
    old["meta"]["ours"] += (
        f"; columns {', '.join(rerun)} rerun on {new['meta']['date']} ({sets}) at {new['meta']['ours']}"
    )
    return old


def run_main(args: argparse.Namespace, name: str, to_markdown, run_fn) -> int:
    """Re-render (``--render``) or run ``run_fn()`` and write ``<out>/<name>.{json,md}``."""
    if args.render:
        res = json.loads(Path(args.render).read_text())
        atomic_write(Path(args.render).with_suffix(".md"), to_markdown(res))
        return 0
    if args.update and not args.methods:
        raise SystemExit("--update needs --methods: the columns to rerun")
    if args.ours_rev:
        print(use_ours_revision(args.ours_rev))
    threads = limit_threads(args.threads)
    res = run_fn()
    res["meta"]["threads"] = threads
    if args.update:
        path = Path(args.update)
        res = merge_results(json.loads(path.read_text()), res)
        atomic_write(path, json.dumps(res, indent=1))
        atomic_write(path.with_suffix(".md"), to_markdown(res))
        print(f"updated {path} and {path.with_suffix('.md')}")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / f"{name}.json", json.dumps(res, indent=1))
    atomic_write(out / f"{name}.md", to_markdown(res))
    print(f"wrote {out / (name + '.md')} and {out / (name + '.json')}")
    return 0
