"""Shared estimator surface: parameters (scikit-learn style), predict and score."""

from __future__ import annotations

import functools
import inspect
import logging
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .hints import flyingsquid_argument_error, flyingsquid_attribute_message
from .io import load_model, register_class, save_model
from .lf_names import check_fitted_names
from .matrix import (
    check_cardinality,
    check_label_matrix,
    check_labels,
    check_same_rows,
    hint_flyingsquid_labels,
    voted_rows,
)
from .metrics import check_metric_names, reads_probabilities
from .metrics import score as _score
from .predictions import probs_to_preds
from .settings import check_random_state

logger = logging.getLogger("tripletws")


class NotFittedError(RuntimeError, ValueError, AttributeError):
    """A fitted attribute or method was used before ``fit`` (``hasattr`` sees no attribute).

    A ``ValueError`` and an ``AttributeError``, as scikit-learn's ``NotFittedError`` is (so code that
    catches those for scikit-learn's catches this one too), and a ``RuntimeError`` as it was first.
    """


class _class_or_instance:
    """A method called on the class or on an instance: ``func(cls, instance or None, ...)``."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        params = list(inspect.signature(func).parameters.values())[2:]  # without cls and the instance
        self.signature = inspect.Signature(params)
        self.name = func.__name__
        functools.update_wrapper(self, func)  # type: ignore[arg-type]

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, cls: type | None = None) -> _Bound:
        return _Bound(self, type(obj) if cls is None else cls, obj)


class _Bound:
    """:class:`_class_or_instance`'s method bound to a class or an instance (pickled by name, as a
    classmethod or a bound method is)."""

    def __init__(self, method: _class_or_instance, owner: type, obj: Any) -> None:
        self._method, self._owner, self._obj = method, owner, obj
        self.__doc__ = method.func.__doc__
        self.__name__ = method.name
        self.__qualname__ = f"{owner.__qualname__}.{method.name}"
        self.__signature__ = method.signature

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._method.func(self._owner, self._obj, *args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return getattr, (self._owner if self._obj is None else self._obj, self._method.name)

    def __repr__(self) -> str:
        target = self._owner.__name__ if self._obj is None else f"{self._owner.__name__} instance"
        return f"<method {self.__name__} of {target}>"


def _path_argument(method: str, path: Any, alias: str, value: Any) -> Any:
    """The file of ``save`` / ``load``: ``path``, or Snorkel's name for it (``destination`` /
    ``source``); one of them, not both."""
    if value is None:
        if path is None:
            raise TypeError(f"{method}() missing its file: {method}(path) (Snorkel's {alias}= works too)")
        return path
    if path is not None:
        raise TypeError(f"{method}() got both path and {alias} (Snorkel's name for path); give one")
    return value


#: Longest repr of one parameter value in a model's repr (longer ones keep their start and end).
REPR_VALUE_CHARS = 120


def _short_repr(value: Any) -> str:
    """``repr(value)`` on one line, at most :data:`REPR_VALUE_CHARS` characters."""
    text = " ".join(repr(value).split()) if isinstance(value, np.ndarray) else repr(value)
    if len(text) <= REPR_VALUE_CHARS:
        return text
    tail = REPR_VALUE_CHARS // 4
    return f"{text[: REPR_VALUE_CHARS - tail - 3]}...{text[-tail:]}"


class BaseLabeler:
    """Base class: ``get_params``/``set_params`` (so ``sklearn.clone`` works),
    ``predict`` and ``score`` on top of a subclass's ``predict_proba``, and JSON
    ``save``/``load`` on top of its ``_get_state``/``_set_state``.  Every subclass
    registers itself with :mod:`tripletws.io` under its class name, so model files
    can name it without ``io`` importing any model."""

    #: Frames between a public ``score`` and :meth:`score` (a subclass's ``score`` that calls it: 1),
    #: so that its warnings name the user's line.
    _score_frames = 0

    cardinality: int
    random_state: Any = None
    #: Attribute that exists once the model is fitted (None: nothing to fit).
    _fitted_attr: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register_class(cls)

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        """Refuse FlyingSquid's constructor arguments (``v``, ``lambda_edges``, ...) with what to use
        instead, before ``__init__`` raises Python's bare TypeError for them."""
        error = flyingsquid_argument_error(f"{cls.__name__}()", list(kwargs), skip=cls._param_names())
        if error is not None:
            raise error
        return super().__new__(cls)

    def __getattr__(self, name: str) -> Any:
        """Only reached for a missing attribute: FlyingSquid's method names say what to use instead."""
        raise AttributeError(flyingsquid_attribute_message(type(self).__name__, name))

    def _check_fitted(self) -> None:
        if self._fitted_attr is not None and not hasattr(self, self._fitted_attr):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet; call fit first")

    def __sklearn_is_fitted__(self) -> bool:
        """Whether :meth:`fit` has run (read by scikit-learn's ``check_is_fitted``)."""
        return self._fitted_attr is None or hasattr(self, self._fitted_attr)

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's estimator tags (1.6 and later; read by its utilities, which import it):
        no estimator type, no target required."""
        try:
            from sklearn.utils import Tags, TargetTags
        except ImportError as exc:  # an older scikit-learn reads no tags from here
            raise AttributeError("__sklearn_tags__ needs scikit-learn >= 1.6") from exc
        return Tags(estimator_type=None, target_tags=TargetTags(required=False))

    def save(self, path: str | Path | None = None, *, destination: str | Path | None = None) -> None:
        """Write a versioned JSON model file (no pickle).

        Parameters
        ----------
        path : str or Path
            Where to write it.
        destination : str or Path, optional
            Snorkel's name for ``path`` (``save(destination=...)``).
        """
        save_model(self, _path_argument("save", path, "destination", destination))

    @_class_or_instance
    def load(
        cls, self: BaseLabeler | None, path: str | Path | None = None, *, source: str | Path | None = None
    ):
        """Read a model written by :meth:`save`; the file is validated, never executed.

        ``LabelModel.load(path)`` returns a new model; ``model.load(path)`` (Snorkel's way) fills
        ``model`` in place and returns it.  ``source`` is Snorkel's name for ``path``
        (``load(source=...)``).
        """
        model = load_model(_path_argument("load", path, "source", source))
        if not isinstance(model, cls):
            raise ValueError(f"{path} holds a {type(model).__name__}, not a {cls.__name__}")
        if self is None:
            return model
        # one swap of the attribute dict: another thread reading the model (predict_proba takes a copy of
        # it) sees the model before or after the load, never an emptied one between a clear and an update
        self.__dict__ = dict(model.__dict__)
        return self

    def _get_state(self) -> dict[str, Any] | None:
        """The fitted state as a JSON-ready object (None: nothing fitted, or nothing to fit)."""
        return None

    def _set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`_get_state` output, validating every field (ValueError naming it)."""
        raise ValueError(f"{type(self).__name__} has no fitted state; expected null")

    def _check_params(self) -> None:
        """Validate the constructor parameters (run when a model file is loaded)."""
        check_cardinality(self.cardinality)
        check_random_state(self.random_state, saved=True)

    @classmethod
    def _param_names(cls) -> tuple[str, ...]:
        # read from the signature once per class (inspect.signature costs about 0.1 ms a fit)
        names = cls.__dict__.get("_param_names_cache")
        if names is None:
            sig = inspect.signature(cls.__init__)
            names = tuple(
                p.name
                for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            )
            cls._param_names_cache = names
        return names

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters, as scikit-learn's ``BaseEstimator``."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> BaseLabeler:
        valid = set(self._param_names())
        for key, value in params.items():
            if key not in valid:
                error = flyingsquid_argument_error("set_params()", [key])
                said = "" if error is None else f" ({str(error).split(': ', 1)[1]})"
                raise ValueError(f"invalid parameter {key!r} for {type(self).__name__}{said}")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        """``Class(param=value, ...)``, each value's repr cut to :data:`REPR_VALUE_CHARS` characters (its
        start and end kept around ``...``), as scikit-learn cuts long reprs: a model with thousands of
        declared edges or classes still prints as one readable line."""
        args = ", ".join(f"{k}={_short_repr(v)}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- prediction --------------------------------------------------------

    def predict_proba(self, L: Any) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(
        self,
        L: Any,
        return_probs: bool = False,
        tie_break_policy: str = "abstain",
        **context: Any,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Most likely class per row, shape (n,); -1 for ties under ``"abstain"``.

        Parameters
        ----------
        L : label matrix, shape (n, m)
        return_probs : bool
            Also return ``predict_proba(L)``.
        tie_break_policy : {"abstain", "random", "true-random"}
        **context
            Keyword arguments of the model's ``predict_proba`` (e.g. ``sequence_ids``).
        """
        if tie_break_policy == "true-random":
            check_random_state(self.random_state)  # a clear error, before numpy's own
        probs = self.predict_proba(L, **context)
        preds = probs_to_preds(probs, tie_break_policy, random_state=self.random_state)
        return (preds, probs) if return_probs else preds

    def score(
        self,
        L: Any,
        Y: Any,
        metrics: Sequence[str] | None = ("accuracy",),
        tie_break_policy: str = "abstain",
        voted_only: bool = False,
        **context: Any,
    ) -> dict[str, float]:
        """Metrics of the predictions on ``L`` against gold ``Y`` (-1 = unknown).

        As in Snorkel, label metrics skip rows where the prediction abstains
        (see ``coverage``); ``brier`` and ``log_loss`` use all gold rows.

        Rows on which every LF abstained get the prior's most likely class; a
        warning says how many gold rows had no vote.  ``voted_only=True`` scores
        only the rows with at least one vote (Snorkel's choice); the metric
        ``"no_vote"`` returns the fraction of gold rows without a vote.

        Returns
        -------
        dict mapping metric name to value
        """
        check_fitted_names(self, L)  # the columns in the fit's order
        k = self._fitted_cardinality()  # the classes predict_proba scores
        lm = check_label_matrix(L, k)
        y = check_labels(Y, lm.n, k, name="Y")
        check_same_rows(L, Y)  # a frame and a Series of the same rows in another order: misread by position
        frames = 2 + self._score_frames  # to the caller of the public score
        hint_flyingsquid_labels(y, k, "Y", stacklevel=frames)
        preds, probs = self.predict(lm, return_probs=True, tie_break_policy=tie_break_policy, **context)
        n_abstain = int(((preds < 0) & (y >= 0)).sum())
        if n_abstain:
            logger.info("score: %d gold rows with abstained predictions are left out", n_abstain)
        return score_votes(lm, y, preds, probs, k, metrics, voted_only, stacklevel=frames + 1)

    def _fitted_cardinality(self) -> int:
        """The number of classes predictions have (the setting; a fitted model: the fit's)."""
        return int(self.cardinality)


def score_votes(
    lm: Any,
    y: np.ndarray,
    preds: np.ndarray,
    probs: np.ndarray,
    cardinality: int,
    metrics: Sequence[str] | str | None,
    voted_only: bool,
    stacklevel: int = 3,
) -> dict[str, float]:
    """:func:`tripletws.metrics.score` that knows which rows had no vote.

    Warns with the count of gold rows without any LF vote that are scored (predicted a class,
    not abstained, or any such row where a probability metric is asked for: those score every
    gold row; unless ``voted_only``, which leaves them out); the metric ``"no_vote"`` is the
    fraction of the gold rows without any LF vote.
    """
    voted = voted_rows(lm)
    gold = y >= 0
    n_gold, n_silent = int(gold.sum()), int((gold & ~voted).sum())
    if metrics is not None and not isinstance(metrics, (str, Iterable)):
        raise ValueError(f"metrics must be a metric's name or a list of names, got {metrics!r}")
    metrics = ["accuracy"] if metrics is None else [metrics] if isinstance(metrics, str) else list(metrics)
    metrics = [str(name) if isinstance(name, str) else name for name in metrics]  # np.str_ keys: str
    check_metric_names(metrics, extra=("no_vote",))  # before the warnings below
    if n_gold == 0:
        warnings.warn(
            "score: Y has no gold label (every entry is -1, unknown), so every metric is nan",
            UserWarning,
            stacklevel=stacklevel,
        )
    # the silent rows that are scored rest on the balance: those predicted a class (not abstained),
    # and every one where a probability metric reads them (it scores every gold row)
    scored = gold & ~voted
    if not reads_probabilities(metrics):
        scored &= preds >= 0
    n_scored = int(scored.sum())
    if n_scored and not voted_only:
        warnings.warn(
            f"score: {n_scored} of {n_gold} gold rows ({n_scored / n_gold:.1%}) had no LF vote and are "
            "scored; their predictions rest on the class balance and, for a model that reads abstentions, "
            "on which LFs abstained (voted_only=True scores the voted rows only, as Snorkel does)",
            UserWarning,
            stacklevel=stacklevel,
        )
    wanted = [name for name in metrics if name != "no_vote"]
    if voted_only:
        y = np.where(voted, y, -1)
    out = _score(y, preds, probs, cardinality, wanted) if wanted else {}
    if "no_vote" in metrics:
        out["no_vote"] = n_silent / n_gold if n_gold else float("nan")
    return {name: out[name] for name in metrics}
