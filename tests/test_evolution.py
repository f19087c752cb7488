"""Property-based tests of the regularized-evolution mutations (no TensorFlow).

The wiring rules are checked here independently of cerebros.wiring and cerebros.evolution:
connections are grouped per unit straight from ``plan.connections``.
"""

import json
import math
import random
import re
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from cerebros.config import WiringConfig
from cerebros.evolution import (MAX_REMUTATIONS, MUTATIONS, SearchBounds, applicable_mutations,
                                breed, mutate_plan, same_wiring, shared_units,
                                tournament_select)
from cerebros.spec import NetworkSpec, sample_spec
from cerebros.wiring import WiringPlan, plan_wiring
from strategies import wiring_configs

# --------------------------------------------------------------------------- strategies

bounds_strategy = st.builds(
    lambda lv, dlv, u, du, n, dn: SearchBounds((lv, lv + dlv), (u, u + du), (n, n + dn)),
    st.integers(1, 4), st.integers(0, 2), st.integers(1, 3), st.integers(0, 3),
    st.integers(1, 4), st.integers(0, 4))

configs = wiring_configs(max_extra_depth=3, max_first=4, max_main=2, max_final=2,
                         p_lateral=st.sampled_from([0.0, 0.3, 0.97, 1.0]), max_tries=3,
                         max_cap=6)

seeds = st.integers(0, 2**32 - 1)


@st.composite
def cases(draw):
    """A parent planned by plan_wiring from a spec sampled within random bounds."""
    bounds, cfg, seed = draw(bounds_strategy), draw(configs), draw(seeds)
    inputs = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    outputs = draw(st.lists(st.integers(1, 3), min_size=1, max_size=2))
    rng = np.random.default_rng(seed)
    spec = sample_spec(rng, inputs, outputs, bounds.levels, bounds.units_per_level,
                       bounds.neurons_per_unit)
    return plan_wiring(spec, cfg, rng), cfg, bounds


# --------------------------------------------------------------------------- independent rules

def inputs_of(plan):
    """Each non-input unit's incoming connections, in the order of plan.connections."""
    inputs = {(level, unit): [] for level in range(1, len(plan.widths))
              for unit in range(len(plan.widths[level]))}
    for c in plan.connections:
        inputs[c.target].append(c)
    return inputs


def assert_follows_wiring_rules(plan, cfg):
    plan.validate()
    widths, final, depth = plan.widths, len(plan.widths) - 1, cfg.maximum_skip_connection_depth
    for c in plan.connections:
        (sl, su), (tl, tu) = c.source, c.target
        assert 0 <= sl < len(widths) and 0 < tl < len(widths)
        assert 0 <= su < len(widths[sl]) and 0 <= tu < len(widths[tl])
        if c.kind == "vertical":
            assert not c.gated
            assert tl - sl >= 1, "vertical connections go down"
            assert tl - sl <= depth or tl == final, "within D, except repairs into the final level"
        else:
            assert c.kind == "lateral"
            assert sl == tl and su < tu, "laterals from a lower id on the same level"
            assert 0 < tl < final, "laterals only on hidden levels"
    for (level, unit), connections in inputs_of(plan).items():
        assert connections, f"u{level}_{unit} has no inputs"
        verticals = [c.source[0] for c in connections if c.kind == "vertical"]
        # Hidden units need a parent-level input; plan_wiring gives final units one too.
        assert level - 1 in verticals, f"u{level}_{unit} has no input from level {level - 1}"
        if level == 1:
            assert set(verticals) == {0}, "level-1 units draw only from the inputs"
        laterals = Counter(c.source for c in connections if c.kind == "lateral")
        assert all(n <= cfg.num_lateral_connection_tries_per_unit for n in laterals.values()), \
            "each lower unit of the level is tried `tries` times"
    # Rule 2: every input and hidden unit feeds a unit below it within D (or the final level).
    fed = {c.source for c in plan.connections if c.kind == "vertical"
           and (c.target[0] - c.source[0] <= depth or c.target[0] == final)}
    assert fed == {(level, u) for level in range(final) for u in range(len(widths[level]))}
    # This implementation is stricter than the rule: it never stretches a connection past D.
    assert all(c.target[0] - c.source[0] <= depth for c in plan.connections)


def assert_in_bounds(child, parent, bounds):
    assert child.widths[0] == parent.widths[0] and child.widths[-1] == parent.widths[-1]
    assert child.params == parent.params
    assert bounds.levels[0] <= len(child.widths) - 1 <= bounds.levels[1]
    for level in child.widths[1:-1]:
        assert bounds.units_per_level[0] <= len(level) <= bounds.units_per_level[1]
        assert all(bounds.neurons_per_unit[0] <= w <= bounds.neurons_per_unit[1] for w in level)


def assert_round_trips(plan):
    restored = WiringPlan.from_dict(json.loads(json.dumps(plan.to_dict())))
    assert restored == plan


def assert_inputs_preserved(parent, child, mapping, cfg, redrawn=()):
    """Every surviving unit keeps its surviving inputs, renumbered by ``mapping``, in order,
    followed only by vertical (rule-2 repair) connections -- unless it was re-drawn (it lost
    its parent-level input, or it is in ``redrawn``): then it keeps just its laterals."""
    depth = cfg.maximum_skip_connection_depth
    child_inputs = inputs_of(child)
    appended_sources = []
    for target, connections in inputs_of(parent).items():
        new_target = mapping(target)
        if new_target is None:
            continue
        kept = []
        for c in connections:
            source = mapping(c.source)
            if source is None or (c.kind == "vertical" and new_target[0] - source[0] > depth):
                continue
            kept.append((source, c.kind, c.gated))
        got = [(c.source, c.kind, c.gated) for c in child_inputs[new_target]]
        has_parent_input = any(k == "vertical" and s[0] == new_target[0] - 1 for s, k, _ in kept)
        if has_parent_input and new_target not in redrawn:
            assert got[:len(kept)] == kept, f"{target} -> {new_target} lost or reordered inputs"
            assert all(k == "vertical" for _, k, _ in got[len(kept):])
            appended_sources += [s for s, _, _ in got[len(kept):]]
        else:
            assert [x for x in got if x[1] == "lateral"] == [x for x in kept if x[1] == "lateral"]
    assert len(appended_sources) == len(set(appended_sources)), "one repair per orphan"


def unit_in(description):
    level, unit = re.search(r"\bu(\d+)_(\d+)\b", description).groups()
    return int(level), int(unit)


def number_after(description, word):
    return int(re.search(rf"\b{word} (\d+)", description).group(1))


def identity(unit):
    return unit


def assert_mutation_happened(kind, parent, child, description, cfg):
    """The child differs from the parent exactly as the described mutation says."""
    assert description.split()[0] == kind
    pw, cw = parent.widths, child.widths
    hidden = range(1, len(pw) - 1)
    if kind == "unit_width":
        level, unit = unit_in(description)
        assert level in hidden
        changed = [(lv, u) for lv in range(len(pw)) if len(pw[lv]) == len(cw[lv])
                   for u in range(len(pw[lv])) if pw[lv][u] != cw[lv][u]]
        assert [len(ws) for ws in pw] == [len(ws) for ws in cw] and changed == [(level, unit)]
        assert description.endswith(f"{pw[level][unit]}->{cw[level][unit]}")
        assert child.connections == parent.connections
    elif kind == "add_unit":
        level, unit = unit_in(description)
        assert level in hidden and unit == len(pw[level])
        assert cw[:level] + cw[level + 1:] == pw[:level] + pw[level + 1:]
        assert cw[level][:-1] == pw[level] and len(cw[level]) == len(pw[level]) + 1
        assert_inputs_preserved(parent, child, identity, cfg)
    elif kind == "remove_unit":
        level, unit = unit_in(description)
        assert level in hidden
        assert cw[:level] + cw[level + 1:] == pw[:level] + pw[level + 1:]
        assert cw[level] == pw[level][:unit] + pw[level][unit + 1:]
        assert_inputs_preserved(parent, child, lambda u: u if u[0] != level or u[1] < unit else (
            None if u[1] == unit else (level, u[1] - 1)), cfg)
    elif kind == "add_level":
        level = number_after(description, "add_level")
        assert 1 <= level < len(cw) - 1 and len(cw) == len(pw) + 1
        assert cw[:level] + cw[level + 1:] == pw
        assert_inputs_preserved(parent, child, lambda u: (u[0] + 1, u[1]) if u[0] >= level else u,
                                cfg, redrawn={(level + 1, u) for u in range(len(cw[level + 1]))})
        below = inputs_of(child)
        assert all(any(c.source[0] == level for c in below[(level + 1, u)])
                   for u in range(len(cw[level + 1]))), "the level below draws from the new one"
    elif kind == "remove_level":
        level = number_after(description, "remove_level")
        assert level in hidden and cw == pw[:level] + pw[level + 1:]
        assert_inputs_preserved(parent, child, lambda u: u if u[0] < level else (
            None if u[0] == level else (u[0] - 1, u[1])), cfg)
    elif kind == "redraw_inputs":
        unit = unit_in(description)
        assert cw == pw
        assert_inputs_preserved(parent, child, identity, cfg, redrawn={unit})
    elif kind == "redraw_laterals":
        level = number_after(description, "level")
        assert level in hidden and cw == pw
        before, after = inputs_of(parent), inputs_of(child)
        counts = [sum(c.kind == "lateral" and c.target[0] == level for c in plan.connections)
                  for plan in (parent, child)]
        assert description.endswith(f"{counts[0]}->{counts[1]} laterals")
        for unit in before:
            verticals = [[c for c in ins[unit] if c.kind == "vertical"] for ins in (before, after)]
            laterals = [[c for c in ins[unit] if c.kind == "lateral"] for ins in (before, after)]
            assert verticals[0] == verticals[1], "vertical inputs untouched, no repairs"
            if unit[0] != level:
                assert laterals[0] == laterals[1], "only one level's laterals change"
    else:  # pragma: no cover
        raise AssertionError(kind)


# --------------------------------------------------------------------------- mutations

@settings(max_examples=120, deadline=None)
@given(case=cases(), seed=seeds)
def test_every_mutation_kind_follows_the_rules(case, seed):
    parent, cfg, bounds = case
    applicable = applicable_mutations(parent, cfg, bounds)
    for kind in MUTATIONS:
        if kind not in applicable:
            with pytest.raises(ValueError, match=kind):
                mutate_plan(parent, cfg, bounds, np.random.default_rng(seed), kind)
            continue
        child, description = mutate_plan(parent, cfg, bounds, np.random.default_rng(seed), kind)
        again = mutate_plan(parent, cfg, bounds, np.random.default_rng(seed), kind)
        assert again == (child, description), "same seed, same child"
        assert_follows_wiring_rules(child, cfg)
        assert_in_bounds(child, parent, bounds)
        assert_mutation_happened(kind, parent, child, description, cfg)
        assert_round_trips(child)


@settings(max_examples=60, deadline=None)
@given(case=cases(), seed=seeds)
def test_chains_of_random_mutations_stay_valid_and_deterministic(case, seed):
    parent, cfg, bounds = case
    if not applicable_mutations(parent, cfg, bounds):
        with pytest.raises(ValueError, match="no mutation applies"):
            mutate_plan(parent, cfg, bounds, np.random.default_rng(seed))
        return
    rng, replay = np.random.default_rng(seed), np.random.default_rng(seed)
    for _ in range(4):
        applicable = applicable_mutations(parent, cfg, bounds)
        if not applicable:
            break
        child, description = mutate_plan(parent, cfg, bounds, rng)
        assert mutate_plan(parent, cfg, bounds, replay) == (child, description)
        kind = description.split()[0]
        assert kind in applicable
        assert_follows_wiring_rules(child, cfg)
        assert_in_bounds(child, parent, bounds)
        assert_mutation_happened(kind, parent, child, description, cfg)
        parent = child


def test_mutations_use_no_global_randomness():
    cfg, bounds = WiringConfig(), SearchBounds((1, 5), (1, 5), (1, 9))
    plan = plan_wiring(NetworkSpec(((3, 2), (4, 4, 4), (2, 5), (1,))), cfg,
                       np.random.default_rng(0))
    np.random.seed(1)
    random.seed(1)
    numpy_state, python_state = np.random.get_state()[1].copy(), random.getstate()
    results = [mutate_plan(plan, cfg, bounds, np.random.default_rng(7), kind) for kind in MUTATIONS]
    assert (np.random.get_state()[1] == numpy_state).all() and random.getstate() == python_state
    assert results == [mutate_plan(plan, cfg, bounds, np.random.default_rng(7), kind)
                       for kind in MUTATIONS]
    assert len({d for _, d in (mutate_plan(plan, cfg, bounds, np.random.default_rng(s))
                               for s in range(20))}) > 5, "different seeds, different children"


def test_inapplicable_mutations_are_refused_with_their_name():
    cfg = WiringConfig()
    plan = plan_wiring(NetworkSpec(((3, 2), (4,), (4,), (1,))), cfg, np.random.default_rng(0))
    bounds = SearchBounds((3, 3), (1, 1), (1, 8))
    assert applicable_mutations(plan, cfg, bounds) == ("unit_width", "redraw_inputs")
    for kind, why in [("add_level", "maximum of bounds.levels"),
                      ("remove_level", "minimum of bounds.levels"),
                      ("add_unit", "maximum of bounds.units_per_level"),
                      ("remove_unit", "minimum of bounds.units_per_level"),
                      ("redraw_laterals", "no hidden level has 2 or more units")]:
        with pytest.raises(ValueError, match=rf"'{kind}' does not apply.*{re.escape(why)}"):
            mutate_plan(plan, cfg, bounds, np.random.default_rng(0), kind)
    for seed in range(5):
        assert mutate_plan(plan, cfg, bounds, np.random.default_rng(seed))[1].split()[0] in (
            "unit_width", "redraw_inputs")
    wide = plan_wiring(NetworkSpec(((3,), (4, 4), (1,))), cfg, np.random.default_rng(0))
    assert "redraw_laterals" in applicable_mutations(wide, cfg, bounds)
    no_laterals = cfg.replace(p_lateral_connection=0.0)
    with pytest.raises(ValueError, match="redraw_laterals.*impossible"):
        mutate_plan(wide, no_laterals, bounds, np.random.default_rng(0), "redraw_laterals")
    with pytest.raises(ValueError, match="unit_width.*one width only"):
        mutate_plan(plan, cfg, SearchBounds((3, 3), (1, 1), (4, 4)), np.random.default_rng(0),
                    "unit_width")


def test_a_plan_nothing_can_change_is_refused():
    # One input, no hidden level, one output: the only draw is fixed, nothing else is allowed.
    cfg = WiringConfig()
    plan = plan_wiring(NetworkSpec(((3,), (1,))), cfg, np.random.default_rng(0))
    bounds = SearchBounds((1, 1), (1, 2), (1, 4))
    assert applicable_mutations(plan, cfg, bounds) == ()
    with pytest.raises(ValueError, match="no mutation applies"):
        mutate_plan(plan, cfg, bounds, np.random.default_rng(0))
    assert applicable_mutations(plan, cfg, SearchBounds((1, 2), (1, 2), (1, 4))) == ("add_level",)


def test_add_level_before_the_final_level_and_remove_it_again():
    cfg = WiringConfig(maximum_skip_connection_depth=1)
    plan = plan_wiring(NetworkSpec(((2, 2), (3,))), cfg, np.random.default_rng(0))
    bounds = SearchBounds((1, 2), (2, 2), (5, 5))
    child, description = mutate_plan(plan, cfg, bounds, np.random.default_rng(0), "add_level")
    assert description == "add_level 1 [5, 5]" and child.widths == ((2, 2), (5, 5), (3,))
    assert all(c.target[0] - c.source[0] == 1 for c in child.connections
               if c.kind == "vertical"), "D = 1"
    assert_follows_wiring_rules(child, cfg)
    back, description = mutate_plan(child, cfg, bounds, np.random.default_rng(0), "remove_level")
    assert description == "remove_level 1 [5, 5]" and back.widths == plan.widths
    assert_follows_wiring_rules(back, cfg)


def test_bad_arguments_name_the_argument():
    cfg, bounds = WiringConfig(), SearchBounds((1, 3), (1, 3), (1, 3))
    plan = plan_wiring(NetworkSpec(((2,), (2, 2), (1,))), cfg, np.random.default_rng(0))
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="kind must be one of .*; got 'grow'"):
        mutate_plan(plan, cfg, bounds, rng, "grow")
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator.*; got 0"):
        mutate_plan(plan, cfg, bounds, 0)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        mutate_plan(plan, cfg, bounds, np.random.RandomState(0))
    with pytest.raises(ValueError, match="plan must be a WiringPlan; got dict"):
        mutate_plan(plan.to_dict(), cfg, bounds, rng)
    with pytest.raises(ValueError, match="config must be a WiringConfig"):
        mutate_plan(plan, {}, bounds, rng)
    with pytest.raises(ValueError, match="bounds must be a SearchBounds"):
        mutate_plan(plan, cfg, (1, 3), rng)
    for bad in [(3, 1), (0, 2), (1,), (1.0, 2), "12", (True, 2)]:
        with pytest.raises(ValueError, match=r"^(levels must be a pair|(minimum|maximum)_levels "
                                             r"must be)"):
            SearchBounds(bad, (1, 2), (1, 2))
    with pytest.raises(ValueError, match="minimum_neurons_per_unit must be <= "
                                         "maximum_neurons_per_unit; got 5 > 4"):
        SearchBounds((1, 2), (1, 2), (5, 4))
    assert SearchBounds([1, np.int64(2)], (1, 2), (1, 2)).levels == (1, 2)


# --------------------------------------------------------------------------- tournaments

score_lists = st.lists(st.one_of(st.floats(-100, 100), st.just(math.nan)), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(scores=score_lists, size=st.integers(1, 15),
       direction=st.sampled_from(["minimize", "maximize"]), seed=seeds)
def test_tournament_winner_is_the_best_of_its_sample(scores, size, direction, seed):
    valid = [i for i, s in enumerate(scores) if not math.isnan(s)]
    if not valid:
        with pytest.raises(ValueError, match="all NaN"):
            tournament_select(scores, np.random.default_rng(seed), size, direction)
        return
    winner = tournament_select(scores, np.random.default_rng(seed), size, direction)
    assert winner == tournament_select(scores, np.random.default_rng(seed), size, direction)
    assert winner in valid, "NaN never wins"
    sign = 1 if direction == "minimize" else -1
    # The winner beat (or tied) the size - 1 others of its sample, all drawn without
    # replacement among the non-NaN scores.
    no_better = [i for i in valid if i != winner and sign * scores[i] >= sign * scores[winner]]
    assert len(no_better) >= min(size, len(valid)) - 1
    if size >= len(valid):
        best = min(sign * scores[i] for i in valid)
        assert winner == min(i for i in valid if sign * scores[i] == best), "best, lowest index"


def test_tournament_samples_without_replacement_and_clips_the_size():
    rng = np.random.default_rng(0)
    scores = [5.0, 1.0, 3.0, math.nan, 4.0]
    assert {tournament_select(scores, rng, size=4) for _ in range(20)} == {1}
    assert {tournament_select(scores, rng, size=99, direction="maximize") for _ in range(20)} == {0}
    counts = np.bincount([tournament_select(scores, rng, size=1) for _ in range(2000)], minlength=5)
    assert counts[3] == 0 and all(400 < n < 600 for n in counts[[0, 1, 2, 4]]), "size 1: uniform"
    # Size 2 among 4: the worst of the 4 valid scores can never win.
    assert 0 not in {tournament_select(scores, rng, size=2) for _ in range(200)}
    assert tournament_select([math.nan, None, 2.0], rng, size=1) == 2


def test_tournament_bad_arguments():
    rng = np.random.default_rng(0)
    for size in (0, -1, 1.5, True, "3"):
        with pytest.raises(ValueError, match=r"size must be an int >= 1; got "):
            tournament_select([1.0, 2.0], rng, size=size)
    with pytest.raises(ValueError, match="direction must be one of .*; got 'up'"):
        tournament_select([1.0, 2.0], rng, direction="up")
    for scores in ([], [[1.0]], ["a"], None):
        with pytest.raises(ValueError, match="scores must be a non-empty sequence of numbers"):
            tournament_select(scores, rng)
    with pytest.raises(ValueError, match="scores are all NaN"):
        tournament_select([math.nan, math.nan], rng)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        tournament_select([1.0], 0)


# --------------------------------------------------------------------------- breeding

def population(cfg, bounds, n=6, seed=0):
    rng = np.random.default_rng(seed)
    return [plan_wiring(sample_spec(rng, (3, 2), (1,), bounds.levels, bounds.units_per_level,
                                    bounds.neurons_per_unit), cfg, rng) for _ in range(n)]


def test_breed_children_follow_the_rules_and_differ_from_their_parents():
    cfg, bounds = WiringConfig(), SearchBounds((1, 4), (1, 4), (1, 8))
    parents = population(cfg, bounds)
    scores = [0.5, math.nan, 0.2, 0.9, 0.4, math.nan]
    children = breed(parents, scores, 25, cfg, bounds, np.random.default_rng(1))
    assert len(children) == 25
    assert children == breed(parents, scores, 25, cfg, bounds, np.random.default_rng(1))
    for index, child, description in children:
        assert index in (0, 2, 3, 4), "failed trials are never parents"
        assert not same_wiring(child, parents[index])
        assert_follows_wiring_rules(child, cfg)
        assert_in_bounds(child, parents[index], bounds)
        assert_mutation_happened(description.split()[0], parents[index], child, description, cfg)
    picked = [i for i, _, _ in children]
    assert picked.count(2) > picked.count(3), "tournaments favour the best score"
    maximize = [i for i, _, _ in breed(parents, scores, 25, cfg, bounds, np.random.default_rng(1),
                                       direction="maximize")]
    assert maximize.count(3) > maximize.count(2)
    assert breed(parents, scores, 0, cfg, bounds, np.random.default_rng(1)) == []


def test_breed_gives_up_re_mutating_after_a_bounded_number_of_tries():
    # Two inputs, one output, no hidden level allowed: the output draws one input and rule 2
    # attaches the other, so every redraw has the same wiring as the parent.
    cfg = WiringConfig(predecessor_level_connection_affinity_factor_first=0.5,
                       predecessor_level_connection_affinity_factor_final_to_kminus1=0)
    bounds = SearchBounds((1, 1), (1, 1), (1, 1))
    parent = plan_wiring(NetworkSpec(((1, 1), (1,))), cfg, np.random.default_rng(0))
    assert applicable_mutations(parent, cfg, bounds) == ("redraw_inputs",)
    rng = np.random.default_rng(0)
    [(index, child, description)] = breed([parent], [1.0], 1, cfg, bounds, rng)
    assert index == 0 and same_wiring(child, parent) and description.startswith("redraw_inputs")
    # One tournament, then 1 + MAX_REMUTATIONS mutations (kind, unit, one draw, one repair each).
    replay = np.random.default_rng(0)
    tournament_select([1.0], replay, 3)
    for _ in range(1 + MAX_REMUTATIONS):
        mutate_plan(parent, cfg, bounds, replay)
    assert rng.random() == replay.random()


def test_breed_bad_arguments():
    cfg, bounds = WiringConfig(), SearchBounds((1, 3), (1, 3), (1, 3))
    parents = population(cfg, bounds, n=2)
    rng = np.random.default_rng(0)
    bad_arguments = [
        (dict(parents=[]), "parents must be a non-empty sequence"),
        (dict(parents=[parents[0], "plan"]), r"parents\[1\] must be a WiringPlan; got str"),
        (dict(scores=[1.0]), r"scores must have one score per parent \(2\); got 1"),
        (dict(n_children=-1), "n_children must be an int >= 0; got -1"),
        (dict(n_children=2.0), "n_children must be an int >= 0; got 2.0"),
        (dict(tournament_size=0), "tournament_size must be an int >= 1; got 0"),
        (dict(direction="up"), "direction must be one of .*; got 'up'"),
        (dict(rng=1), "rng must be a numpy.random.Generator"),
        (dict(bounds=None), "bounds must be a SearchBounds"),
    ]
    for change, message in bad_arguments:
        arguments = dict(parents=parents, scores=[1.0, 2.0], n_children=2, config=cfg,
                         bounds=bounds, rng=rng)
        arguments.update(change)
        with pytest.raises(ValueError, match=message):
            breed(**arguments)


# --------------------------------------------------------------------------- no TensorFlow

def test_evolution_does_not_import_tensorflow():
    # Loaded without the package's __init__ (which registers the Keras layers), the module
    # must not pull in TensorFlow or Keras.
    code = ("import sys, types, importlib.util\n"
            "path = importlib.util.find_spec('cerebros').submodule_search_locations\n"
            "package = types.ModuleType('cerebros'); package.__path__ = path\n"
            "sys.modules['cerebros'] = package\n"
            "import cerebros.evolution\n"
            "print(any(n.split('.')[0] in ('tensorflow', 'keras') for n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- inheritance

@settings(max_examples=80, deadline=None)
@given(case=cases(), seed=seeds)
def test_shared_units_are_exactly_the_units_a_child_keeps_unchanged(case, seed):
    parent, cfg, bounds = case
    assert shared_units(parent, parent) == sorted(inputs_of(parent))
    if not applicable_mutations(parent, cfg, bounds):
        return
    child, _ = mutate_plan(parent, cfg, bounds, np.random.default_rng(seed))
    before, after = inputs_of(parent), inputs_of(child)
    last = (len(parent.widths) - 1, len(child.widths) - 1)

    def unchanged(unit):
        level, index = unit
        return (unit in before and (level == last[0]) == (level == last[1])
                and parent.widths[level][index] == child.widths[level][index]
                and [(c.source, c.gated) for c in before[unit]]
                == [(c.source, c.gated) for c in after[unit]])

    assert shared_units(parent, child) == sorted(u for u in after if unchanged(u))


def test_a_resized_unit_is_not_shared_and_the_others_are():
    cfg, bounds = WiringConfig(), SearchBounds((1, 5), (1, 5), (1, 9))
    parent = plan_wiring(NetworkSpec(((3,), (4, 4), (2, 5), (1,))), cfg, np.random.default_rng(0))
    child, description = mutate_plan(parent, cfg, bounds, np.random.default_rng(0), "unit_width")
    resized = tuple(int(n) for n in re.findall(r"u(\d+)_(\d+)", description)[0])
    shared = shared_units(parent, child)
    assert resized not in shared
    assert set(shared) == set(inputs_of(child)) - {resized}
