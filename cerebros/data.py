"""Turning the user's data into validated numpy arrays once, and splitting it honestly.

:func:`prepare_data` accepts what users pass as ``training_data`` and ``labels`` (numpy
arrays, TensorFlow tensors, pandas DataFrames or Series; one per network input / output)
and returns a :class:`PreparedData` of C-contiguous arrays, after guards that catch the
usual mistakes up front: wrong widths, mismatched row counts, text columns, NaN, and the
target hiding among the features (label leakage).

:func:`hash_based_split` splits a DataFrame by a stable hash of each row, so identical
rows always land on the same side and the split is the same in every run and process.

This module never imports TensorFlow: tensors are recognised by their ``.numpy()`` method.
"""

from __future__ import annotations

import hashlib
import logging
import math
import numbers
from dataclasses import dataclass, replace
from typing import Any, Optional, Sequence, Union

import numpy as np
import pandas as pd

from cerebros.checks import check_bool, check_number
from cerebros.spec import normalize_shapes

__all__ = ["PreparedData", "prepare_data", "hash_based_split", "feature_bounds",
           "feature_scaling", "target_scaling", "SCALED_TARGET_STD",
           "AUTO_SPREAD_PER_STEP", "check_target_std", "resolve_target_std",
           "prediction_bounds"]

logger = logging.getLogger(__name__)

#: Rows compared first when looking for label leakage; only columns that agree with a
#: label on all of them are compared in full.
LEAKAGE_PROBE_ROWS = 64

ColumnName = Union[str, int]


@dataclass(frozen=True, eq=False)
class PreparedData:
    """Validated, C-contiguous arrays ready for ``Model.fit``.

    Attributes
    ----------
    x_train, y_train : list of numpy.ndarray
        One array per network input / output, rows are samples.
    x_val, y_val : list of numpy.ndarray or None
        The validation arrays, or None when there is no validation data.
    """

    x_train: list[np.ndarray]
    y_train: list[np.ndarray]
    x_val: Optional[list[np.ndarray]] = None
    y_val: Optional[list[np.ndarray]] = None

    def __post_init__(self) -> None:
        if (self.x_val is None) != (self.y_val is None):
            raise ValueError("x_val and y_val must both be lists of arrays or both be None; "
                             f"got x_val={type(self.x_val).__name__}, "
                             f"y_val={type(self.y_val).__name__}.")

    @property
    def n_train(self) -> int:
        """Number of training rows."""
        return int(self.x_train[0].shape[0])

    @property
    def n_val(self) -> int:
        """Number of validation rows (0 without validation data)."""
        return 0 if self.x_val is None else int(self.x_val[0].shape[0])

    def fingerprint(self) -> str:
        """A sha256 hex digest over every array's group, shape, dtype and bytes.

        Two PreparedData with the same fingerprint hold the same data split the same way,
        so a resumed search can check that it was given the data it started with.
        """
        digest = hashlib.sha256()
        groups = (("x_train", self.x_train), ("y_train", self.y_train),
                  ("x_val", self.x_val), ("y_val", self.y_val))
        for group, arrays in groups:
            digest.update(f"{group}:{'none' if arrays is None else len(arrays)};".encode())
            for array in arrays or ():
                digest.update(f"{array.dtype.str}{array.shape};".encode())
                digest.update(np.ascontiguousarray(array).data)
        return digest.hexdigest()


@dataclass(frozen=True)
class _Block:
    """One converted input or output, with where it came from and its column names."""

    array: np.ndarray
    where: str
    names: Optional[tuple[ColumnName, ...]]
    frame_columns: Optional[tuple[ColumnName, ...]] = None  # a DataFrame's own columns

    @property
    def rows(self) -> int:
        return int(self.array.shape[0])

    def columns(self) -> np.ndarray:
        return self.array.reshape(self.rows, -1)

    def column_label(self, index: int) -> str:
        return repr(self.names[index] if self.names is not None else index)

    def column(self, index: int) -> str:
        return f"{self.where} column {self.column_label(index)}"


def prepare_data(training_data: Any, labels: Any, input_widths: Sequence[int],
                 output_widths: Sequence[int], validation_split: float = 0.0,
                 validation_data: Any = None, dtype: Any = "float32",
                 allow_label_leakage: bool = False,
                 feature_names: Optional[Sequence[Any]] = None) -> PreparedData:
    """Validate and convert the data once, then split off validation rows.

    Parameters
    ----------
    training_data : array-like or list of array-like
        One entry per network input: numpy arrays, TensorFlow tensors (anything with
        ``.numpy()``), pandas DataFrames or Series. A single entry may be passed bare.
        A 1-D entry is read as one column, which is allowed only for an input of width 1.
    labels : array-like or list of array-like
        One entry per network output, same types; 1-D labels become shape ``(n, 1)``.
        A 1-D label may also feed a wider output when it holds whole class ids in
        ``[0, width)`` (sparse categorical targets).
    input_widths, output_widths : sequence of int
        The width of each network input / output (``input_shapes`` / ``output_shapes``);
        one-element shapes such as ``(38,)`` are read as their width.
    validation_split : float, default 0.0
        Fraction in ``[0, 1)`` of the rows to hold out, like Keras'
        ``fit(validation_split=...)``: the first ``int(n * (1 - validation_split))`` rows
        train and the remaining rows validate. Rows are **not** shuffled, so shuffle
        beforehand (or use :func:`hash_based_split`) if the data is ordered.
    validation_data : pair (x_list, y_list), optional
        Explicit validation data, with the same inputs and outputs as the training data.
        It cannot be combined with ``validation_split > 0``.  A DataFrame validating an
        input that was trained from a DataFrame is matched to it by column name (its
        columns are put in the training order); other entries are matched by position.
    dtype : numpy dtype or str, default "float32"
        The dtype of every returned array.
    allow_label_leakage : bool, default False
        Skip the check that no feature column equals a label column.
    feature_names : list of str, or list of lists of str, optional
        Column names used in error messages: one list per input (a flat list is read as
        the names of the only input). DataFrame column names are used when not given.

    Returns
    -------
    PreparedData
        C-contiguous arrays of ``dtype``. An input already in that form is not copied.

    Raises
    ------
    ValueError
        Before any conversion result is returned, naming the argument, the value and the
        fix: input/output counts or widths that do not match the shapes, no rows, row
        counts that differ, non-numeric columns, NaN or infinite values, a bad
        ``validation_split`` or ``validation_data``, both given, too few rows for the
        split, or a feature column equal to a label column.
    """
    input_widths = normalize_shapes(input_widths, "input_shapes")
    output_widths = normalize_shapes(output_widths, "output_shapes")
    dtype = _check_dtype(dtype)
    _check_validation_split(validation_split)
    if validation_data is not None and validation_split > 0:
        raise ValueError(f"validation_split={validation_split} and validation_data were both "
                         "given, so which one defines the validation rows is ambiguous; "
                         "pass only one of them.")
    check_bool("allow_label_leakage", allow_label_leakage)

    features = _convert_features(training_data, "training_data", input_widths, dtype,
                                 _feature_names(feature_names, input_widths))
    targets = _convert_labels(labels, "labels", output_widths, dtype)
    _check_rows(features, targets, "training_data", "labels")

    validation = None
    if validation_data is not None:
        validation = _convert_validation(validation_data, features, input_widths,
                                         output_widths, dtype)
    if not allow_label_leakage:
        _check_leakage(features, targets)

    x_all = [block.array for block in features]
    y_all = [block.array for block in targets]
    if validation is not None:
        prepared = PreparedData(x_all, y_all, *validation)
    elif validation_split > 0:
        split_at = _split_point(features[0].rows, validation_split)
        prepared = PreparedData([x[:split_at] for x in x_all], [y[:split_at] for y in y_all],
                                [x[split_at:] for x in x_all], [y[split_at:] for y in y_all])
    else:
        prepared = PreparedData(x_all, y_all)
    logger.debug("prepared %d training and %d validation rows", prepared.n_train, prepared.n_val)
    return prepared


def _check_dtype(dtype: Any) -> np.dtype:
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved.kind not in "fiu":
        raise ValueError(f"dtype must be a numeric numpy dtype such as 'float32'; got {dtype!r}.")
    return resolved


def _check_validation_split(validation_split: Any) -> None:
    if (isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real)
            or not 0 <= validation_split < 1):
        raise ValueError("validation_split must be a number in [0, 1), the fraction of rows "
                         f"held out for validation; got {validation_split!r}.")


def _feature_names(feature_names: Any, input_widths: tuple[int, ...]
                   ) -> list[Optional[tuple[ColumnName, ...]]]:
    if feature_names is None:
        return [None] * len(input_widths)
    if isinstance(feature_names, (str, bytes)) or not isinstance(feature_names, Sequence):
        raise ValueError("feature_names must be a list of column names per input (or one flat "
                         f"list for a single input); got {feature_names!r}.")
    flat = all(isinstance(name, (str, numbers.Integral)) for name in feature_names)
    per_input = [feature_names] if flat else list(feature_names)
    if len(per_input) != len(input_widths):
        raise ValueError(f"feature_names has {len(per_input)} list(s) of names but input_shapes "
                         f"has {len(input_widths)} inputs; pass one list of names per input.")
    names = []
    for index, (input_names, width) in enumerate(zip(per_input, input_widths)):
        if isinstance(input_names, (str, bytes)) or len(input_names) != width:
            raise ValueError(f"feature_names[{index}] must hold {width} names, one per column "
                             f"of input {index}; got {input_names!r}.")
        names.append(tuple(input_names))
    return names


def _entries(value: Any, argument: str, kind: str) -> list[Any]:
    if value is None:
        raise ValueError(f"{argument} is None; pass an array, or a list with one array per "
                         f"network {kind}.")
    entries = list(value) if isinstance(value, (list, tuple)) else [value]
    if not entries:
        raise ValueError(f"{argument} is an empty list; pass one array per network {kind}.")
    return entries


def _check_count(entries: list[Any], widths: tuple[int, ...], argument: str,
                 shapes_argument: str, kind: str) -> None:
    if len(entries) != len(widths):
        raise ValueError(f"{shapes_argument} has {_plural(len(widths), 'shape')} but {argument} "
                         f"has {_plural(len(entries), kind)}; pass one array per {kind} or fix "
                         f"{shapes_argument}.")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _convert_features(value: Any, argument: str, widths: tuple[int, ...], dtype: np.dtype,
                      names: list[Optional[tuple[ColumnName, ...]]]) -> list[_Block]:
    entries = _entries(value, argument, "input")
    _check_count(entries, widths, argument, "input_shapes", "input")
    blocks = []
    for index, (entry, width) in enumerate(zip(entries, widths)):
        where = f"{argument}[{index}]"
        array, found_names = _to_numpy(entry, where, dtype)
        if array.ndim == 1 and width == 1:
            array = array.reshape(-1, 1)
        elif array.ndim != 2 or array.shape[1] != width:
            raise ValueError(f"{where} has shape {array.shape} but input_shapes[{index}] is "
                             f"{width}; pass a 2-D array of shape (n_rows, {width}) or fix "
                             "input_shapes.")
        block = _checked_block(array, where, names[index] or found_names)
        if isinstance(entry, pd.DataFrame):
            block = replace(block, frame_columns=tuple(entry.columns))
        blocks.append(block)
    _check_same_rows(blocks, argument)
    return blocks


def _convert_labels(value: Any, argument: str, widths: tuple[int, ...],
                    dtype: np.dtype) -> list[_Block]:
    entries = _entries(value, argument, "output")
    _check_count(entries, widths, argument, "output_shapes", "output")
    blocks = []
    for index, (entry, width) in enumerate(zip(entries, widths)):
        where = f"{argument}[{index}]"
        array, names = _to_numpy(entry, where, dtype)
        if array.ndim == 1:
            array = array.reshape(-1, 1)
        block = _checked_block(array, where, names)
        if array.ndim != 2 or (array.shape[1] != width and not _sparse_ids(array, width)):
            raise ValueError(f"{where} has shape {array.shape} but output_shapes[{index}] is "
                             f"{width}; pass labels of shape (n_rows, {width}) (or 1-D class "
                             f"ids in [0, {width})) or fix output_shapes.")
        blocks.append(block)
    _check_same_rows(blocks, argument)
    return blocks


def _sparse_ids(array: np.ndarray, width: int) -> bool:
    """Whether a one-column label holds whole class ids in ``[0, width)``."""
    if array.shape[1] != 1:
        return False
    values = array[:, 0]
    return bool(np.all((values >= 0) & (values < width) & (values == np.floor(values))))


def _checked_block(array: np.ndarray, where: str,
                   names: Optional[tuple[ColumnName, ...]]) -> _Block:
    if array.shape[0] == 0:
        raise ValueError(f"{where} has 0 rows; pass at least one row (sample).")
    block = _Block(array, where, names)
    _check_finite(block)
    return block


def _to_numpy(value: Any, where: str, dtype: np.dtype
              ) -> tuple[np.ndarray, Optional[tuple[ColumnName, ...]]]:
    """Convert one entry to a C-contiguous array of ``dtype`` and its column names."""
    names = None
    if isinstance(value, pd.DataFrame):
        _check_numeric_columns(list(value.columns), list(value.dtypes), where)
        names = tuple(value.columns)
        raw = value.to_numpy(dtype=dtype, na_value=np.nan)
    elif isinstance(value, pd.Series):
        _check_numeric_columns([value.name if value.name is not None else 0], [value.dtype], where)
        names = (value.name,) if value.name is not None else None
        raw = value.to_numpy(dtype=dtype, na_value=np.nan)
    else:
        raw = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
        if raw.ndim == 0:
            raise ValueError(f"{where} is a scalar ({raw!r}); pass an array with one row per "
                             "sample.")
        if raw.dtype.kind not in "biuf":
            _check_numeric_array(raw, where)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.ascontiguousarray(raw, dtype=dtype), names


def _is_numeric_dtype(dtype: Any) -> bool:
    return (pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)) \
        and not pd.api.types.is_complex_dtype(dtype)


def _check_numeric_columns(names: list[Any], dtypes: list[Any], where: str) -> None:
    bad = [name for name, dtype in zip(names, dtypes) if not _is_numeric_dtype(dtype)]
    if bad:
        raise ValueError(_non_numeric_message(where, bad))


def _check_numeric_array(array: np.ndarray, where: str) -> None:
    if array.dtype.kind != "O":
        raise ValueError(f"{where} has dtype {array.dtype}, which is not numeric; encode it as "
                         "numbers (e.g. one-hot or ordinal codes) or drop it.")
    is_number = np.frompyfunc(lambda item: isinstance(item, numbers.Real), 1, 1)
    numeric = is_number(array.reshape(array.shape[0], -1)).astype(bool)
    bad = np.flatnonzero(~numeric.all(axis=0)).tolist()
    if bad:
        raise ValueError(_non_numeric_message(where, bad))


def _non_numeric_message(where: str, columns: list[Any]) -> str:
    return (f"{where} has non-numeric columns {columns}; encode them as numbers (e.g. one-hot "
            "or ordinal codes) or drop them. Missing values must be NaN (and then imputed).")


def _check_finite(block: _Block) -> None:
    if block.array.dtype.kind != "f":
        return
    bad = ~np.isfinite(block.columns())
    count = int(np.count_nonzero(bad))
    if count:
        first = int(np.argmax(bad.any(axis=0)))
        raise ValueError(f"{block.where} has {count} NaN or infinite value"
                         f"{'' if count == 1 else 's'}, the first in column "
                         f"{block.column_label(first)} (values beyond the {block.array.dtype} "
                         "range count as infinite); impute or drop them before the search.")


def _check_same_rows(blocks: list[_Block], argument: str) -> None:
    rows = [block.rows for block in blocks]
    if len(set(rows)) > 1:
        counts = ", ".join(f"{block.where} has {block.rows}" for block in blocks)
        raise ValueError(f"{argument} entries have different numbers of rows ({counts}); "
                         "every entry needs exactly one row per sample.")


def _check_rows(features: list[_Block], targets: list[_Block], data_argument: str,
                label_argument: str) -> None:
    if features[0].rows != targets[0].rows:
        raise ValueError(f"{data_argument} has {features[0].rows} rows but {label_argument} has "
                         f"{targets[0].rows}; pass exactly one label row per sample.")


def _convert_validation(validation_data: Any, features: list[_Block],
                        input_widths: tuple[int, ...], output_widths: tuple[int, ...],
                        dtype: np.dtype) -> tuple[list[np.ndarray], list[np.ndarray]]:
    if not isinstance(validation_data, (list, tuple)) or len(validation_data) != 2:
        received = type(validation_data).__name__
        if isinstance(validation_data, (list, tuple)):
            received += f" of length {len(validation_data)}"
        raise ValueError("validation_data must be a pair (x_list, y_list) with one array per "
                         f"input and per output; got a {received}.")
    x_value, y_value = validation_data
    x_entries = _entries(x_value, "validation_data[0]", "input")
    if len(x_entries) != len(features):
        raise ValueError(f"validation_data[0] has {_plural(len(x_entries), 'input')} but "
                         f"training_data has {len(features)}; pass validation inputs shaped "
                         "like the training inputs.")
    x_entries = [_align_columns(entry, block, f"validation_data[0][{index}]")
                 for index, (entry, block) in enumerate(zip(x_entries, features))]
    names = [block.names for block in features]
    x_blocks = _convert_features(x_entries, "validation_data[0]", input_widths, dtype, names)
    y_blocks = _convert_labels(y_value, "validation_data[1]", output_widths, dtype)
    _check_rows(x_blocks, y_blocks, "validation_data[0]", "validation_data[1]")
    return [block.array for block in x_blocks], [block.array for block in y_blocks]


def _align_columns(entry: Any, training: _Block, where: str) -> Any:
    """A validation DataFrame with its columns in the order of the training DataFrame's
    (matched by name, not by position); any other entry unchanged.  Raises ValueError
    naming ``where`` when the names differ."""
    if training.frame_columns is None or not isinstance(entry, pd.DataFrame):
        return entry
    wanted, found = list(training.frame_columns), list(entry.columns)
    if found == wanted:
        return entry
    missing = [c for c in wanted if c not in found]
    extra = [c for c in found if c not in wanted]
    if missing or extra:
        differences = "; ".join(part for part in (
            f"it lacks {missing}" if missing else "",
            f"it has {extra} in addition" if extra else "") if part)
        raise ValueError(f"{where} must have the columns of {training.where}, matched by "
                         f"name; {differences}. Rename or select its columns to match the "
                         "training data.")
    if len(set(wanted)) != len(wanted) or len(set(found)) != len(found):
        raise ValueError(f"{where} has its columns in another order than {training.where}, "
                         "and repeated column names make matching them by name ambiguous; "
                         "pass them in the training data's order.")
    return entry[wanted]


def _check_leakage(features: list[_Block], targets: list[_Block]) -> None:
    """Raise if a feature column equals a label column exactly.

    Runs in O(rows * label columns * candidates) after an O(probe rows * columns) filter:
    only columns that match a label on the first ``LEAKAGE_PROBE_ROWS`` rows are compared
    in full.
    """
    probe = min(features[0].rows, LEAKAGE_PROBE_ROWS)
    leaks = []
    for target in targets:
        labels = target.columns()
        for label_index in range(labels.shape[1]):
            label = labels[:, label_index]
            for block in features:
                columns = block.columns()
                candidates = np.flatnonzero((columns[:probe] == label[:probe, None]).all(axis=0))
                leaks.extend(f"{block.column(int(c))} equals {target.column(label_index)}"
                             for c in candidates if np.array_equal(columns[:, c], label))
    if leaks:
        raise ValueError(f"Label leakage: {'; '.join(leaks)}. A target among the features "
                         "makes every score meaningless; remove that column from "
                         "training_data, or pass allow_label_leakage=True if it is intended.")


def _split_point(rows: int, validation_split: float) -> int:
    split_at = int(math.floor(rows * (1.0 - validation_split)))
    if split_at == 0 or split_at == rows:
        raise ValueError(f"validation_split={validation_split} with {rows} rows leaves "
                         f"{split_at} training and {rows - split_at} validation rows; each side "
                         "needs at least 1: pass more rows or a different validation_split.")
    return split_at


def feature_bounds(x_train: Sequence[np.ndarray], quantile: float, margin: float) -> tuple:
    """Per-input ``(low, high)`` column bounds: the ``quantile`` and ``1 - quantile``
    quantiles ``q_lo``, ``q_hi`` of the training rows, widened by ``margin`` times their
    distance on each side: ``[q_lo - margin (q_hi - q_lo), q_hi + margin (q_hi - q_lo)]``.

    A dense feature may so extrapolate up to ``margin`` training ranges (a later year, a
    larger house), while a sparse, mostly-zero column whose training range is (near) zero
    is held to it.  Runs in O(rows × columns × log rows).
    """
    check_number("clip_features", quantile, 0.0, 0.25)
    check_number("clip_margin", margin, 0.0)
    bounds = []
    for x in x_train:
        low = np.quantile(x, quantile, axis=0).astype("float64")
        high = np.quantile(x, 1.0 - quantile, axis=0).astype("float64")
        width = high - low
        bounds.append(((low - margin * width).tolist(), (high + margin * width).tolist()))
    return tuple(bounds)


def feature_scaling(x_train: Sequence[np.ndarray], bounds: tuple | None) -> tuple:
    """Per-input ``(mean, scale)`` column vectors of the training rows, clipped to
    ``bounds`` first when given (as the model clips them); float64, and a constant column
    gets scale 1.  Runs in O(rows × columns)."""
    pairs = []
    for i, x in enumerate(x_train):
        x64 = np.asarray(x, dtype="float64")
        pairs.append(_mean_and_scale(x64 if bounds is None
                                     else np.clip(x64, bounds[i][0], bounds[i][1])))
    return tuple(pairs)


AUTO_SPREAD_PER_STEP = 7.5
"""``scaled_target_std="auto"``: the learned targets' spread is this many times the learning
rate times the optimizer steps of the whole training budget (epochs × batches per epoch), and
at least 1 (standardized targets): 1,004 for the README search (learning rate 0.0664, 96
epochs of 21 batches), 6 at the command line's settings on Ames (0.005, 20 epochs of 8
batches), 1 where training has few steps."""

SCALED_TARGET_STD: float | str = "auto"
"""Default spread of the regression targets that a scaled output learns: "auto" (see
:data:`AUTO_SPREAD_PER_STEP` and ``SimpleCerebrosRandomSearch``'s ``scaled_target_std``)."""


def check_target_std(value: Any) -> float | str | None:
    """``scaled_target_std`` checked: None, "auto" or a number > 0."""
    if isinstance(value, str):
        if value == "auto":
            return value
        raise ValueError(f"scaled_target_std must be a finite number > 0, None (centred only) or "
                         f"'auto' (max(1, {AUTO_SPREAD_PER_STEP:g} x learning_rate x optimizer "
                         f"steps)); got {value!r}.")
    return None if value is None else check_number("scaled_target_std", value, 0.0,
                                                   low_open=True)


def resolve_target_std(target_std: float | str | None, learning_rate: float,
                       steps: int) -> float | None:
    """The spread a scaled output learns: ``target_std`` itself, or for "auto"
    ``max(1, AUTO_SPREAD_PER_STEP * learning_rate * steps)``, ``steps`` being the optimizer
    steps of the whole training budget.  The spread works as the output layer's learning
    rate divided by it: Adam(W) moves every weight by about the learning rate per step
    whatever the targets' scale, so the output layer's weights can move, over the whole
    budget, at most about ``learning_rate * steps``, and "auto" makes that a fixed fraction
    of the targets' spread (the hidden units then do most of the fitting), never going
    below standardized targets where training has few steps."""
    if target_std == "auto":
        return max(1.0, AUTO_SPREAD_PER_STEP * learning_rate * steps)
    return target_std


def target_scaling(y_train: Sequence[np.ndarray], scaled: Sequence[bool],
                   target_std: float | None = 1.0) -> tuple | None:
    """Per-output ``(mean, scale)`` of the training labels such that ``(y - mean) / scale``
    has standard deviation ``target_std`` (float64; 1: standardized; "auto" is resolved by
    :func:`resolve_target_std` first), or is only centred, in the labels' own units, for
    ``target_std=None``; None for outputs not ``scaled``; None when no output is."""
    if not any(scaled):
        return None

    def pair(y: np.ndarray) -> tuple[list[float], list[float]]:
        mean, std = _mean_and_scale(np.asarray(y, dtype="float64"))
        return mean, [1.0] * len(std) if target_std is None else [v / target_std for v in std]

    return tuple(pair(y) if on else None for y, on in zip(y_train, scaled))


def prediction_bounds(y_train: Sequence[np.ndarray], scaled: Sequence[bool],
                      margin: float) -> tuple | None:
    """Per-output ``(low, high)`` column vectors: the training labels' minimum and maximum,
    each moved outwards by ``margin`` times their distance (0: the training range itself), as
    :func:`feature_bounds` with quantile 0 gives them; None for outputs not ``scaled``; None
    when no output is."""
    if not any(scaled):
        return None
    return tuple(feature_bounds([y], 0.0, margin)[0] if on else None
                 for y, on in zip(y_train, scaled))


def _mean_and_scale(columns: np.ndarray) -> tuple[list[float], list[float]]:
    """The column means and standard deviations of ``columns`` (a constant column gets
    scale 1, so that dividing by it is safe)."""
    std = columns.std(axis=0)
    return columns.mean(axis=0).tolist(), np.where(std > 0, std, 1.0).tolist()


def hash_based_split(df: pd.DataFrame, labels: Any, test_size: float,
                     hash_column: Union[str, Sequence[Any]] = "*"
                     ) -> tuple[pd.DataFrame, Any, pd.DataFrame, Any]:
    """Split rows by a stable hash of their values, for honest validation.

    A row goes to the test side iff the hash of its values in the chosen columns, mapped
    to ``[0, 1)``, is below ``test_size``. Identical rows therefore always land on the same
    side (no duplicate can leak from train to test), and the split is the same in every
    run and process (``pandas.util.hash_pandas_object``, which is unsalted; Python's
    ``hash()`` is never used). The index is ignored by the hash and preserved, in order,
    in the outputs. Runs in O(rows * hashed columns), vectorized.

    Parameters
    ----------
    df : pandas.DataFrame
        The features (and, optionally, the label column).
    labels : str, pandas.Series or DataFrame, or array-like
        A column name of ``df`` (then removed from the features), or values aligned with
        ``df`` by position.
    test_size : float
        Expected fraction of rows on the test side, in ``(0, 1)``.
    hash_column : str or list, default "*"
        The columns whose values are hashed: ``"*"`` for every feature column (the label
        column excluded), a column name, or a list of names (which may include the label
        column).

    Returns
    -------
    train_df, train_labels, test_df, test_labels
        Labels come back as Series/DataFrame when given as such or as a column name,
        otherwise as numpy arrays.
    """
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"df must be a pandas DataFrame; got {type(df).__name__}. "
                         "Wrap arrays with pandas.DataFrame(...) first.")
    if (isinstance(test_size, bool) or not isinstance(test_size, numbers.Real)
            or not 0 < test_size < 1):
        raise ValueError("test_size must be a number in (0, 1), the expected fraction of rows "
                         f"on the test side; got {test_size!r}.")
    features, label_values = _separate_labels(df, labels)
    columns = _hash_columns(df, features, hash_column)
    row_hashes = pd.util.hash_pandas_object(df[columns], index=False).to_numpy(dtype=np.uint64)
    unit = (row_hashes >> np.uint64(11)).astype(np.float64) / float(2 ** 53)
    is_test = unit < test_size
    n_test = int(np.count_nonzero(is_test))
    if n_test in (0, len(df)):
        logger.warning("hash_based_split put all %d rows on one side (test_size=%s)",
                       len(df), test_size)
    logger.info("hash_based_split: %d train rows, %d test rows", len(df) - n_test, n_test)
    return (features[~is_test], _take(label_values, ~is_test),
            features[is_test], _take(label_values, is_test))


def _separate_labels(df: pd.DataFrame, labels: Any) -> tuple[pd.DataFrame, Any]:
    if isinstance(labels, str):
        if labels not in df.columns:
            raise ValueError(f"labels={labels!r} is not a column of df (columns: "
                             f"{list(df.columns)}); pass a column name or label values.")
        return df.drop(columns=[labels]), df[labels]
    if labels is None:
        raise ValueError("labels is None; pass a column name of df or label values aligned "
                         "with its rows.")
    values = labels if isinstance(labels, (pd.Series, pd.DataFrame)) else np.asarray(
        labels.numpy() if hasattr(labels, "numpy") else labels)
    if values.ndim == 0 or len(values) != len(df):
        length = "a scalar" if values.ndim == 0 else f"{len(values)} rows"
        raise ValueError(f"labels has {length} but df has {len(df)} rows; pass one label per "
                         "row of df, or the name of its label column.")
    return df, values


def _hash_columns(df: pd.DataFrame, features: pd.DataFrame, hash_column: Any) -> list[Any]:
    if isinstance(hash_column, str) and hash_column == "*":
        columns = list(features.columns)
    elif isinstance(hash_column, (list, tuple)):
        columns = list(hash_column)
    else:
        columns = [hash_column]
    missing = [column for column in columns if column not in df.columns]
    if not columns or missing:
        raise ValueError(f"hash_column={hash_column!r} must be '*', a column name or a "
                         f"non-empty list of column names of df; not found: {missing}, "
                         f"columns: {list(df.columns)}.")
    return columns


def _take(values: Any, mask: np.ndarray) -> Any:
    if isinstance(values, (pd.Series, pd.DataFrame)):
        return values.iloc[mask]
    return values[mask]
