"""run_random_search(on_trial_end=...): the per-trial hook the meta-search reports through."""

import math

import pandas as pd
import pytest

from cerebros import SimpleCerebrosRandomSearch


class Stop(Exception):
    pass


def test_the_hook_sees_every_trial_with_the_best_so_far_and_can_stop_the_search(small_search):
    seen = []
    search = SimpleCerebrosRandomSearch(**small_search(number_of_architecture_moities_to_try=3))
    best = search.run_random_search(on_trial_end=seen.append)
    assert [p.finished for p in seen] == [1, 2, 3] and {p.total for p in seen} == {3}
    assert [p.record.trial_number for p in seen] == [0, 1, 2]
    values = [p.best_value for p in seen]
    assert all(math.isfinite(v) for v in values)
    assert values == sorted(values, reverse=True), "best so far never gets worse"
    assert values[-1] == pytest.approx(best)

    def stop_after_first(progress):
        if progress.finished >= 1:
            raise Stop

    again = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=3, project_name=str(search.project.root) + "2"))
    with pytest.raises(Stop):
        again.run_random_search(on_trial_end=stop_after_first)
    assert set(pd.read_csv(again.project.oracle_path)["trial_number"]) == {0}, \
        "the hook's exception stops the search after the trial it saw"
    resumed = []
    again.run_random_search(on_trial_end=resumed.append)
    assert [p.finished for p in resumed] == [2, 3], "finished counts the earlier run's trials"
