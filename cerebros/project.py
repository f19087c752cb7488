"""The project directory of one search: its layout, its trial files and its manifest.

A project directory holds everything a search leaves behind::

    <root>/
        oracle.csv              one row per epoch per trial (see :mod:`cerebros.oracle`)
        search_config.json      the manifest: the arguments the search was started with
        models/                 tr_<trial>_subtrial_<sub>.keras (the trained model) and, when
                                bred children inherit weights, .npz (its units' weights)
        model_architectures/    tr_<trial>_subtrial_<sub>.json
        model_graphs/           tr_<trial>_subtrial_<sub>.html

Every file is written atomically (temporary file, fsync, rename), so a search killed at any
moment leaves either the old or the new version of a file, never half of one. The manifest
lets a restarted search resume only when it was started with the same arguments.
Pure Python: no TensorFlow.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import socket
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, Union

import filelock
import pendulum

from cerebros.checks import check_bool, check_int

__all__ = [
    "ProjectDir",
    "ProjectLockedError",
    "ProjectMismatchError",
    "manifest_differences",
    "MANIFEST_NAME",
    "ORACLE_NAME",
    "ENSEMBLE_NAME",
    "ENSEMBLE_INFO_NAME",
    "DRAWN_NAMES",
    "trial_stem",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_unit_weights",
    "read_unit_weights",
    "fsync_directory",
    "remove_stale_temp_files",
]

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

MANIFEST_NAME = "search_config.json"
ORACLE_NAME = "oracle.csv"
MODELS_DIR = "models"
ARCHITECTURES_DIR = "model_architectures"
GRAPHS_DIR = "model_graphs"
ENSEMBLE_NAME = "ensemble.keras"
LOCK_NAME = "search.lock"
OWNER_NAME = "search.owner.json"
ENSEMBLE_INFO_NAME = "ensemble.json"
DRAWN_NAMES = ("search_progress.png", "learning_curves.png", "generations.png", "report.html")
"""Files drawn from a search's results (by :mod:`cerebros.plots` and :mod:`cerebros.report`):
stale once the results are cleared."""

_TEMP_SUFFIX = ".tmp"
_TRIAL_FILE = re.compile(r"^\.?tr_\d{16}_subtrial_\d{16}\.(keras|npz|json|html)(\.\w+\.tmp)?$")


class ProjectLockedError(RuntimeError):
    """Another search holds the project directory."""


class ProjectMismatchError(ValueError):
    """The project directory holds a search started with other arguments.

    ``root`` is the directory; ``changed`` the differing arguments' (dotted) names and
    ``changes`` their descriptions (``name: old -> new``), in the manifest's order.
    """

    def __init__(self, root: Path, differences: list[tuple[str, str]]) -> None:
        self.root = root
        self.changed = [key for key, _ in differences]
        self.changes = [text for _, text in differences]
        super().__init__(
            f"The project {root} was started with different arguments: "
            + "; ".join(self.changes) + ". To continue it, pass the values it was started "
            "with (left of each ->); otherwise use a new project_name, or overwrite=True to "
            "replace it.")


def trial_stem(trial: int, subtrial: int) -> str:
    """Return the file stem of a trial, ``tr_<trial:016d>_subtrial_<subtrial:016d>``.

    Parameters
    ----------
    trial, subtrial : int
        Non-negative trial and subtrial numbers.

    Returns
    -------
    str
        The stem shared by the trial's model, architecture and graph files.
    """
    trial, subtrial = check_int("trial", trial, 0), check_int("subtrial", subtrial, 0)
    return f"tr_{trial:016d}_subtrial_{subtrial:016d}"


def fsync_directory(directory: PathLike) -> None:
    """Flush a directory entry table to disk, so a rename inside it survives a crash."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _temp_prefix(path: PathLike) -> str:
    """Return the name prefix of the temporary files used to replace ``path``."""
    return f".{Path(path).name}."


def write_bytes_atomic(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one.

    The bytes go to a temporary file in the same directory, which is flushed and fsynced,
    renamed over ``path`` with :func:`os.replace`, and the directory is fsynced.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace. Its directory must exist.
    data : bytes
        The whole new content.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"data must be bytes; got {type(data).__name__}.")
    target = Path(path)
    descriptor, temp_name = tempfile.mkstemp(
        dir=target.parent, prefix=_temp_prefix(target), suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private (0600); give it the mode an ordinary open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_name, 0o666 & ~umask)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)


def write_unit_weights(path: PathLike, weights: dict[tuple[int, int], list[Any]]) -> None:
    """Write a trial's unit weights (``(level, unit)`` → arrays) atomically as an ``.npz``
    file whose arrays are named ``<level>_<unit>_<index>``."""
    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, **{f"{level}_{unit}_{i}": np.asarray(array)
                        for (level, unit), arrays in weights.items()
                        for i, array in enumerate(arrays)})
    write_bytes_atomic(path, buffer.getvalue())


def read_unit_weights(path: PathLike) -> dict[tuple[int, int], list[Any]]:
    """Read what :func:`write_unit_weights` wrote."""
    import numpy as np

    found: dict[tuple[int, int], dict[int, Any]] = {}
    with np.load(path, allow_pickle=False) as stored:
        for key in stored.files:
            level, unit, index = (int(part) for part in key.split("_"))
            found.setdefault((level, unit), {})[index] = stored[key]
    return {unit: [arrays[i] for i in sorted(arrays)] for unit, arrays in found.items()}


def write_json_atomic(path: PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically (see :func:`write_bytes_atomic`).

    Raises
    ------
    ValueError
        If ``obj`` cannot be written as JSON.
    """
    try:
        text = json.dumps(obj, indent=2)
    except (TypeError, ValueError) as error:
        raise ValueError(f"obj must be JSON-serializable; got {type(obj).__name__}: {error}") from None
    write_bytes_atomic(path, (text + "\n").encode("utf-8"))


def remove_stale_temp_files(path: PathLike) -> None:
    """Delete temporary files left beside ``path`` by a writer that was killed.

    Only call this while no other writer of ``path`` can be running (e.g. under its lock).
    """
    target = Path(path)
    for leftover in target.parent.glob(_temp_prefix(target) + "*" + _TEMP_SUFFIX):
        leftover.unlink(missing_ok=True)


def _json_safe(arguments: Any) -> dict[str, Any]:
    """Return ``arguments`` as they read back from JSON, or raise ValueError."""
    if not isinstance(arguments, dict) or not all(isinstance(key, str) for key in arguments):
        raise ValueError(f"arguments must be a dict with str keys; got {arguments!r}.")
    try:
        return json.loads(json.dumps(arguments, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise ValueError(f"arguments must hold only JSON-safe values; {error}.") from None


def manifest_differences(old: dict[str, Any], new: dict[str, Any],
                         implied: frozenset[str] = frozenset(), prefix: str = ""
                         ) -> list[tuple[str, str]]:
    """Each key whose value differs between two manifests, nested dicts key by key, as
    ``(dotted.key, "dotted.key: old -> new")`` in the manifests' order; an ``old`` value
    that was implied for an absent key (``implied`` holds dotted keys) is marked so."""
    changes = []
    for key in list(old) + [key for key in new if key not in old]:
        a, b = old.get(key, _ABSENT), new.get(key, _ABSENT)
        if isinstance(a, dict) and isinstance(b, dict):
            changes += manifest_differences(a, b, implied, f"{prefix}{key}.")
        elif a != b:
            note = " (absent: implied)" if f"{prefix}{key}" in implied else ""
            changes.append((f"{prefix}{key}", f"{prefix}{key}: {_shown(a)}{note} -> {_shown(b)}"))
    return changes


_ABSENT = object()


def _shown(value: Any) -> str:
    return "<absent>" if value is _ABSENT else repr(value)


class ProjectDir:
    """The directory of one search project.

    Parameters
    ----------
    root : str or os.PathLike
        The project directory. Nothing is created until :meth:`create` or
        :meth:`check_or_write_manifest` is called.

    Examples
    --------
    >>> project = ProjectDir("/tmp/ames").create()           # doctest: +SKIP
    >>> project.model_path(3, 0).name                         # doctest: +SKIP
    'tr_0000000000000003_subtrial_0000000000000000.keras'
    """

    write_bytes_atomic = staticmethod(write_bytes_atomic)
    write_json_atomic = staticmethod(write_json_atomic)
    trial_stem = staticmethod(trial_stem)

    def __init__(self, root: PathLike) -> None:
        if not isinstance(root, (str, os.PathLike)) or str(root) == "":
            raise ValueError(f"root must be a non-empty path; got {root!r}.")
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ProjectDir({str(self.root)!r})"

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold this project for one search: a second search (in any process) on the same
        directory fails at once, naming the holder's host and process id.

        The lock is an OS file lock (``filelock``), so a holder that dies, even by SIGKILL,
        releases it and the next search takes over.

        Raises
        ------
        ProjectLockedError
            If another search holds the project.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(self.root / LOCK_NAME, blocking=False, is_singleton=False)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise ProjectLockedError(
                f"The project {self.root} is in use by another search ({self._holder()}); "
                "wait for it to finish or use another project_name.") from None
        try:
            write_json_atomic(self.root / OWNER_NAME, {
                "host": socket.gethostname(), "pid": os.getpid(),
                "since": pendulum.now("UTC").isoformat()})
            yield
        finally:
            lock.release()

    def _holder(self) -> str:
        try:
            owner = json.loads((self.root / OWNER_NAME).read_text(encoding="utf-8"))
            return f"host {owner['host']}, process {owner['pid']}, since {owner['since']}"
        except (OSError, ValueError, KeyError, TypeError):
            return "holder unknown"

    @property
    def models_dir(self) -> Path:
        """Where the trained models (``.keras``) go."""
        return self.root / MODELS_DIR

    @property
    def architectures_dir(self) -> Path:
        """Where the wiring plans (``.json``) go."""
        return self.root / ARCHITECTURES_DIR

    @property
    def graphs_dir(self) -> Path:
        """Where the network drawings (``.html``) go."""
        return self.root / GRAPHS_DIR

    @property
    def oracle_path(self) -> Path:
        """The oracle CSV."""
        return self.root / ORACLE_NAME

    @property
    def manifest_path(self) -> Path:
        """The search manifest, ``search_config.json``."""
        return self.root / MANIFEST_NAME

    def create(self) -> "ProjectDir":
        """Create the root and its ``models``, ``model_architectures`` and ``model_graphs``.

        Returns
        -------
        ProjectDir
            ``self``, for chaining.
        """
        for directory in (self.root, self.models_dir, self.architectures_dir, self.graphs_dir):
            directory.mkdir(parents=True, exist_ok=True)
        return self

    def model_path(self, trial: int, subtrial: int) -> Path:
        """Return ``models/tr_<trial>_subtrial_<subtrial>.keras``."""
        return self.models_dir / f"{trial_stem(trial, subtrial)}.keras"

    def weights_path(self, trial: int, subtrial: int) -> Path:
        """Return ``models/tr_<trial>_subtrial_<subtrial>.npz`` (see
        :func:`write_unit_weights`)."""
        return self.models_dir / f"{trial_stem(trial, subtrial)}.npz"

    def architecture_path(self, trial: int, subtrial: int) -> Path:
        """Return ``model_architectures/tr_<trial>_subtrial_<subtrial>.json``."""
        return self.architectures_dir / f"{trial_stem(trial, subtrial)}.json"

    def graph_path(self, trial: int, subtrial: int) -> Path:
        """Return ``model_graphs/tr_<trial>_subtrial_<subtrial>.html``."""
        return self.graphs_dir / f"{trial_stem(trial, subtrial)}.html"

    def read_manifest(self) -> dict[str, Any] | None:
        """Return the stored search arguments, or None when there is no manifest.

        Raises
        ------
        ValueError
            If the manifest is not a JSON object.
        """
        if not self.manifest_path.exists():
            return None
        try:
            stored = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(
                f"{self.manifest_path} is not valid JSON ({error}); use a new project_name "
                "or overwrite=True.") from None
        if not isinstance(stored, dict):
            raise ValueError(f"{self.manifest_path} must hold a JSON object; got {stored!r}.")
        return stored

    def check_or_write_manifest(
            self, arguments: dict[str, Any], overwrite: bool,
            implied: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]] | None = None
    ) -> bool:
        """Make sure this directory belongs to a search started with ``arguments``.

        Parameters
        ----------
        arguments : dict
            The search's arguments, as JSON-safe values (str keys; numbers, strings,
            booleans, None, lists and dicts; no NaN).
        overwrite : bool
            If True, delete what an earlier search left here (see :meth:`clear`) and
            start afresh.
        implied : dict or callable, optional
            Values for keys that a manifest written before they existed lacks: the
            behaviour such a search had.  A stored manifest without one of these keys is
            compared as if it held this value, so an older project resumes when the
            search asks for that behaviour.  A callable gets the stored manifest and
            returns the dict (for values that depend on other stored keys).

        Returns
        -------
        bool
            True when an identical manifest already existed, i.e. the search resumes.

        Raises
        ------
        ProjectMismatchError
            If the directory holds a search with different arguments (each differing key
            is listed with its old and new value).
        ValueError
            If the directory holds an ``oracle.csv`` without a manifest
            (made by the original library), and ``overwrite`` is False.
        """
        check_bool("overwrite", overwrite)
        wanted = _json_safe(arguments)
        if overwrite:
            self.clear()
        else:
            stored = self.read_manifest()
            if stored is not None:
                defaults = _json_safe((implied(stored) if callable(implied) else implied)
                                      or {})
                filled = frozenset(defaults) - set(stored)
                stored = {**stored, **{key: defaults[key] for key in filled}}
                differences = manifest_differences(stored, wanted, filled)
                if not differences:
                    logger.info("Resuming the search in %s.", self.root)
                    return True
                raise ProjectMismatchError(self.root, differences)
            if self.oracle_path.exists():
                raise ValueError(
                    f"The project {self.root} has an {ORACLE_NAME} but no {MANIFEST_NAME} "
                    "(it was made by the original Cerebros or by hand), so it cannot be "
                    "resumed. Use a new project_name, or overwrite=True to replace it.")
        self.create()
        write_json_atomic(self.manifest_path, wanted)
        return False

    def clear(self) -> None:
        """Delete the files Cerebros made here: oracle, manifest, trial files, the ensemble
        and the plots and report drawn from them.

        Temporary files left by a killed writer go too. Files whose names Cerebros does
        not use are left alone, and so are the directories and the oracle's lock file
        (deleting a lock another process may hold would break its exclusion).
        """
        for name in (ORACLE_NAME, MANIFEST_NAME, ENSEMBLE_NAME, ENSEMBLE_INFO_NAME,
                     *DRAWN_NAMES):
            (self.root / name).unlink(missing_ok=True)
            if self.root.is_dir():
                remove_stale_temp_files(self.root / name)
        removed = 0
        for directory in (self.models_dir, self.architectures_dir, self.graphs_dir):
            if not directory.is_dir():
                continue
            for entry in directory.iterdir():
                if _TRIAL_FILE.match(entry.name) and entry.is_file():
                    entry.unlink()
                    removed += 1
        logger.info("Cleared the project %s (%d trial files removed).", self.root, removed)
