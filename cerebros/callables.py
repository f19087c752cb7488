"""User-defined functions (activations, gates, decays) referenced by importable name.

A function is stored in plans, manifests and saved models as ``"module:qualname"``, the
name it can be imported by, so that it round-trips to any process that can import its
module, and is never confused with a library function of the same name (a user's
``def relu(x)`` stays the user's).  Pure Python: no TensorFlow.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable

__all__ = ["function_reference", "resolve_reference", "is_library_function",
           "check_referable"]

_LIBRARIES = ("keras", "cerebros", "tensorflow", "jax", "numpy", "builtins")


def resolve_reference(reference: str) -> Any:
    """The object named by ``"module:qualname"`` (``__main__`` is the running script or
    notebook).  Raises ValueError if it cannot be imported."""
    module, _, qualname = str(reference).partition(":")
    if not module or not qualname:
        raise ValueError(f"a function reference must look like 'module:qualname'; got "
                         f"{reference!r}.")
    try:
        found: Any = (sys.modules["__main__"] if module == "__main__"
                      else importlib.import_module(module))
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError, KeyError) as error:
        raise ValueError(f"cannot import {reference!r}: {type(error).__name__}: {error}. "
                         "Its module must be importable where the model is loaded.") from None
    return found


def function_reference(function: Any) -> str | None:
    """``"module:qualname"`` if importing it gives back ``function`` itself, else None (a
    lambda, a function defined inside another function, a rebound name)."""
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        return None
    reference = f"{module}:{qualname}"
    try:
        return reference if resolve_reference(reference) is function else None
    except ValueError:
        return None


def is_library_function(function: Any) -> bool:
    """Whether ``function`` comes from Keras, Cerebros, TensorFlow, JAX or NumPy (stored
    by its plain name, as before)."""
    module = getattr(function, "__module__", None) or ""
    return module.split(".")[0] in _LIBRARIES


def check_referable(name: str, function: Callable[..., Any] | str | None) -> None:
    """Raise ValueError naming ``name`` unless ``function`` is a name, None, a library
    function, or a user function that can be referenced by importable name."""
    if (function is None or isinstance(function, str) or is_library_function(function)
            or hasattr(function, "reference") or function_reference(function) is not None):
        return
    raise ValueError(
        f"{name} must be a name, a Keras function or a function defined at module level, "
        f"importable by name; got {function!r}, which saved plans and models cannot refer to "
        "(a lambda or a function defined inside another function). Move it to module level "
        "(in a module, a script or a notebook).")
