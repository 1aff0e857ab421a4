"""Label models by name: each is one module with one :class:`Solver`, registered with :func:`register`.

``LabelModel(model=name)`` looks its solver up here.  To add a model, write a module
with a ``Solver`` subclass decorated with ``@register`` and import it once (see
docs/architecture.md); the built-in models below register themselves on import.
"""

from . import annotator, class_conditional, symmetric  # noqa: F401  (they register themselves)
from .base import Fit, Needs, Options, Prior, Solver, get_solver, register, registered

#: The label models that ship with tripletws (plugins may register more).
BUILT_IN = registered()

__all__ = ["BUILT_IN", "Fit", "Needs", "Options", "Prior", "Solver", "get_solver", "register", "registered"]
