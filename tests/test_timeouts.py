"""trial_timeout_s inline: a slow trial stops at an epoch boundary and is recorded as failed,
and a resumed search retries it once, and only once.  (Worker processes and Ray: see
test_executors.py.)"""

import json

import pandas as pd

from cerebros import SimpleCerebrosRandomSearch
from trial_callbacks import SleepInTrial


def oracle(project):
    return pd.read_csv(project / "oracle.csv")


def test_inline_timeout_stops_at_an_epoch_boundary_and_a_resume_retries_it_once(small_search,
                                                                                tmp_path):
    project = tmp_path / "project"
    arguments = small_search(epochs=3, trial_timeout_s=6,
                             callbacks=[SleepInTrial([0], seconds=7)])
    SimpleCerebrosRandomSearch(**arguments).run_random_search()
    first = oracle(project)
    assert json.loads((project / "search_config.json").read_text())["trial_timeout_s"] == 6
    slow, other = first[first.trial_number == 0], first[first.trial_number == 1]
    assert (slow.status == "failed").all() and (slow.attempt == 1).all()
    assert slow.error.iloc[0] == ("TrialTimeout: the trial ran longer than trial_timeout_s=6 s;"
                                  " stopped after epoch 1")
    assert slow.epoch.tolist() == [0] and slow.loss.notna().all(), "the epoch it ran is kept"
    assert (other.status == "completed").all() and len(other) == 3
    assert [p.name for p in (project / "models").glob("*.keras")] == [
        "tr_0000000000000001_subtrial_0000000000000000.keras"], "no model of the stopped trial"

    # The first resume trains trial 0 once more (attempt 2); it times out again.
    SimpleCerebrosRandomSearch(**arguments).run_random_search()
    second = oracle(project)
    retried = second[second.trial_number == 0]
    assert len(retried) == 1 and retried.attempt.tolist() == [2]
    assert retried.error.iloc[0].startswith("TrialTimeout: ")
    assert retried.started_at.iloc[0] > slow.ended_at.iloc[0], "trained again"
    pd.testing.assert_frame_equal(second[second.trial_number == 1].reset_index(drop=True),
                                  other.reset_index(drop=True))

    # A second resume retries nothing: the oracle is left as it was.
    before = (project / "oracle.csv").read_bytes()
    SimpleCerebrosRandomSearch(**arguments).run_random_search()
    assert (project / "oracle.csv").read_bytes() == before
