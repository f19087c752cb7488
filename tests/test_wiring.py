"""Property-based tests of the pure wiring rules (no TensorFlow)."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from cerebros.config import WiringConfig
from cerebros.decay import zero_7_exp_decay
from cerebros.spec import NetworkSpec
from cerebros.wiring import WiringPlan, draw_laterals, plan_wiring
from strategies import wiring_configs


def rounded(value, rule):
    return math.ceil(value - 1e-9) if rule == "ceil" else math.floor(value + 1e-9)


def expected_counts(widths, level, cfg):
    """The issue's formulas, written out independently of cerebros.wiring."""
    final = len(widths) - 1
    counts = {}
    if level == 1:
        counts[0] = max(1, rounded(cfg.predecessor_level_connection_affinity_factor_first
                                   * len(widths[0]),
                                   cfg.predecessor_level_connection_affinity_factor_first_rounding_rule))
    else:
        for j in range(level):
            if 1 <= level - j <= cfg.maximum_skip_connection_depth:
                n = rounded(cfg.predecessor_level_connection_affinity_factor_main
                            * cfg.predecessor_level_connection_affinity_factor_decay_main(level - 1 - j)
                            * len(widths[j]),
                            cfg.predecessor_level_connection_affinity_factor_main_rounding_rule)
                counts[j] = max(1, n) if j == level - 1 else n
    if level == final:
        counts[level - 1] += rounded(
            cfg.predecessor_level_connection_affinity_factor_final_to_kminus1 * len(widths[level - 1]),
            cfg.predecessor_level_connection_affinity_factor_main_rounding_rule)
    return counts


specs = st.builds(
    lambda inputs, hidden, outputs: NetworkSpec((tuple(inputs), *map(tuple, hidden), tuple(outputs))),
    st.lists(st.integers(1, 6), min_size=1, max_size=3),
    st.lists(st.lists(st.integers(1, 8), min_size=1, max_size=6), min_size=0, max_size=6),
    st.lists(st.integers(1, 3), min_size=1, max_size=2))

configs = wiring_configs(max_extra_depth=4, max_first=6, max_main=3, max_final=3,
                         p_lateral=st.floats(0, 1), max_tries=4, max_cap=8)


@settings(max_examples=200, deadline=None)
@given(spec=specs, cfg=configs, seed=st.integers(0, 2**32 - 1))
def test_plan_follows_the_wiring_rules(spec, cfg, seed):
    plan = plan_wiring(spec, cfg, np.random.default_rng(seed))
    widths, final = spec.widths, len(spec.widths) - 1
    plan.validate()
    for c in plan.connections:
        (sl, su), (tl, tu) = c.source, c.target
        assert tl >= 1
        if c.kind == "vertical":
            assert sl < tl, "vertical connections go down: acyclic"
            assert not c.gated
        else:
            assert sl == tl and su < tu and tl != final, "laterals only from lower ids, hidden levels"
    inputs = plan.inputs_by_unit()
    assert all(any(c.kind == "vertical" and c.source[0] == level - 1 for c in inputs[(level, unit)])
               for (level, unit) in inputs), "every unit has an input from its parent level"
    # Per-level draw counts: the connections before the rule-2 repairs follow the formulas.
    n_lateral = sum(c.kind == "lateral" for c in plan.connections)
    n_formula = sum(sum(expected_counts(widths, level, cfg).values()) * len(widths[level])
                    for level in range(1, len(widths)))
    drawn, repairs = plan.connections[:n_formula + n_lateral], plan.connections[n_formula + n_lateral:]
    for level in range(1, len(widths)):
        for unit in range(len(widths[level])):
            got = {}
            for c in drawn:
                if c.target == (level, unit) and c.kind == "vertical":
                    got[c.source[0]] = got.get(c.source[0], 0) + 1
            want = {j: n for j, n in expected_counts(widths, level, cfg).items() if n}
            assert got == want
    # Rule 2: every input and hidden unit feeds a unit within maximum_skip_connection_depth.
    depth = cfg.maximum_skip_connection_depth
    fed = {c.source for c in plan.connections
           if c.kind == "vertical" and 1 <= c.target[0] - c.source[0] <= depth}
    assert fed == {(level, u) for level in range(final) for u in range(len(widths[level]))}
    # Repairs attach orphans only, once each, at a depth within [minimum, maximum] (clipped).
    fed_before = {c.source for c in drawn if c.kind == "vertical"}
    assert len({c.source for c in repairs}) == len(repairs)
    for c in repairs:
        assert c.kind == "vertical" and c.source not in fed_before
        d = c.target[0] - c.source[0]
        assert c.target[0] == final or cfg.minimum_skip_connection_depth <= d <= depth


@settings(max_examples=60, deadline=None)
@given(spec=specs, cfg=configs, seed=st.integers(0, 2**32 - 1))
def test_same_seed_same_plan_and_json_round_trip(spec, cfg, seed):
    first = plan_wiring(spec, cfg, np.random.default_rng(seed))
    second = plan_wiring(spec, cfg, np.random.default_rng(seed))
    assert first == second
    restored = WiringPlan.from_dict(json.loads(json.dumps(first.to_dict())))
    assert restored.widths == first.widths and restored.connections == first.connections
    assert restored.to_dict() == first.to_dict()


def test_different_seeds_give_different_plans():
    spec = NetworkSpec(((3,), (4, 4, 4, 4), (3, 3, 3), (1,)))
    cfg = WiringConfig()
    plans = {plan_wiring(spec, cfg, np.random.default_rng(s)).connections for s in range(5)}
    assert len(plans) == 5


def test_lateral_runs_are_capped_and_gated_every_nth():
    cfg = WiringConfig(p_lateral_connection=1.0, p_lateral_connection_decay=lambda d: 1.0,
                       num_lateral_connection_tries_per_unit=1,
                       max_consecutive_lateral_connections=3, gate_after_n_lateral_connections=2)
    laterals = draw_laterals(6, cfg, np.random.default_rng(0))
    unit5 = [(s, g) for s, t, g in laterals if t == 5]
    # Candidates 4, 3, 2 connect (run of 3 = cap), 1 is refused (run resets), 0 connects.
    assert unit5 == [(4, False), (3, True), (2, False), (0, False)]
    assert [(s, g) for s, t, g in laterals if t == 1] == [(0, False)]


def test_lateral_probability_and_decay():
    cfg = WiringConfig(p_lateral_connection=0.5, num_lateral_connection_tries_per_unit=1,
                       p_lateral_connection_decay=lambda d: 0.0 if d else 1.0,
                       max_consecutive_lateral_connections=100)
    laterals = draw_laterals(200, cfg, np.random.default_rng(1))
    assert all(t - s == 1 for s, t, _ in laterals), "decay 0 beyond the nearest neighbour"
    assert 70 < len(laterals) < 130, "about half of 199 neighbours connect"
    assert draw_laterals(20, cfg.replace(p_lateral_connection=0.0), np.random.default_rng(1)) == []


def test_ames_benchmark_network_plans_quickly_and_densely():
    rng = np.random.default_rng(0)
    spec = NetworkSpec(((38,), *[tuple(rng.integers(1, 26, 10).tolist()) for _ in range(10)], (1,)))
    cfg = WiringConfig(predecessor_level_connection_affinity_factor_first=19.613,
                       predecessor_level_connection_affinity_factor_main=0.5518,
                       p_lateral_connection=0.36014, num_lateral_connection_tries_per_unit=11,
                       max_consecutive_lateral_connections=34)
    plan = plan_wiring(spec, cfg, np.random.default_rng(1))
    assert all(sum(c.target == (1, u) for c in plan.connections if c.kind == "vertical") >= 20
               for u in range(10)), "ceil(19.613 * 1 input) = 20 draws per level-1 unit"
    assert plan.counts()["lateral"] > 0 and plan.counts()["gated"] > 0


@pytest.mark.parametrize("module", ["cerebros.wiring", "cerebros.spec", "cerebros.config"])
def test_planning_does_not_import_tensorflow(module):
    # The package's __init__ registers the Keras layers (so saved models load after
    # ``import cerebros``); the planning modules themselves, loaded without it, must not
    # pull in TensorFlow or Keras.
    code = ("import sys, types, importlib.util\n"
            "path = importlib.util.find_spec('cerebros').submodule_search_locations\n"
            "package = types.ModuleType('cerebros'); package.__path__ = path\n"
            "sys.modules['cerebros'] = package\n"
            f"import {module}\n"
            "print(any(n.split('.')[0] in ('tensorflow', 'keras') for n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_decay_defaults():
    assert zero_7_exp_decay(0) == 1 and zero_7_exp_decay(2) == pytest.approx(0.49)
