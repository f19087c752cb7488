"""Tests for cerebros.data: conversion, guards, Keras-like splitting, leakage, hash split."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cerebros.data import LEAKAGE_PROBE_ROWS, PreparedData, hash_based_split, prepare_data

DATA_MODULE = Path(__file__).resolve().parents[1] / "cerebros" / "data.py"


def features(rows=20, width=3, seed=0):
    return np.random.default_rng(seed).normal(size=(rows, width))


def target(rows=20, seed=1):
    return np.random.default_rng(seed).normal(size=rows)


# --------------------------------------------------------------------------- conversion


def test_numpy_is_converted_to_contiguous_float32_and_1d_labels_to_columns():
    x = np.asfortranarray(features())
    prepared = prepare_data(x, target(), [3], [1])
    (x_out,), (y_out,) = prepared.x_train, prepared.y_train
    assert x_out.dtype == np.float32 and y_out.dtype == np.float32
    assert x_out.flags.c_contiguous and y_out.flags.c_contiguous
    assert y_out.shape == (20, 1)
    np.testing.assert_allclose(x_out, x.astype(np.float32))
    assert prepared.x_val is None and prepared.y_val is None
    assert prepared.n_train == 20 and prepared.n_val == 0


def test_pandas_dataframe_series_and_lists_of_several_inputs():
    frame = pd.DataFrame({"a": np.arange(20), "b": np.arange(20) % 2 == 0})
    second = pd.Series(np.linspace(0, 1, 20), name="c")
    labels = pd.Series(target(), name="y")
    prepared = prepare_data([frame, second], [labels], [(2,), 1], [(1,)], dtype="float64")
    assert [x.shape for x in prepared.x_train] == [(20, 2), (20, 1)]
    assert prepared.x_train[0].dtype == np.float64
    np.testing.assert_array_equal(prepared.x_train[0][:3], [[0, 1], [1, 0], [2, 1]])
    np.testing.assert_allclose(prepared.y_train[0][:, 0], labels.to_numpy())


def test_tensorflow_tensors_are_accepted():
    tf = pytest.importorskip("tensorflow")
    x = tf.constant(features(), dtype=tf.float64)
    y = tf.constant(target()[:, None])
    prepared = prepare_data([x], [y], [3], [1])
    assert isinstance(prepared.x_train[0], np.ndarray)
    np.testing.assert_allclose(prepared.x_train[0], x.numpy().astype(np.float32))
    assert prepared.y_train[0].shape == (20, 1)


def test_one_dimensional_feature_only_for_width_one():
    prepared = prepare_data(np.arange(20.0), target(), [1], [1])
    assert prepared.x_train[0].shape == (20, 1)
    with pytest.raises(ValueError, match=r"training_data\[0\].*input_shapes\[0\] is 3"):
        prepare_data(np.arange(20.0), target(), [3], [1])


def test_sparse_class_ids_may_feed_a_wider_output():
    ids = np.arange(20) % 4
    prepared = prepare_data(features(), ids, [3], [4])
    assert prepared.y_train[0].shape == (20, 1)
    with pytest.raises(ValueError, match=r"labels\[0\].*output_shapes\[0\] is 4"):
        prepare_data(features(), target(), [3], [4])


def test_prepared_data_requires_both_validation_parts():
    with pytest.raises(ValueError, match="x_val and y_val"):
        PreparedData([np.zeros((2, 1))], [np.zeros((2, 1))], x_val=[np.zeros((1, 1))])


# --------------------------------------------------------------------------- guards


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(training_data=[features()], input_widths=[3, 2]),
     r"input_shapes has 2 shapes but training_data has 1 input;.*fix input_shapes"),
    (dict(training_data=features(width=4)),
     r"training_data\[0\] has shape \(20, 4\) but input_shapes\[0\] is 3.*fix input_shapes"),
    (dict(labels=[target(), target()]),
     r"output_shapes has 1 shape but labels has 2 outputs;.*fix output_shapes"),
    (dict(labels=np.zeros((20, 3))),
     r"labels\[0\] has shape \(20, 3\) but output_shapes\[0\] is 1.*fix output_shapes"),
    (dict(training_data=np.zeros((0, 3)), labels=np.zeros(0)),
     r"training_data\[0\] has 0 rows"),
    (dict(training_data=[features(), features(19, 2)], input_widths=[3, 2]),
     r"training_data entries have different numbers of rows.*one row per sample"),
    (dict(labels=[target(), target(19)], output_widths=[1, 1]),
     r"labels entries have different numbers of rows"),
    (dict(labels=target(19)),
     r"training_data has 20 rows but labels has 19.*one label row per sample"),
    (dict(training_data=None), r"training_data is None"),
    (dict(training_data=[]), r"training_data is an empty list"),
    (dict(input_widths=[0]), r"input_shapes\[0\] must be a 1-D shape with a positive width.*got 0"),
    (dict(output_widths=3), r"output_shapes must be a non-empty list"),
    (dict(dtype="str"), r"dtype must be a numeric numpy dtype"),
    (dict(allow_label_leakage="yes"), r"allow_label_leakage must be True or False"),
])
def test_shape_and_count_guards(kwargs, pattern):
    arguments = dict(training_data=features(), labels=target(), input_widths=[3], output_widths=[1])
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=pattern):
        prepare_data(**arguments)


def test_non_numeric_dataframe_columns_are_named_with_the_fix():
    frame = pd.DataFrame({"a": np.arange(20.0), "city": ["x"] * 20,
                          "when": pd.date_range("2020-01-01", periods=20)})
    with pytest.raises(ValueError,
                       match=r"training_data\[0\].*\['city', 'when'\].*encode.*or drop"):
        prepare_data(frame, target(), [3], [1])


def test_non_numeric_numpy_and_series_are_rejected():
    mixed = np.array([[1.0, "a"], [2.0, "b"]], dtype=object)
    with pytest.raises(ValueError, match=r"training_data\[0\] has non-numeric columns \[1\]"):
        prepare_data(mixed, [1.0, 2.0], [2], [1])
    with pytest.raises(ValueError, match=r"training_data\[0\] has dtype <U1.*encode"):
        prepare_data(np.array(["a", "b"]), np.array([1.0, 2.0]), [1], [1])
    with pytest.raises(ValueError, match=r"labels\[0\] has non-numeric columns \['kind'\]"):
        prepare_data(np.zeros((2, 1)), pd.Series(["a", "b"], name="kind"), [1], [1])


def test_numeric_object_array_is_accepted():
    prepared = prepare_data(np.array([[1, 2.5], [3, 4]], dtype=object), np.array([0.0, 1.0]),
                            [2], [1])
    np.testing.assert_array_equal(prepared.x_train[0], [[1, 2.5], [3, 4]])


def test_nan_and_inf_are_reported_with_input_column_and_count():
    frame = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0), "c": np.arange(20.0)})
    frame.loc[3, "c"] = np.nan
    frame.loc[5, "b"] = np.inf
    frame.loc[6, "c"] = -np.inf
    with pytest.raises(ValueError, match=r"training_data\[0\] has 3 NaN or infinite values, "
                                         r"the first in column 'b'.*impute or drop"):
        prepare_data(frame, target(), [3], [1])


def test_nan_in_second_input_uses_index_or_feature_names():
    second = np.ones((20, 2))
    second[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"training_data\[1\] has 1 NaN.*column 1"):
        prepare_data([features(), second], target(), [3, 2], [1])
    with pytest.raises(ValueError, match=r"training_data\[1\].*column 'height'"):
        prepare_data([features(), second], target(), [3, 2], [1],
                     feature_names=[["a", "b", "c"], ["weight", "height"]])


def test_nan_in_labels_and_overflow_are_caught():
    labels = target()
    labels[7] = np.nan
    with pytest.raises(ValueError, match=r"labels\[0\] has 1 NaN"):
        prepare_data(features(), labels, [3], [1])
    huge = features()
    huge[0, 0] = 1e300
    with pytest.raises(ValueError, match=r"training_data\[0\] has 1 NaN or infinite.*float32"):
        prepare_data(huge, target(), [3], [1])


def test_pandas_missing_values_become_a_nan_error():
    frame = pd.DataFrame({"n": pd.array([1, None] * 10, dtype="Int64")})
    with pytest.raises(ValueError, match=r"training_data\[0\] has 10 NaN.*column 'n'"):
        prepare_data(frame, target(), [1], [1])


def test_feature_names_must_match_widths():
    with pytest.raises(ValueError, match=r"feature_names\[0\] must hold 3 names"):
        prepare_data(features(), target(), [3], [1], feature_names=["a", "b"])
    with pytest.raises(ValueError, match="feature_names has 2 list"):
        prepare_data(features(), target(), [3], [1], feature_names=[["a", "b", "c"], ["d"]])


@pytest.mark.parametrize("split", [-0.1, 1, 1.5, "0.2", True, math.nan, None])
def test_validation_split_must_be_a_number_in_unit_interval(split):
    with pytest.raises(ValueError, match=r"validation_split must be a number in \[0, 1\)"):
        prepare_data(features(), target(), [3], [1], validation_split=split)


def test_validation_split_and_validation_data_together_are_ambiguous():
    with pytest.raises(ValueError, match=r"validation_split=0.2 and validation_data.*ambiguous"
                                         r".*only one"):
        prepare_data(features(), target(), [3], [1], validation_split=0.2,
                     validation_data=([features(5)], [target(5)]))


def test_split_needs_a_row_on_each_side():
    with pytest.raises(ValueError, match=r"validation_split=0.99 with 20 rows leaves 0 training "
                                         r"and 20 validation.*more rows"):
        prepare_data(features(), target(), [3], [1], validation_split=0.99)
    with pytest.raises(ValueError, match=r"leaves 20 training and 0 validation rows"):
        prepare_data(features(), target(), [3], [1], validation_split=1e-20)


@pytest.mark.parametrize("validation, pattern", [
    (features(5), r"validation_data must be a pair \(x_list, y_list\).*got a ndarray"),
    (([features(5)],), r"validation_data must be a pair.*got a tuple of length 1"),
    (([features(5), features(5)], [target(5)]),
     r"validation_data\[0\] has 2 inputs but training_data has 1"),
    (([features(5, 2)], [target(5)]),
     r"validation_data\[0\]\[0\] has shape \(5, 2\) but input_shapes\[0\] is 3"),
    (([features(5)], [np.zeros((5, 2))]),
     r"validation_data\[1\]\[0\] has shape \(5, 2\) but output_shapes\[0\] is 1"),
    (([features(5)], [target(4)]),
     r"validation_data\[0\] has 5 rows but validation_data\[1\] has 4"),
    (([np.full((5, 3), np.nan)], [target(5)]), r"validation_data\[0\]\[0\] has 15 NaN"),
    (([features(0)], [target(0)]), r"validation_data\[0\]\[0\] has 0 rows"),
])
def test_validation_data_guards(validation, pattern):
    with pytest.raises(ValueError, match=pattern):
        prepare_data(features(), target(), [3], [1], validation_data=validation)


def test_validation_data_is_converted_and_kept():
    prepared = prepare_data(features(), target(), [3], [1],
                            validation_data=(features(5, seed=9), target(5)))
    assert prepared.n_train == 20 and prepared.n_val == 5
    assert prepared.x_val[0].dtype == np.float32 and prepared.y_val[0].shape == (5, 1)


def test_validation_dataframe_is_matched_to_the_training_columns_by_name():
    train = pd.DataFrame(features(), columns=["a", "b", "c"])
    valid = pd.DataFrame(features(5, seed=9), columns=["a", "b", "c"])
    reordered = valid[["c", "a", "b"]]
    prepared = prepare_data(train, target(), [3], [1], validation_data=([reordered], [target(5)]))
    np.testing.assert_array_equal(prepared.x_val[0], valid.to_numpy("float32"))
    # A second input given as numpy stays positional.
    prepared = prepare_data([train, features(seed=3)], target(), [3, 3], [1],
                            validation_data=([reordered, features(5)], [target(5)]))
    np.testing.assert_array_equal(prepared.x_val[0], valid.to_numpy("float32"))


@pytest.mark.parametrize("columns, pattern", [
    (["a", "b", "zzz"], r"validation_data\[0\]\[0\] must have the columns of "
                        r"training_data\[0\], matched by name; it lacks \['c'\]; it has "
                        r"\['zzz'\] in addition"),
    (["x", "y", "z"], r"it lacks \['a', 'b', 'c'\]; it has \['x', 'y', 'z'\] in addition"),
])
def test_validation_dataframe_with_other_column_names_is_refused(columns, pattern):
    train = pd.DataFrame(features(), columns=["a", "b", "c"])
    valid = pd.DataFrame(features(5, seed=9), columns=columns)
    with pytest.raises(ValueError, match=pattern):
        prepare_data(train, target(), [3], [1], validation_data=([valid], [target(5)]))


# --------------------------------------------------------------------------- split


@pytest.mark.parametrize("rows, split", [(10, 0.2), (10, 0.25), (7, 0.5), (101, 0.1), (3, 0.34)])
def test_validation_split_matches_keras(rows, split):
    array_slicing = pytest.importorskip("keras.src.trainers.data_adapters.array_slicing")
    x = np.arange(rows * 2, dtype=np.float32).reshape(rows, 2)
    y = np.arange(rows, dtype=np.float32).reshape(rows, 1) * 10 + 0.5
    (x_fit, y_fit), (x_check, y_check) = array_slicing.train_validation_split((x, y), split)
    prepared = prepare_data(x, y, [2], [1], validation_split=split)
    np.testing.assert_array_equal(prepared.x_train[0], x_fit)
    np.testing.assert_array_equal(prepared.y_train[0], y_fit)
    np.testing.assert_array_equal(prepared.x_val[0], x_check)
    np.testing.assert_array_equal(prepared.y_val[0], y_check)
    assert prepared.n_train == int(rows * (1 - split))


def test_split_keeps_first_rows_for_training_in_every_input():
    x1, x2 = features(10), np.arange(10.0)
    prepared = prepare_data([x1, x2], target(10), [3, 1], [1], validation_split=0.3)
    np.testing.assert_array_equal(prepared.x_train[1][:, 0], np.arange(7.0))
    np.testing.assert_array_equal(prepared.x_val[1][:, 0], [7.0, 8.0, 9.0])
    assert all(x.flags.c_contiguous for x in prepared.x_train + prepared.x_val)


# --------------------------------------------------------------------------- leakage


def test_leaked_label_column_is_named_with_the_opt_out():
    frame = pd.DataFrame({"area": target(seed=3), "rooms": target(seed=4)})
    price = pd.Series(target(seed=5), name="price")
    leaky = frame.assign(copy_of_price=price)
    with pytest.raises(ValueError, match=r"training_data\[0\] column 'copy_of_price' equals "
                                         r"labels\[0\] column 'price'.*allow_label_leakage=True"):
        prepare_data(leaky, price, [3], [1])
    prepared = prepare_data(leaky, price, [3], [1], allow_label_leakage=True)
    assert prepared.x_train[0].shape == (20, 3)


def test_leakage_in_a_later_input_and_label_column_by_index():
    labels = features(20, 2, seed=7)
    second = np.column_stack([target(seed=8), labels[:, 1]])
    with pytest.raises(ValueError,
                       match=r"training_data\[1\] column 1 equals labels\[0\] column 1"):
        prepare_data([features(), second], labels, [3, 2], [2])


def test_column_equal_on_probe_rows_only_is_not_leakage():
    rows = LEAKAGE_PROBE_ROWS + 10
    label = target(rows)
    almost = label.copy()
    almost[-1] += 1.0
    prepared = prepare_data(np.column_stack([almost, target(rows, seed=2)]), label, [2], [1])
    assert prepared.n_train == rows


# --------------------------------------------------------------------------- fingerprint


def test_fingerprint_is_stable_and_sensitive():
    x, y = features(), target()
    first = prepare_data(x, y, [3], [1], validation_split=0.2).fingerprint()
    assert first == prepare_data(x.copy(), y.copy(), [3], [1], validation_split=0.2).fingerprint()
    assert len(first) == 64 and int(first, 16) >= 0
    changed = x.copy()
    changed[19, 2] += 1
    others = {
        prepare_data(changed, y, [3], [1], validation_split=0.2).fingerprint(),
        prepare_data(x, y, [3], [1], validation_split=0.3).fingerprint(),
        prepare_data(x, y, [3], [1]).fingerprint(),
        prepare_data(x, y, [3], [1], validation_split=0.2, dtype="float64").fingerprint(),
    }
    assert first not in others and len(others) == 4


# --------------------------------------------------------------------------- hash split


def frame_of(rows, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.integers(0, 1000, rows), "b": rng.normal(size=rows),
                         "c": rng.choice(["x", "y", "z"], rows)},
                        index=pd.RangeIndex(100, 100 + rows))


def test_identical_rows_land_on_the_same_side():
    base = frame_of(50)
    doubled = pd.concat([base, base.iloc[::-1]], ignore_index=True)
    labels = np.arange(len(doubled))  # labels differ: only the features are hashed
    _, _, test_df, test_labels = hash_based_split(doubled, labels, 0.4)
    test_positions = set(test_labels.tolist())
    for position in range(50):
        twin = 99 - position
        assert (position in test_positions) == (twin in test_positions)
    assert 0 < len(test_df) < len(doubled)


def test_fraction_is_close_to_test_size_on_10k_rows():
    df = frame_of(10_000)
    for size in (0.2, 0.5):
        _, _, test_df, _ = hash_based_split(df, df["b"], size)
        assert abs(len(test_df) / len(df) - size) < 0.03


def test_label_column_is_removed_and_index_order_preserved():
    df = frame_of(200)
    train_df, train_labels, test_df, test_labels = hash_based_split(df, "b", 0.3)
    assert "b" not in train_df.columns and "b" not in test_df.columns
    assert list(train_df.index) == sorted(train_df.index)
    assert list(test_df.index) == sorted(test_df.index)
    assert train_labels.index.equals(train_df.index) and test_labels.index.equals(test_df.index)
    pd.testing.assert_series_equal(test_labels, df.loc[test_df.index, "b"])


def test_numpy_labels_follow_their_rows():
    df = frame_of(300)
    labels = np.arange(300) * 2
    train_df, train_labels, test_df, test_labels = hash_based_split(df, labels, 0.25)
    assert isinstance(test_labels, np.ndarray)
    np.testing.assert_array_equal(test_labels, (test_df.index.to_numpy() - 100) * 2)
    np.testing.assert_array_equal(train_labels, (train_df.index.to_numpy() - 100) * 2)


def test_hash_column_selection():
    df = frame_of(500)
    train_df, _, test_df, _ = hash_based_split(df, "b", 0.5, hash_column="c")
    # rows are grouped by their "c" value alone: each value lies entirely on one side
    assert set(train_df["c"]).isdisjoint(test_df["c"])
    assert set(train_df["c"]) | set(test_df["c"]) == {"x", "y", "z"}
    by_list = hash_based_split(df, "b", 0.5, hash_column=["a", "c"])[2].index
    by_a_c = hash_based_split(df[["a", "c"]], df["b"], 0.5)[2].index
    assert by_list.equals(by_a_c)
    assert not hash_based_split(df, "b", 0.5, hash_column="a")[2].index.equals(by_list)


def test_same_split_in_a_fresh_process_without_tensorflow():
    df = frame_of(400)
    _, _, test_df, _ = hash_based_split(df, "b", 0.3)
    script = (
        "import json, os, sys, types\n"
        "package = types.ModuleType('cerebros')\n"
        "package.__path__ = [os.path.dirname(sys.argv[1])]\n"
        "sys.modules['cerebros'] = package\n"
        "import cerebros.data as module\n"
        "import numpy as np, pandas as pd\n"
        "rng = np.random.default_rng(0)\n"
        "df = pd.DataFrame({'a': rng.integers(0, 1000, 400), 'b': rng.normal(size=400),\n"
        "                   'c': rng.choice(['x', 'y', 'z'], 400)},\n"
        "                  index=pd.RangeIndex(100, 500))\n"
        "print(json.dumps([int(i) for i in module.hash_based_split(df, 'b', 0.3)[2].index]))\n"
        "print('tensorflow' in sys.modules)\n"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    result = subprocess.run([sys.executable, "-c", script, str(DATA_MODULE)], env=env,
                            capture_output=True, text=True, check=True, timeout=120)
    split_line, tensorflow_line = result.stdout.splitlines()
    assert json.loads(split_line) == list(test_df.index)
    assert tensorflow_line == "False"  # the module never imports TensorFlow


@pytest.mark.parametrize("size", [0, 1, -0.5, 1.2, "0.3", True, math.nan])
def test_test_size_must_be_in_open_unit_interval(size):
    with pytest.raises(ValueError, match=r"test_size must be a number in \(0, 1\)"):
        hash_based_split(frame_of(10), "b", size)


def test_hash_split_argument_guards():
    df = frame_of(10)
    with pytest.raises(ValueError, match="df must be a pandas DataFrame.*pandas.DataFrame"):
        hash_based_split(df.to_numpy(), "b", 0.3)
    with pytest.raises(ValueError, match=r"labels='price' is not a column of df"):
        hash_based_split(df, "price", 0.3)
    with pytest.raises(ValueError, match="labels has 9 rows but df has 10 rows"):
        hash_based_split(df, np.arange(9), 0.3)
    with pytest.raises(ValueError, match=r"hash_column='zz'.*not found: \['zz'\]"):
        hash_based_split(df, "b", 0.3, hash_column="zz")
    with pytest.raises(ValueError, match=r"hash_column=\[\].*non-empty list"):
        hash_based_split(df, "b", 0.3, hash_column=[])


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.tuples(st.integers(-5, 5), st.sampled_from(["p", "q", ""])),
                       min_size=1, max_size=40),
       size=st.floats(0.01, 0.99))
def test_hash_split_is_a_partition_of_the_rows(values, size):
    df = pd.DataFrame(values, columns=["n", "s"], index=np.arange(len(values)) * 3)
    labels = pd.Series(np.arange(len(values)), index=df.index)
    train_df, train_labels, test_df, test_labels = hash_based_split(df, labels, size)
    assert set(train_df.index).isdisjoint(test_df.index)
    assert sorted(train_df.index.tolist() + test_df.index.tolist()) == df.index.tolist()
    pd.testing.assert_frame_equal(pd.concat([train_df, test_df]).sort_index(), df)
    assert train_labels.index.equals(train_df.index) and test_labels.index.equals(test_df.index)
    key = {row: (row in set(map(tuple, test_df.to_numpy().tolist()))) for row in values}
    for row, in_test in zip(map(tuple, df.to_numpy().tolist()), df.index.isin(test_df.index)):
        assert key[row] == in_test


def test_feature_bounds_hold_sparse_columns_and_let_dense_ones_extrapolate():
    from cerebros.data import feature_bounds

    rng = np.random.default_rng(0)
    dense = rng.uniform(2008, 2010, size=1000)
    sparse = np.zeros(1000)
    sparse[0] = 144.0  # one pool among 1000 houses: inside the top 0.1 %
    (low, high), = feature_bounds([np.stack([dense, sparse], 1)], 0.001, 1.0)
    q_lo, q_hi = np.quantile(dense, [0.001, 0.999])
    assert low[0] == pytest.approx(q_lo - (q_hi - q_lo)) and high[0] == pytest.approx(
        q_hi + (q_hi - q_lo)), "a later year stays within reach"
    assert high[1] < 1.0, "a column that is zero in 99.9 % of training rows is held near zero"
    (low0, high0), = feature_bounds([np.stack([dense, sparse], 1)], 0.0, 0.0)
    assert (low0, high0) == ([dense.min(), 0.0], [dense.max(), 144.0])
    with pytest.raises(ValueError, match="clip_margin must be a finite number >= 0.0"):
        feature_bounds([dense[:, None]], 0.001, -0.5)


@pytest.mark.parametrize("target_std", [1.0, 1000.0, None])
def test_target_scaling_gives_the_network_targets_of_the_asked_spread(target_std):
    from cerebros.data import target_scaling

    prices = np.random.default_rng(3).normal(180_000, 80_000, size=(500, 1))
    constant = np.full((500, 1), 7.0)
    (mean, scale), (c_mean, c_scale), none = target_scaling(
        [prices, constant, prices], [True, True, False], target_std)
    z = (prices[:, 0] - mean[0]) / scale[0]
    assert z.mean() == pytest.approx(0.0, abs=1e-9)
    if target_std is None:
        assert scale == [1.0], "centred only: the labels' own units"
        assert z.std() == pytest.approx(prices.std())
    else:
        assert z.std() == pytest.approx(target_std)
    assert c_mean == [7.0] and ((constant[:, 0] - c_mean[0]) / c_scale[0] == 0).all()
    assert none is None
    assert target_scaling([prices], [False], target_std) is None
