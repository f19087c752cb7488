"""How a trial hands its data to Keras, and what an inline search does to garbage
collection: cheaper than Keras' defaults, and with the same results."""

import gc

import numpy as np
import pandas as pd
import pytest

from cerebros import SimpleCerebrosRandomSearch, trial

SCORES = ["trial_number", "epoch", "loss", "val_loss"]


def arrays_as_before(monkeypatch):
    """What trials did before: the validation rows given to Keras as arrays, and no
    ``steps_per_epoch``."""
    monkeypatch.setattr(trial, "_validation_batches",
                        lambda x_val, y_val, batch_size: (trial._bare(x_val), trial._bare(y_val)))
    monkeypatch.setattr(trial, "_steps_per_epoch", lambda data, training: None)


def multiple_inputs_and_outputs():
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=(200, 3)), rng.normal(size=(200, 2))
    y1, y2 = x1.sum(1), np.stack([x2[:, 0] + x2[:, 1], x2[:, 1] * 2], 1)
    return dict(input_shapes=[(3,), (2,)], output_shapes=[1, 2], training_data=[x1, x2],
                labels=[y1, y2], metric_to_rank_by="val_loss")


@pytest.mark.parametrize("shape", ["one input", "two inputs, two outputs"])
def test_every_epoch_scores_exactly_as_when_keras_is_given_the_arrays(shape, small_search,
                                                                      tmp_path, monkeypatch):
    """Validation rows as a plain ``tf.data`` pipeline of the same batches, and the steps
    per epoch told to Keras: every epoch's loss and validation scores are those of Keras
    given the arrays, partial last batches included (180 training rows and 60 validation
    rows in batches of 32)."""
    extra = multiple_inputs_and_outputs() if shape != "one input" else {}
    scores = {}
    for how in ("now", "before"):
        if how == "before":
            arrays_as_before(monkeypatch)
        search = SimpleCerebrosRandomSearch(**small_search(
            project_name=str(tmp_path / how), number_of_architecture_moities_to_try=2,
            epochs=3, **extra))
        search.run_random_search()
        frame = pd.read_csv(tmp_path / how / "oracle.csv")
        scores[how] = frame[SCORES + [c for c in frame.columns if c.startswith("val_")
                                      and c != "val_loss"]]
    assert len(scores["now"]) == 6
    pd.testing.assert_frame_equal(scores["now"], scores["before"], check_exact=True)


def test_an_inline_search_freezes_the_heap_only_while_it_runs_and_only_if_nothing_is_frozen(
        small_search, tmp_path):
    """Inline, the objects alive when the search starts stay out of garbage collections
    until it ends (each trial collects after clearing its session).  A process that froze
    objects itself (as this test suite does) is left as it was."""
    def run(name):
        seen = []
        search = SimpleCerebrosRandomSearch(**small_search(project_name=str(tmp_path / name)))
        search.run_random_search(on_trial_end=lambda progress: seen.append(gc.get_freeze_count()))
        return seen

    gc.unfreeze()  # what conftest froze
    try:
        during = run("unfrozen")
        after = gc.get_freeze_count()
    finally:
        gc.freeze()
    assert len(during) == 2 and all(count > 0 for count in during), during
    assert after == 0

    frozen = gc.get_freeze_count()  # frozen objects that are freed leave the count
    during = run("frozen")
    assert len(during) == 2 and max(during) <= frozen, (during, frozen)
    assert gc.get_freeze_count() <= frozen
