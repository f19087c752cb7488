"""Regularized-evolution mutations of a wiring plan: breed generation g+1 from the best trials.

Every function here is a pure function of plain data and an explicit
numpy.random.Generator (never global randomness), in the manner of networkx's random
graph generators: the same plan, config, bounds and generator state always give the same
child.  Nothing here imports TensorFlow or Keras.

A mutation changes one thing of a :class:`~cerebros.wiring.WiringPlan` (K is the final level,
levels 1..K-1 are hidden, D is maximum_skip_connection_depth):

unit_width
    one hidden unit gets a new neuron count (connections untouched);
add_unit / remove_unit
    a hidden level gains a unit (appended, with freshly drawn inputs and laterals) or loses
    one (ids above it shift down; its connections are dropped);
add_level / remove_level
    a hidden level is inserted (its units and the units of the level below it draw their
    inputs afresh) or removed (levels above it shift down; its connections are dropped);
redraw_inputs
    one non-input unit draws its vertical inputs again;
redraw_laterals
    one hidden level draws its lateral connections again.

After a structural edit, any unit left without a vertical input from its parent level is
re-drawn with :func:`~cerebros.wiring.draw_counts` exactly as
:func:`~cerebros.wiring.plan_wiring` draws it, vertical connections stretched beyond D by an
inserted level are dropped, and :func:`~cerebros.wiring.repair_dead_ends` attaches every unit
left feeding nothing (rule 2).  Children list their connections unit by unit (level, then
unit order; each unit's vertical inputs, then its laterals), followed by the new rule-2
repairs; a unit's concatenation order is the order of its inputs in that list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Optional

import numpy as np

from cerebros.checks import check_direction, check_int, check_range
from cerebros.config import WiringConfig
from cerebros.wiring import Connection, WiringPlan, draw_counts, draw_laterals, repair_dead_ends

__all__ = ["SearchBounds", "MUTATIONS", "DIRECTIONS", "MAX_REMUTATIONS", "applicable_mutations",
           "mutate_plan", "tournament_select", "breed", "same_wiring", "shared_units"]

MUTATIONS = ("unit_width", "add_unit", "remove_unit", "add_level", "remove_level",
             "redraw_inputs", "redraw_laterals")

DIRECTIONS = ("minimize", "maximize")

#: How many times :func:`breed` mutates a parent again when the child has the same wiring.
MAX_REMUTATIONS = 10

Unit = tuple[int, int]
Inputs = dict[Unit, list[Connection]]


@dataclass(frozen=True)
class SearchBounds:
    """The search's ranges, each an inclusive (lo, hi) pair of ints with 1 <= lo <= hi.

    Attributes
    ----------
    levels : tuple of int
        Number of dense levels, the final level included (a plan has levels + 1 entries
        in widths).
    units_per_level : tuple of int
        Number of units on a hidden level.
    neurons_per_unit : tuple of int
        Neuron count of a hidden unit.

    Construction validates every field and raises ValueError naming it.
    """

    levels: tuple[int, int]
    units_per_level: tuple[int, int]
    neurons_per_unit: tuple[int, int]

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (tuple, list)) or len(value) != 2:
                raise ValueError(f"{f.name} must be a pair (lo, hi) of ints with "
                                 f"1 <= lo <= hi; got {value!r}.")
            object.__setattr__(self, f.name, check_range(f.name, *value))


# --------------------------------------------------------------------------- argument checks

def _check_generator(rng: Any) -> None:
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator such as "
                         f"numpy.random.default_rng(0); got {rng!r}.")


def _check_mutation_args(plan: Any, config: Any, bounds: Any, rng: Any) -> None:
    if not isinstance(plan, WiringPlan):
        raise ValueError(f"plan must be a WiringPlan; got {type(plan).__name__}.")
    if not isinstance(config, WiringConfig):
        raise ValueError(f"config must be a WiringConfig; got {type(config).__name__}.")
    if not isinstance(bounds, SearchBounds):
        raise ValueError(f"bounds must be a SearchBounds; got {type(bounds).__name__}.")
    _check_generator(rng)
    plan.validate()


# --------------------------------------------------------------------------- working copies

def _unit_name(unit: Unit) -> str:
    return f"u{unit[0]}_{unit[1]}"


def _draft(plan: WiringPlan) -> tuple[list[list[int]], Inputs]:
    """Mutable copies of the widths and of every non-input unit's inputs, in order."""
    widths = [[int(w) for w in level] for level in plan.widths]
    return widths, {unit: list(ins) for unit, ins in plan.inputs_by_unit().items()}


def _remap(inputs: Inputs, widths: Sequence[Sequence[int]],
           mapping: Callable[[Unit], Optional[Unit]], depth: int) -> Inputs:
    """Renumber units after a structural edit.

    mapping sends an old unit to its new (level, id), or to None when it was removed;
    connections touching a removed unit, and vertical connections now spanning more than
    depth levels, are dropped.  Units of widths without a preimage start with no
    inputs.  Each unit keeps the order of its inputs.  Runs in O(connections + units).
    """
    out: Inputs = {(level, unit): [] for level in range(1, len(widths))
                   for unit in range(len(widths[level]))}
    for target, connections in inputs.items():
        new_target = mapping(target)
        if new_target is None:
            continue
        kept = out[new_target]
        for c in connections:
            source = mapping(c.source)
            if source is None or (c.kind == "vertical" and new_target[0] - source[0] > depth):
                continue
            kept.append(Connection(source, new_target, c.kind, c.gated))
    return out


def _redraw_verticals(widths: Sequence[Sequence[int]], inputs: Inputs, unit: Unit,
                      config: WiringConfig, rng: np.random.Generator) -> None:
    """Replace unit's vertical inputs by a fresh draw, as :func:`plan_wiring` draws them
    (nearest level first, with replacement); its laterals follow, in their order."""
    level = unit[0]
    drawn = []
    for source_level, count in draw_counts(widths, level, config):
        for source in rng.integers(len(widths[source_level]), size=count).tolist():
            drawn.append(Connection((source_level, source), unit))
    inputs[unit] = drawn + [c for c in inputs[unit] if c.kind == "lateral"]


def _set_laterals(widths: Sequence[Sequence[int]], inputs: Inputs, level: int,
                  laterals: Sequence[tuple[int, int, bool]]) -> None:
    """Replace the laterals of level by [(source_id, target_id, gated), ...]."""
    by_target: dict[int, list[Connection]] = {}
    for source, target, gated in laterals:
        by_target.setdefault(target, []).append(
            Connection((level, source), (level, target), "lateral", gated))
    for unit in range(len(widths[level])):
        verticals = [c for c in inputs[(level, unit)] if c.kind == "vertical"]
        inputs[(level, unit)] = verticals + by_target.get(unit, [])


def _has_parent_input(inputs: Inputs, unit: Unit) -> bool:
    return any(c.kind == "vertical" and c.source[0] == unit[0] - 1 for c in inputs[unit])


def _finish(plan: WiringPlan, widths: list[list[int]], inputs: Inputs, config: WiringConfig,
            rng: np.random.Generator, redraw: Sequence[Unit] = ()) -> WiringPlan:
    """Re-draw redraw and every unit without a parent-level input (in level and unit
    order), list the connections unit by unit, append the rule-2 repairs and validate."""
    n_levels = len(widths)
    units = [(level, unit) for level in range(1, n_levels) for unit in range(len(widths[level]))]
    todo = set(redraw) | {u for u in units if not _has_parent_input(inputs, u)}
    for unit in units:
        if unit in todo:
            _redraw_verticals(widths, inputs, unit, config, rng)
    connections = [c for unit in units for c in inputs[unit]]
    connections.extend(repair_dead_ends(widths, connections, config, rng))
    child = WiringPlan(tuple(tuple(level) for level in widths), tuple(connections),
                       dict(plan.params))
    child.validate()
    return child


# --------------------------------------------------------------------------- applicability

def _lateral_thresholds(n_units: int, config: WiringConfig) -> list[float]:
    p = config.p_lateral_connection
    return [p * float(config.p_lateral_connection_decay(d - 1)) for d in range(1, n_units)]


def _laterals_possible(n_units: int, config: WiringConfig) -> bool:
    return (n_units >= 2 and config.num_lateral_connection_tries_per_unit > 0
            and config.max_consecutive_lateral_connections > 0
            and any(t > 0 for t in _lateral_thresholds(n_units, config)))


def _fixed_laterals(n_units: int, config: WiringConfig) -> Optional[list[tuple[int, int, bool]]]:
    """The laterals of a level when every connection probability is 0 or >= 1 (then the draw
    does not depend on the generator), else None."""
    if any(0 < t < 1 for t in _lateral_thresholds(n_units, config)):
        return None
    # The outcome is the same for any uniform draws; a throwaway generator supplies them.
    return draw_laterals(n_units, config, np.random.default_rng(0))


def _fixed_verticals(widths: Sequence[Sequence[int]], level: int,
                     config: WiringConfig) -> Optional[Counter]:
    """The sources a unit on level draws when every level it draws from has one unit
    (then the draw does not depend on the generator), else None."""
    fixed: Counter = Counter()
    for source_level, count in draw_counts(widths, level, config):
        if count > 0 and len(widths[source_level]) > 1:
            return None
        if count > 0:
            fixed[(source_level, 0)] += count
    return fixed


def _candidates(kind: str, plan: WiringPlan, config: WiringConfig,
                bounds: SearchBounds) -> tuple[list[Any], str]:
    """The choices a mutation can make on plan, and why there are none when empty."""
    widths = plan.widths
    final = len(widths) - 1
    hidden = range(1, final)
    n_dense = final
    if kind == "unit_width":
        lo, hi = bounds.neurons_per_unit
        found = [(level, unit) for level in hidden for unit, w in enumerate(widths[level])
                 if lo < hi or not lo <= w <= hi]
        return found, ("the plan has no hidden unit" if not list(hidden) else
                       f"bounds.neurons_per_unit={bounds.neurons_per_unit} allows one width only")
    if kind == "add_unit":
        found = [level for level in hidden if len(widths[level]) < bounds.units_per_level[1]]
        return found, ("the plan has no hidden level" if not list(hidden) else
                       "every hidden level has the maximum of "
                       f"bounds.units_per_level={bounds.units_per_level} units")
    if kind == "remove_unit":
        found = [(level, unit) for level in hidden if len(widths[level]) > bounds.units_per_level[0]
                 for unit in range(len(widths[level]))]
        return found, ("the plan has no hidden level" if not list(hidden) else
                       "every hidden level has the minimum of "
                       f"bounds.units_per_level={bounds.units_per_level} units")
    if kind == "add_level":
        found = list(range(1, final + 1)) if n_dense < bounds.levels[1] else []
        return found, (f"the plan has {n_dense} dense levels, the maximum of "
                       f"bounds.levels={bounds.levels}")
    if kind == "remove_level":
        found = list(hidden) if n_dense > bounds.levels[0] else []
        return found, (f"the plan has {n_dense} dense levels, the minimum of "
                       f"bounds.levels={bounds.levels}" if list(hidden) else
                       "the plan has no hidden level")
    if kind == "redraw_inputs":
        inputs = plan.inputs_by_unit()
        found = []
        for unit in sorted(inputs):
            fixed = _fixed_verticals(widths, unit[0], config)
            if fixed is None or fixed != Counter(
                    c.source for c in inputs[unit] if c.kind == "vertical"):
                found.append(unit)
        return found, "every unit's inputs can only be drawn the way they already are"
    if kind == "redraw_laterals":
        inputs = plan.inputs_by_unit()
        found = []
        for level in hidden:
            n = len(widths[level])
            if not _laterals_possible(n, config):
                continue
            fixed = _fixed_laterals(n, config)
            current = sorted((c.source[1], c.target[1], c.gated) for unit in range(n)
                             for c in inputs[(level, unit)] if c.kind == "lateral")
            if fixed is None or sorted(fixed) != current:
                found.append(level)
        return found, ("no hidden level has 2 or more units" if all(
            len(widths[level]) < 2 for level in hidden) else
            "the config makes lateral connections impossible (or fixed) on every hidden level")
    raise ValueError(f"kind must be one of {', '.join(MUTATIONS)} or None; got {kind!r}.")


def applicable_mutations(plan: WiringPlan, config: WiringConfig,
                         bounds: SearchBounds) -> tuple[str, ...]:
    """The mutation kinds that can change plan without leaving bounds.

    A kind is applicable when it has something to act on: unit_width a hidden unit and a
    second allowed width; add_unit / remove_unit a hidden level below the maximum /
    above the minimum unit count; add_level / remove_level a number of dense levels
    below the maximum / above the minimum (and a hidden level to remove);
    redraw_inputs a unit whose draw is random or differs from its current inputs;
    redraw_laterals a hidden level of 2+ units whose lateral draw the config makes
    possible, and random or different from its current laterals.

    Returns
    -------
    tuple of str
        In the order of :data:`MUTATIONS`.  Runs in O(connections + units × D + Σ units²).
    """
    if not isinstance(plan, WiringPlan):
        raise ValueError(f"plan must be a WiringPlan; got {type(plan).__name__}.")
    if not isinstance(config, WiringConfig):
        raise ValueError(f"config must be a WiringConfig; got {type(config).__name__}.")
    if not isinstance(bounds, SearchBounds):
        raise ValueError(f"bounds must be a SearchBounds; got {type(bounds).__name__}.")
    return tuple(k for k in MUTATIONS if _candidates(k, plan, config, bounds)[0])


# --------------------------------------------------------------------------- the mutations

def _pick(candidates: Sequence[Any], rng: np.random.Generator) -> Any:
    return candidates[int(rng.integers(len(candidates)))]


def _new_width(old: int, bounds: SearchBounds, rng: np.random.Generator) -> int:
    lo, hi = bounds.neurons_per_unit
    if not lo <= old <= hi:
        return int(rng.integers(lo, hi + 1))
    new = int(rng.integers(lo, hi))  # one of the hi - lo widths other than old
    return new + 1 if new >= old else new


def _mutate_unit_width(plan, config, bounds, rng, candidates):
    level, unit = _pick(candidates, rng)
    old = int(plan.widths[level][unit])
    new = _new_width(old, bounds, rng)
    widths = [list(ws) for ws in plan.widths]
    widths[level][unit] = new
    child = WiringPlan(tuple(tuple(ws) for ws in widths), plan.connections, dict(plan.params))
    return child, f"unit_width {_unit_name((level, unit))} {old}->{new}"


def _mutate_add_unit(plan, config, bounds, rng, candidates):
    level = _pick(candidates, rng)
    widths, inputs = _draft(plan)
    n = len(widths[level])
    width = int(rng.integers(bounds.neurons_per_unit[0], bounds.neurons_per_unit[1] + 1))
    widths[level].append(width)
    # The new unit's laterals, drawn as draw_laterals draws those of unit n among n + 1.
    inputs[(level, n)] = [Connection((level, s), (level, t), "lateral", g)
                          for s, t, g in draw_laterals(n + 1, config, rng) if t == n]
    child = _finish(plan, widths, inputs, config, rng, redraw=[(level, n)])
    return child, f"add_unit {_unit_name((level, n))} ({width} neurons)"


def _mutate_remove_unit(plan, config, bounds, rng, candidates):
    level, unit = _pick(candidates, rng)
    widths, inputs = _draft(plan)
    width = widths[level].pop(unit)

    def mapping(u: Unit) -> Optional[Unit]:
        if u[0] != level or u[1] < unit:
            return u
        return None if u[1] == unit else (level, u[1] - 1)

    inputs = _remap(inputs, widths, mapping, config.maximum_skip_connection_depth)
    child = _finish(plan, widths, inputs, config, rng)
    return child, f"remove_unit {_unit_name((level, unit))} ({width} neurons)"


def _mutate_add_level(plan, config, bounds, rng, candidates):
    level = _pick(candidates, rng)
    widths, inputs = _draft(plan)
    n = int(rng.integers(bounds.units_per_level[0], bounds.units_per_level[1] + 1))
    new = [int(w) for w in rng.integers(bounds.neurons_per_unit[0],
                                        bounds.neurons_per_unit[1] + 1, size=n)]
    widths.insert(level, new)
    inputs = _remap(inputs, widths, lambda u: (u[0] + 1, u[1]) if u[0] >= level else u,
                    config.maximum_skip_connection_depth)
    _set_laterals(widths, inputs, level, draw_laterals(n, config, rng))
    redraw = [(lv, u) for lv in (level, level + 1) for u in range(len(widths[lv]))]
    child = _finish(plan, widths, inputs, config, rng, redraw=redraw)
    return child, f"add_level {level} {new}"


def _mutate_remove_level(plan, config, bounds, rng, candidates):
    level = _pick(candidates, rng)
    widths, inputs = _draft(plan)
    removed = widths.pop(level)

    def mapping(u: Unit) -> Optional[Unit]:
        if u[0] < level:
            return u
        return None if u[0] == level else (u[0] - 1, u[1])

    inputs = _remap(inputs, widths, mapping, config.maximum_skip_connection_depth)
    child = _finish(plan, widths, inputs, config, rng)
    return child, f"remove_level {level} {removed}"


def _mutate_redraw_inputs(plan, config, bounds, rng, candidates):
    unit = _pick(candidates, rng)
    widths, inputs = _draft(plan)
    before = sum(c.kind == "vertical" for c in inputs[unit])
    child = _finish(plan, widths, inputs, config, rng, redraw=[unit])
    after = sum(c.kind == "vertical" and c.target == unit for c in child.connections)
    return child, f"redraw_inputs {_unit_name(unit)} {before}->{after} vertical inputs"


def _mutate_redraw_laterals(plan, config, bounds, rng, candidates):
    level = _pick(candidates, rng)
    widths, inputs = _draft(plan)
    before = sum(c.kind == "lateral" and c.target[0] == level for c in plan.connections)
    laterals = draw_laterals(len(widths[level]), config, rng)
    _set_laterals(widths, inputs, level, laterals)
    child = _finish(plan, widths, inputs, config, rng)
    return child, f"redraw_laterals level {level} {before}->{len(laterals)} laterals"


_APPLY = {
    "unit_width": _mutate_unit_width,
    "add_unit": _mutate_add_unit,
    "remove_unit": _mutate_remove_unit,
    "add_level": _mutate_add_level,
    "remove_level": _mutate_remove_level,
    "redraw_inputs": _mutate_redraw_inputs,
    "redraw_laterals": _mutate_redraw_laterals,
}


def mutate_plan(plan: WiringPlan, config: WiringConfig, bounds: SearchBounds,
                rng: np.random.Generator, kind: str | None = None) -> tuple[WiringPlan, str]:
    """Apply one random mutation to plan.

    Parameters
    ----------
    plan : WiringPlan
        The parent; it is validated and left unchanged.  A parent outside bounds is
        accepted: a mutation only ever moves a quantity within the bounds (a new width, unit
        count or number of levels), so the child of an in-bounds parent is in bounds.
    config : WiringConfig
        The wiring rules used to draw new inputs, laterals and rule-2 repairs.
    bounds : SearchBounds
        The search's ranges of levels, units per hidden level and neurons per hidden unit.
    rng : numpy.random.Generator
        The only source of randomness: equal generator states give equal children.
    kind : str or None
        One of :data:`MUTATIONS`, or None to pick uniformly among the kinds
        :func:`applicable_mutations` lists; the kind's target (unit, level, position) is
        then drawn uniformly among its choices.

    Returns
    -------
    child : WiringPlan
        A new, validated plan with the parent's params.  Input and output widths never
        change.
    description : str
        What changed, e.g. "unit_width u2_1 3->5", "add_unit u2_3 (7 neurons)",
        "remove_unit u1_0 (4 neurons)", "add_level 2 [4, 5]",
        "remove_level 1 [3, 3]", "redraw_inputs u3_0 6->5 vertical inputs",
        "redraw_laterals level 2 3->4 laterals".

    Raises
    ------
    ValueError
        For a bad argument, an unknown kind, a kind that does not apply to this plan
        under bounds (the message names it and says why), or, with kind=None, a plan
        that no mutation applies to.

    Notes
    -----
    Runs in O(connections + units × D + Σ_levels units² × tries): the cost of re-drawing a
    few units plus one pass over the plan.
    """
    _check_mutation_args(plan, config, bounds, rng)
    if kind is not None and kind not in MUTATIONS:
        raise ValueError(f"kind must be one of {', '.join(MUTATIONS)} or None; got {kind!r}.")
    if kind is None:
        table = {k: _candidates(k, plan, config, bounds) for k in MUTATIONS}
        applicable = [k for k in MUTATIONS if table[k][0]]
        if not applicable:
            reasons = "; ".join(f"{k}: {table[k][1]}" for k in MUTATIONS)
            raise ValueError(f"no mutation applies to plan (widths {plan.widths}) under "
                             f"bounds={bounds}: {reasons}.")
        kind = _pick(applicable, rng)
        candidates = table[kind][0]
    else:
        candidates, reason = _candidates(kind, plan, config, bounds)
        if not candidates:
            raise ValueError(f"mutation {kind!r} does not apply to this plan: {reason}.")
    return _APPLY[kind](plan, config, bounds, rng, candidates)


# --------------------------------------------------------------------------- selection

def _scores_array(scores: Any, name: str = "scores") -> np.ndarray:
    try:
        values = np.asarray(scores, dtype=float)
    except (TypeError, ValueError):
        values = None
    if values is None or values.ndim != 1 or values.size == 0:
        raise ValueError(f"{name} must be a non-empty sequence of numbers (NaN or None for a "
                         f"failed trial); got {scores!r}.")
    return values


def tournament_select(scores: Sequence[float], rng: np.random.Generator, size: int = 3,
                      direction: str = "minimize") -> int:
    """Index of the winner of a tournament among scores.

    size entries are drawn uniformly without replacement among the scores that are not
    NaN (None counts as NaN), size being clipped to how many there are; the best of them
    wins (the lowest index among equal bests).  So a NaN score never wins.

    Parameters
    ----------
    scores : sequence of float
        One score per candidate.
    rng : numpy.random.Generator
        The only source of randomness.
    size : int
        Tournament size, >= 1.  size=1 is a uniform pick; size >= len(scores) picks
        the best score.
    direction : {"minimize", "maximize"}
        Whether lower or higher scores are better.

    Returns
    -------
    int
        Runs in O(len(scores)).

    Raises
    ------
    ValueError
        For a bad argument, or when every score is NaN.
    """
    _check_generator(rng)
    size = check_int("size", size, 1)
    direction = check_direction(direction)
    values = _scores_array(scores)
    valid = np.flatnonzero(~np.isnan(values))
    if valid.size == 0:
        raise ValueError(f"scores are all NaN; got {list(scores)!r}: no candidate can win a "
                         "tournament.")
    sample = np.sort(rng.choice(valid, size=min(int(size), valid.size), replace=False))
    key = values[sample] if direction == "minimize" else -values[sample]
    return int(sample[int(np.argmin(key))])


# --------------------------------------------------------------------------- breeding

def _wiring_key(plan: WiringPlan) -> tuple:
    inputs = plan.inputs_by_unit()
    return (tuple(tuple(int(w) for w in level) for level in plan.widths),
            tuple((unit, tuple(sorted((c.source, c.kind, c.gated) for c in inputs[unit])))
                  for unit in sorted(inputs)))


def same_wiring(first: WiringPlan, second: WiringPlan) -> bool:
    """Whether two plans have the same widths and every unit the same inputs.

    Inputs are compared as multisets (source, kind, gated): a unit whose inputs are merely
    concatenated in another order builds the same family of networks.  Runs in
    O(connections × log connections).
    """
    return _wiring_key(first) == _wiring_key(second)


def shared_units(parent: WiringPlan, child: WiringPlan) -> list[Unit]:
    """The non-input units a child shares with its parent: same ``(level, unit)``, same role
    (hidden or output), same width, and the same inputs in the same concatenation order.

    Such a unit computes the parent's function of the same inputs, so the child can start
    it from the parent's trained weights (a unit whose inputs come from a changed unit
    still can: its inputs are the same tensors, only what feeds them has changed).  Units
    shifted by an inserted or removed level are not matched.  Runs in O(connections).
    """
    def role(plan: WiringPlan, level: int) -> bool:
        return level == plan.n_levels - 1

    parent_inputs, child_inputs = parent.inputs_by_unit(), child.inputs_by_unit()
    shared = []
    for unit, inputs in child_inputs.items():
        level, index = unit
        if (unit in parent_inputs and role(parent, level) == role(child, level)
                and parent.widths[level][index] == child.widths[level][index]
                and [(c.source, c.gated) for c in parent_inputs[unit]]
                == [(c.source, c.gated) for c in inputs]):
            shared.append(unit)
    return sorted(shared)


def breed(parents: Sequence[WiringPlan], scores: Sequence[float], n_children: int,
          config: WiringConfig, bounds: SearchBounds, rng: np.random.Generator,
          direction: str = "minimize", tournament_size: int = 3
          ) -> list[tuple[int, WiringPlan, str]]:
    """Breed n_children children: pick a parent by tournament, mutate it once.

    A child with the same wiring as its parent (:func:`same_wiring`, e.g. a redraw that drew
    the same inputs) is replaced by a fresh mutation of that parent, up to
    :data:`MAX_REMUTATIONS` times; after that the last child is kept.

    Parameters
    ----------
    parents : sequence of WiringPlan
        The candidates, e.g. the best trials of earlier generations.
    scores : sequence of float
        One score per parent; NaN (or None) marks a failed trial, which is never picked.
    n_children : int
        Number of children, >= 0.
    config, bounds, rng
        As for :func:`mutate_plan`; rng is the only source of randomness.
    direction : {"minimize", "maximize"}
        Whether lower or higher scores are better.
    tournament_size : int
        Entries per tournament (see :func:`tournament_select`), >= 1.

    Returns
    -------
    list of (int, WiringPlan, str)
        (parent index, child, mutation description) per child, in breeding order.  Runs
        in O(n_children × (len(parents) + cost of one mutation)).

    Raises
    ------
    ValueError
        For a bad argument, all-NaN scores, or a chosen parent that no mutation applies to.
    """
    if isinstance(parents, (str, bytes)) or not isinstance(parents, Sequence) or not parents:
        raise ValueError(f"parents must be a non-empty sequence of WiringPlan; got {parents!r}.")
    for i, parent in enumerate(parents):
        if not isinstance(parent, WiringPlan):
            raise ValueError(f"parents[{i}] must be a WiringPlan; got {type(parent).__name__}.")
    values = _scores_array(scores)
    if values.size != len(parents):
        raise ValueError(f"scores must have one score per parent ({len(parents)}); got "
                         f"{values.size}.")
    n_children = check_int("n_children", n_children, 0)
    check_int("tournament_size", tournament_size, 1)
    direction = check_direction(direction)
    _check_mutation_args(parents[0], config, bounds, rng)
    children = []
    for _ in range(int(n_children)):
        index = tournament_select(values, rng, tournament_size, direction)
        parent = parents[index]
        key = _wiring_key(parent)
        for _ in range(1 + MAX_REMUTATIONS):
            child, description = mutate_plan(parent, config, bounds, rng)
            if _wiring_key(child) != key:
                break
        children.append((index, child, description))
    return children
