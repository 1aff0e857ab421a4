"""Synthetic label matrices with known parameters, and loaders for real ones.

* :func:`make_synthetic` draws ``(L, y)`` from a conditionally independent model
  with known accuracies, coverage, class balance, optional unipolar LFs (vote one
  class or abstain) and class-dependent abstention.
* :func:`add_dependent_lf` appends an LF that copies another LF's votes part of
  the time (a planted dependency with known accuracy).
* :func:`make_synthetic_sequences` draws frame sequences whose labels follow a
  Markov chain ("stay with probability rho, else redraw from the class balance").
* :func:`load_dataset` reads a folder of ``<split>.npz`` files (arrays ``L``, ``y``)
  such as the project's shared benchmark data; :func:`load_wrench_split` reads
  WRENCH's JSON layout.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .matrix import check_cardinality, check_label_matrix, check_labels
from .params import LabelModelParams


@dataclass(frozen=True)
class SyntheticData:
    """A synthetic label matrix and the truth it was drawn from.

    Attributes
    ----------
    L : ndarray of int8, shape (n, m)
    y : ndarray of int64, shape (n,)
    class_balance : ndarray, shape (k,)
    cond_probs : ndarray, shape (m, k + 1, k)
        ``P(lambda_i = a - 1 | Y = y)``, a = 0 abstain.
    polarity : ndarray of int, shape (m,)
        Target class of a unipolar LF, -1 for LFs that vote any class.
    """

    L: np.ndarray
    y: np.ndarray
    class_balance: np.ndarray
    cond_probs: np.ndarray
    polarity: np.ndarray

    @property
    def params(self) -> LabelModelParams:
        return LabelModelParams(self.class_balance, self.cond_probs)

    @property
    def accuracies(self) -> np.ndarray:
        """True ``P(LF right | LF votes)``, shape (m,)."""
        return self.params.accuracies

    @property
    def coverage(self) -> np.ndarray:
        """True ``P(LF votes)``, shape (m,)."""
        return self.params.coverage


def _per_lf(value: Any, m: int, name: str, lo: float, hi: float) -> np.ndarray:
    given = np.asarray(value, dtype=np.float64)
    if given.ndim > 1 or (given.ndim == 1 and given.shape[0] not in (1, m)):
        raise ValueError(f"{name} must be one number or {m} (one per LF), got shape {given.shape}")
    arr = np.broadcast_to(given, (m,)).copy()
    if not np.all((arr >= lo) & (arr <= hi)):
        raise ValueError(f"{name} must lie in [{lo}, {hi}], got {arr.tolist()}")
    return arr


def synthetic_cond_probs(
    m: int,
    k: int,
    accuracies: np.ndarray,
    coverage: np.ndarray,
    class_balance: np.ndarray,
    polarity: np.ndarray,
    class_coverage: np.ndarray | None = None,
) -> np.ndarray:
    """Conditional vote table (m, k + 1, k) for :func:`make_synthetic`."""
    cp = np.zeros((m, k + 1, k))
    cov_y = np.broadcast_to(coverage[:, None], (m, k)) if class_coverage is None else class_coverage
    idx = np.arange(k)
    for i in range(m):
        c = polarity[i]
        if c < 0:
            wrong = cov_y[i] * (1 - accuracies[i]) / (k - 1)
            cp[i, 1:, :] = wrong[None, :]
            cp[i, idx + 1, idx] = cov_y[i] * accuracies[i]
        else:
            # votes only class c: P(Y = c | votes) = accuracy, P(votes) = coverage
            pc = class_balance[c]
            with np.errstate(divide="ignore"):  # an accuracy of 0 or 1 leaves that cap at inf
                a = np.float64(accuracies[i])
                caps = (0.95 * pc / a, 0.95 * (1 - pc) / (1 - a))
            cov = min(coverage[i], *caps)
            cp[i, c + 1, :] = cov * (1 - accuracies[i]) / (1 - pc)
            cp[i, c + 1, c] = cov * accuracies[i] / pc
        cp[i, 0, :] = 1.0 - cp[i, 1:, :].sum(axis=0)
    return cp


def sample_votes(
    y: np.ndarray, cond_probs: np.ndarray, rng: np.random.Generator, chunk: int = 1 << 16
) -> np.ndarray:
    """Draw L (n, m) given labels y and the table cond_probs (m, k + 1, k)."""
    m, _, k = cond_probs.shape
    cum = np.cumsum(cond_probs, axis=1)[:, :-1, :].astype(np.float32)  # (m, k, k)
    L = np.empty((len(y), m), dtype=np.int8 if k < 127 else np.int16)
    for s in range(0, len(y), chunk):
        yc = y[s : s + chunk]
        u = rng.random((len(yc), m), dtype=np.float32)
        idx = np.zeros(u.shape, dtype=np.int16)
        for a in range(k):
            idx += u > cum[:, a, :].T[yc]
        L[s : s + chunk] = idx - 1
    return L


def make_synthetic(
    n: int = 10_000,
    m: int = 10,
    k: int = 2,
    *,
    accuracies: Any = None,
    coverage: Any = 0.5,
    class_balance: Any = None,
    unipolar: float | bool = 0.0,
    class_coverage: Any = None,
    random_state: Any = None,
) -> SyntheticData:
    """Draw a label matrix from a conditionally independent model with known truth.

    Parameters
    ----------
    n, m, k : int
        Rows, labeling functions, classes.
    accuracies : float or array (m,), optional
        ``P(LF right | LF votes)``; default drawn uniformly from [0.6, 0.9].
    coverage : float or array (m,)
        ``P(LF votes)`` (class-independent unless ``class_coverage`` is given).
    class_balance : array (k,), optional
        ``P(Y)``; default uniform.
    unipolar : float or bool
        Fraction of LFs (or all, if True) that vote a single class or abstain (the count rounded
        half to even, as Python's ``round``: 0.25 of 10 LFs is 2).
        LF i's class is ``i % k``; its coverage is capped so that its per-class
        vote rates stay below 0.95.
    class_coverage : array (m, k), optional
        ``P(LF votes | Y = y)`` for class-dependent abstention (non-unipolar LFs).
    random_state : int or numpy Generator, optional

    Returns
    -------
    SyntheticData
    """
    rng = np.random.default_rng(random_state)
    if n < 1 or m < 1 or k < 2:
        raise ValueError(f"need n >= 1, m >= 1, k >= 2; got n={n}, m={m}, k={k}")
    if accuracies is None:
        accuracies = rng.uniform(0.6, 0.9, size=m)
    acc = _per_lf(accuracies, m, "accuracies", 0.0, 1.0)
    cov = _per_lf(coverage, m, "coverage", 0.0, 1.0)
    p = np.full(k, 1.0 / k) if class_balance is None else np.asarray(class_balance, float)
    if p.shape != (k,) or (p <= 0).any() or abs(p.sum() - 1) > 1e-9:
        raise ValueError(f"class_balance must be {k} positive probabilities summing to 1")
    if not isinstance(unipolar, (bool, np.bool_)) and not 0.0 <= float(unipolar) <= 1.0:
        raise ValueError(f"unipolar must be True, False or a fraction of the LFs in [0, 1], got {unipolar!r}")
    n_uni = m if unipolar is True else round(float(unipolar) * m)  # Python's rounding: 0.25 of 10 LFs is 2
    polarity = np.full(m, -1)
    polarity[:n_uni] = np.arange(n_uni) % k
    cc = None
    if class_coverage is not None:
        cc = np.asarray(class_coverage, dtype=np.float64)
        if cc.shape != (m, k) or (cc < 0).any() or (cc > 1).any():
            raise ValueError(f"class_coverage must be an (m, k) = ({m}, {k}) array in [0, 1]")
    cp = synthetic_cond_probs(m, k, acc, cov, p, polarity, cc)
    y = rng.choice(k, size=n, p=p)
    L = sample_votes(y, cp, rng)
    return SyntheticData(L=L, y=y.astype(np.int64), class_balance=p, cond_probs=cp, polarity=polarity)


@dataclass(frozen=True)
class SyntheticSequences(SyntheticData):
    """Synthetic frames of sequences with Markov-chain labels.

    Attributes (besides :class:`SyntheticData`'s)
    ----------
    sequence_ids : ndarray of int64, shape (n,)
        Sequence of each row; rows of a sequence are contiguous and in frame order.
    persistence : float
        rho: the label stays with probability rho, else it is redrawn from the class balance.
    """

    sequence_ids: np.ndarray
    persistence: float

    @property
    def transition(self) -> np.ndarray:
        """``P(Y_{t+1} = b | Y_t = a)``, shape (k, k)."""
        p = self.class_balance
        return self.persistence * np.eye(len(p)) + (1.0 - self.persistence) * p[None, :]

    @property
    def tau(self) -> float:
        """``(k P(Y_{t+1} = Y_t) - 1) / (k - 1)`` (``E[Y_t Y_{t+1}]`` in +-1 coding for k = 2)."""
        p, k = self.class_balance, len(self.class_balance)
        same = self.persistence + (1.0 - self.persistence) * float(np.sum(p**2))
        return (k * same - 1.0) / (k - 1.0)


# Over 60 lines: a generator whose steps (ids, Markov labels, votes, result) share many local arrays;
# split, each piece would take most of them as arguments.
def make_synthetic_sequences(
    n_sequences: int = 100,
    length: Any = 100,
    m: int = 6,
    k: int = 2,
    *,
    persistence: float = 0.9,
    accuracies: Any = None,
    coverage: Any = 0.5,
    class_balance: Any = None,
    unipolar: float | bool = 0.0,
    random_state: Any = None,
) -> SyntheticSequences:
    """Frames of sequences whose labels form a Markov chain, with LF votes per frame.

    Each sequence's first label is drawn from the class balance p; from frame to
    frame the label stays with probability ``persistence`` and is otherwise redrawn
    from p (so p is stationary).  Votes are drawn per frame from the same
    conditional table as :func:`make_synthetic` (independent across LFs and
    frames given the labels).

    Parameters
    ----------
    n_sequences : int
    length : int or (int, int)
        Frames per sequence, or an inclusive range to draw each length from.
    m, k : int
        LFs and classes.
    persistence : float in [0, 1]
    accuracies, coverage, class_balance, unipolar
        As in :func:`make_synthetic`.
    random_state : int or numpy Generator, optional

    Returns
    -------
    SyntheticSequences
    """
    rng = np.random.default_rng(random_state)
    if not 0.0 <= persistence <= 1.0:
        raise ValueError(f"persistence must lie in [0, 1], got {persistence}")
    if n_sequences < 1:
        raise ValueError(f"n_sequences must be >= 1, got {n_sequences}")
    if np.ndim(length) == 0:
        lengths = np.full(n_sequences, int(length))
    else:
        lo, hi = (int(v) for v in length)
        if lo < 1 or hi < lo:
            raise ValueError(f"length range must satisfy 1 <= lo <= hi, got {length}")
        lengths = rng.integers(lo, hi + 1, size=n_sequences)
    if (lengths < 1).any():
        raise ValueError(f"sequence length must be >= 1, got {length}")
    n = int(lengths.sum())
    base = make_synthetic(
        n=n,
        m=m,
        k=k,
        accuracies=accuracies,
        coverage=coverage,
        class_balance=class_balance,
        unipolar=unipolar,
        random_state=rng,
    )
    p = base.class_balance
    seq = np.repeat(np.arange(n_sequences), lengths)
    starts = np.zeros(n, dtype=bool)
    starts[np.concatenate([[0], np.cumsum(lengths)[:-1]])] = True
    redraw = starts | (rng.random(n) >= persistence)
    fresh = rng.choice(k, size=n, p=p)
    last = np.maximum.accumulate(np.where(redraw, np.arange(n), 0))
    y = fresh[last].astype(np.int64)
    L = sample_votes(y, base.cond_probs, rng)
    return SyntheticSequences(
        L=L,
        y=y,
        class_balance=p,
        cond_probs=base.cond_probs,
        polarity=base.polarity,
        sequence_ids=seq.astype(np.int64),
        persistence=float(persistence),
    )


def add_dependent_lf(
    data: SyntheticData,
    source: int,
    *,
    share: float = 0.8,
    accuracy: float = 0.7,
    random_state: Any = None,
) -> SyntheticData:
    """Append an LF that depends on LF ``source`` beyond the class.

    The new LF (column ``m``) votes exactly where ``source`` votes.  With
    probability ``share`` it copies the source's vote (right or wrong: the two
    share those errors); otherwise it votes on its own, right with probability
    ``accuracy`` and else a uniformly drawn wrong class.  ``share=1`` is an exact
    duplicate.  Its true accuracy is ``share * alpha_source + (1 - share) * accuracy``
    (``SyntheticData.accuracies`` of the result includes it).

    Parameters
    ----------
    data : SyntheticData
    source : int
        Column to depend on.
    share : float in [0, 1]
    accuracy : float in [0, 1]
    random_state : int or numpy Generator, optional

    Returns
    -------
    SyntheticData
        With ``L`` of shape (n, m + 1) and the new LF's marginal table appended.
    """
    m = data.L.shape[1]
    if not 0 <= source < m:
        raise ValueError(f"source LF {source} is out of range 0..{m - 1}")
    if not (0.0 <= share <= 1.0 and 0.0 <= accuracy <= 1.0):
        raise ValueError(f"share and accuracy must lie in [0, 1], got {share}, {accuracy}")
    rng = np.random.default_rng(random_state)
    k = data.cond_probs.shape[2]
    src = data.L[:, source].astype(np.int64)
    votes = src >= 0
    own = np.where(rng.random(len(src)) < accuracy, data.y, -1)
    wrong = (data.y + rng.integers(1, k, size=len(src))) % k
    own = np.where(own >= 0, own, wrong)
    new = np.where(rng.random(len(src)) < share, src, own)
    new = np.where(votes, new, -1).astype(data.L.dtype)
    cp_src = data.cond_probs[source]
    vote_y = 1.0 - cp_src[0]  # P(source votes | y), shape (k,)
    eye = np.eye(k)
    own_tab = vote_y[None, :] * (accuracy * eye + (1.0 - accuracy) / (k - 1) * (1.0 - eye))
    cp_new = np.empty((k + 1, k))
    cp_new[0] = cp_src[0]
    cp_new[1:] = share * cp_src[1:] + (1.0 - share) * own_tab
    return SyntheticData(
        L=np.hstack([data.L, new[:, None]]),
        y=data.y,
        class_balance=data.class_balance,
        cond_probs=np.concatenate([data.cond_probs, cp_new[None]], axis=0),
        polarity=np.append(data.polarity, -1),
    )


# ----------------------------------------------------------------------------
# Real data
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Split:
    """One split of a dataset: votes, gold (-1 = none) and any extra arrays."""

    L: np.ndarray
    y: np.ndarray
    n_class: int
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    # WRENCH-style names
    @property
    def weak_labels(self) -> np.ndarray:
        return self.L

    @property
    def labels(self) -> np.ndarray:
        return self.y

    @property
    def has_gold(self) -> bool:
        return bool((self.y >= 0).any())


@dataclass(frozen=True)
class Dataset:
    """A named dataset: its splits, classes and the split to evaluate on."""

    name: str
    n_class: int
    splits: dict[str, Split]
    eval_split: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, split: str) -> Split:
        try:
            return self.splits[split]
        except KeyError:
            raise KeyError(f"{self.name} has no split {split!r}; it has {sorted(self.splits)}") from None

    @property
    def fit_split(self) -> str:
        """The split to fit on: ``train`` if present, else ``all``."""
        return "train" if "train" in self.splits else next(iter(self.splits))


DATA_ENV = "TRIPLETWS_DATA"


def data_home(path: str | Path | None = None) -> Path:
    """Resolve the data folder: ``path``, else ``$TRIPLETWS_DATA``."""
    if path is None:
        env = os.environ.get(DATA_ENV)
        if not env:
            raise ValueError(f"no data folder given and ${DATA_ENV} is not set")
        path = env
    p = Path(path)
    if not p.is_dir():
        raise ValueError(f"data folder {p} does not exist")
    return p


def load_dataset(name: str, data_home_path: str | Path | None = None) -> Dataset:
    """Load ``<data_home>/<name>/<split>.npz`` files (arrays ``L``, ``y``, extras).

    ``<data_home>/index.json``, when present, gives k and the evaluation split (which must be one
    of the files).  Every split is validated: ``L`` a 2-D integer matrix of votes in -1..k-1, ``y``
    one label per row in -1..k-1 (-1: no gold), the same LFs in every split, every other array a
    scalar or one entry per row (ids, sequence ids); anything else is a ValueError naming the file.
    A split may have no rows.
    """
    home = data_home(data_home_path)
    folder = home / name
    files = sorted(f for f in folder.glob("*") if f.suffix.lower() == ".npz" and f.is_file())
    if not files:
        raise ValueError(f"no .npz splits in {folder}")
    stems = [f.stem for f in files]
    if len(set(stems)) < len(stems):
        raise ValueError(f"{folder}: two files hold split {sorted({s for s in stems if stems.count(s) > 1})}")
    info = _index_entry(home / "index.json", name)
    order = {"train": 0, "valid": 1, "test": 2, "all": 3}
    files.sort(key=lambda f: order.get(f.stem, 9))
    raw = {}
    for f in files:
        try:
            with np.load(f, allow_pickle=False) as z:
                raw[f.stem] = {key: z[key] for key in z.files}
        except Exception as exc:  # a damaged archive, or object arrays (pickle is never allowed)
            raise ValueError(f"{f}: not a readable .npz archive of plain arrays ({exc})") from exc
        if "L" not in raw[f.stem]:
            raise ValueError(f"{f} has no array 'L' (arrays: {', '.join(raw[f.stem]) or 'none'})")
    if info.get("k") is not None:
        k = check_cardinality(info["k"])
    else:  # the largest vote or gold label of any split (validated below)
        tops = [_largest(f, a) for f, a in zip(files, raw.values(), strict=True)]
        k = max(2, 1 + max(tops))
    splits = {}
    m = None
    for f, (split, arrays) in zip(files, raw.items(), strict=True):
        L = arrays.pop("L")
        try:
            lm = check_label_matrix(L, k, name="L", scan=True, allow_empty=True)
            y = arrays.pop("y", np.full(L.shape[0], -1, dtype=np.int8))
            y = check_labels(y, lm.n, k, name="y") if lm.n or np.size(y) else np.zeros(0, dtype=np.int64)
        except ValueError as exc:
            raise ValueError(f"{f}: {exc}") from exc
        for key, extra in arrays.items():  # per-row arrays (ids, text): one entry per row of L
            if np.ndim(extra) >= 1 and len(extra) != lm.n:
                raise ValueError(f"{f}: array {key!r} has {len(extra)} entries but L has {lm.n} rows")
        if m is not None and lm.m != m:
            raise ValueError(f"{f}: L has {lm.m} LFs (columns) but the other splits have {m}")
        m = lm.m
        splits[split] = Split(L=L, y=y.astype(np.int64), n_class=k, extra=arrays)
    eval_split = info.get("eval_split")
    if eval_split is not None and eval_split not in splits:
        raise ValueError(
            f"{home / 'index.json'}: {name!r} evaluates on split {eval_split!r}, which {folder} does not "
            f"hold (splits: {', '.join(splits)})"
        )
    return Dataset(name=name, n_class=k, splits=splits, eval_split=eval_split, info=info)


def _index_entry(index: Path, name: str) -> dict[str, Any]:
    """The dataset's entry of ``index.json`` ({} without one), checked to be an object."""
    if not index.exists():
        return {}
    try:
        record = json.loads(index.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{index}: not readable JSON ({exc})") from exc
    if not isinstance(record, dict):
        raise ValueError(f"{index}: expected an object mapping dataset names to their settings")
    entry = record.get(name, {})
    if not isinstance(entry, dict):
        raise ValueError(f"{index}: the entry of {name!r} is not an object")
    if entry.get("k") is not None:
        try:
            check_cardinality(entry["k"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{index}: {name!r} has k = {entry['k']!r} ({exc})") from exc
    return entry


def _largest(path: Path, arrays: dict[str, np.ndarray]) -> int:
    """The largest vote or gold label in a split's arrays (for inferring k), checked to be numbers."""
    top = -1
    for key in ("L", "y"):
        a = arrays.get(key)
        if a is None or a.size == 0:
            continue
        if a.dtype.kind not in "iuf" or (a.dtype.kind == "f" and not np.isfinite(a).all()):
            raise ValueError(f"{path}: array {key!r} must hold integers, got dtype {a.dtype}")
        top = max(top, int(np.floor(a.max())))
    return top


def list_datasets(data_home_path: str | Path | None = None) -> list[str]:
    """Names of the dataset folders under the data home."""
    home = data_home(data_home_path)
    return sorted(p.name for p in home.iterdir() if p.is_dir() and any(p.glob("*.npz")))


def load_wrench_split(path: str | Path, n_class: int | None = None) -> Split:
    """Read a WRENCH ``<split>.json`` ({id: {"label", "weak_labels", "data"}}).

    Every example needs a flat list of integer votes in -1..k-1, all of the same length, and a label
    in -1..k-1 (``null`` or missing: -1, no gold); k is ``n_class`` or inferred from the largest vote
    or label.  Anything else is a ValueError naming the file and the example.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{path}: expected a non-empty JSON object of examples")
    ids = list(raw)
    rows, labels = [], []
    for i in ids:
        example = raw[i]
        if not isinstance(example, dict) or "weak_labels" not in example:
            raise ValueError(f"{path}: example {i!r} is not in WRENCH layout (no 'weak_labels')")
        votes = example["weak_labels"]
        if not isinstance(votes, list) or not all(_whole(v) for v in votes):
            raise ValueError(
                f"{path}: example {i!r} has weak_labels {str(votes)[:60]}; expected a list of integers"
            )
        label = example.get("label")
        if label is None:
            label = -1
        if not _whole(label):
            raise ValueError(f"{path}: example {i!r} has label {label!r}; expected an integer (or null)")
        rows.append(votes)
        labels.append(int(label))
    widths = {len(r) for r in rows}
    if len(widths) != 1 or 0 in widths:
        raise ValueError(
            f"{path}: the examples have {sorted(widths)[:5]} weak labels; expected one count above 0"
        )
    L = np.array(rows, dtype=np.int64)
    y = np.array(labels, dtype=np.int64)
    k = max(2, int(max(L.max(), y.max())) + 1) if n_class is None else check_cardinality(n_class)
    try:
        lm = check_label_matrix(L, k, name="weak_labels", scan=True)
        check_labels(y, lm.n, k, name="label")
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc
    small = L.astype(np.int16) if k <= np.iinfo(np.int16).max else L
    return Split(L=small, y=y, n_class=k, extra={"ids": np.array(ids)})


def _whole(value: Any) -> bool:
    """A whole-number JSON value (1 or 1.0; not a bool, not 0.7, not a string)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
