"""Pure planning of a Cerebros network's wiring: which unit feeds which.

Every function here is a pure function of a :class:`~cerebros.spec.NetworkSpec`, a
:class:`~cerebros.config.WiringConfig` and an explicit ``numpy.random.Generator``; the result
is a :class:`WiringPlan`, plain data that round-trips through JSON and that
:mod:`cerebros.materialize` turns into a Keras model.  Nothing here imports TensorFlow.

The rules (level 0 holds the inputs, level K the outputs, D is
``maximum_skip_connection_depth``; ``R`` is the configured rounding rule):

* level 1 units each draw ``max(1, R(first * |level 0|))`` input units, with replacement;
* a unit on level k >= 2 draws, from every level j with ``1 <= k - j <= D``,
  ``R(main * decay(k - 1 - j) * |level j|)`` units with replacement, at least one from its
  parent level k - 1;
* final units also draw ``R(final_to_kminus1 * |level K-1|)`` extra units from level K - 1;
* a hidden unit may take lateral inputs from lower-numbered units of its own level (see
  :func:`draw_laterals`); some of those are gated;
* rule 2: every input and hidden unit must feed a unit on a lower level within D levels (or
  the final level); an orphan is attached to a random unit ``d`` levels below it, ``d`` drawn
  from [minimum, maximum] skip depth and clipped to the final level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from cerebros.config import WiringConfig
from cerebros.spec import NetworkSpec

__all__ = ["Connection", "WiringPlan", "plan_wiring", "draw_counts", "draw_laterals",
           "repair_dead_ends", "PLAN_FORMAT_VERSION"]

PLAN_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Connection:
    """One drawn input of a unit: ``source`` and ``target`` are ``(level, unit_id)``."""

    source: tuple[int, int]
    target: tuple[int, int]
    kind: str = "vertical"
    gated: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"from": list(self.source), "to": list(self.target), "kind": self.kind,
                "gated": self.gated}


def _round(value: float, rule: str) -> int:
    # A small tolerance keeps e.g. 0.7 * 10 = 7.000000000000001 from rounding up to 8.
    return int(math.ceil(value - 1e-9)) if rule == "ceil" else int(math.floor(value + 1e-9))


def draw_counts(widths: Sequence[Sequence[int]], level: int,
                config: WiringConfig) -> list[tuple[int, int]]:
    """How many units a unit on ``level`` draws from each predecessor level.

    Returns ``[(source_level, count), ...]``, nearest level first (the final level's extra
    draws from level K - 1 are added to its count).  Runs in O(D).
    """
    n_levels = len(widths)
    final = level == n_levels - 1
    if level == 1:
        counts = [(0, max(1, _round(
            config.predecessor_level_connection_affinity_factor_first * len(widths[0]),
            config.predecessor_level_connection_affinity_factor_first_rounding_rule)))]
    else:
        rule = config.predecessor_level_connection_affinity_factor_main_rounding_rule
        main = config.predecessor_level_connection_affinity_factor_main
        decay = config.predecessor_level_connection_affinity_factor_decay_main
        counts = []
        lowest = max(0, level - config.maximum_skip_connection_depth)
        for j in range(level - 1, lowest - 1, -1):
            n = _round(main * float(decay(level - 1 - j)) * len(widths[j]), rule)
            counts.append((j, max(1, n) if j == level - 1 else max(0, n)))
    if final:
        extra = _round(config.predecessor_level_connection_affinity_factor_final_to_kminus1
                       * len(widths[level - 1]),
                       config.predecessor_level_connection_affinity_factor_main_rounding_rule)
        counts[0] = (counts[0][0], counts[0][1] + extra)
    return counts


def draw_laterals(n_units: int, config: WiringConfig,
                  rng: np.random.Generator) -> list[tuple[int, int, bool]]:
    """Draw the lateral connections of one level of ``n_units`` units.

    Unit ``i`` considers every unit ``j < i`` on its level, nearest first; each candidate is
    tried ``num_lateral_connection_tries_per_unit`` times and connects with probability
    ``p_lateral_connection * p_lateral_connection_decay(i - j - 1)``.  Successful tries in a
    row form a run, capped at ``max_consecutive_lateral_connections`` (the try after a full
    run fails and starts a new run); every ``gate_after_n_lateral_connections``-th
    connection of a run is gated.  Returns ``[(source_id, target_id, gated), ...]`` in draw
    order.  Runs in O(n_units² × tries).
    """
    tries = config.num_lateral_connection_tries_per_unit
    cap = config.max_consecutive_lateral_connections
    if n_units < 2 or tries == 0 or cap == 0 or config.p_lateral_connection == 0:
        return []
    gate_every = config.gate_after_n_lateral_connections
    p = config.p_lateral_connection
    decay = config.p_lateral_connection_decay
    p_by_distance = [p * float(decay(d - 1)) for d in range(1, n_units)]
    laterals: list[tuple[int, int, bool]] = []
    for target in range(1, n_units):
        draws = rng.random(target * tries).tolist()
        run = 0
        position = 0
        for distance in range(1, target + 1):
            threshold = p_by_distance[distance - 1]
            for _ in range(tries):
                if run < cap and draws[position] < threshold:
                    run += 1
                    laterals.append((target - distance, target, run % gate_every == 0))
                else:
                    run = 0
                position += 1
    return laterals


def repair_dead_ends(widths: Sequence[Sequence[int]], connections: list[Connection],
                     config: WiringConfig, rng: np.random.Generator) -> list[Connection]:
    """Rule 2: attach every input or hidden unit that feeds nothing below it.

    A unit on level j feeds "below it" when some vertical connection takes it to a level k
    with ``1 <= k - j <= maximum_skip_connection_depth``.  Each orphan, in level and unit
    order, gets one new vertical connection to a random unit ``d`` levels down, ``d`` drawn
    from [minimum, maximum] skip depth and clipped to the final level.  Returns the new
    connections (the caller appends them).  Runs in O(connections + units).
    """
    final = len(widths) - 1
    depth = config.maximum_skip_connection_depth
    fed = {c.source for c in connections
           if c.kind == "vertical" and 1 <= c.target[0] - c.source[0] <= depth}
    repairs = []
    for level in range(final):
        for unit in range(len(widths[level])):
            if (level, unit) in fed:
                continue
            d = int(rng.integers(config.minimum_skip_connection_depth,
                                 config.maximum_skip_connection_depth + 1))
            target_level = min(level + d, final)
            target_unit = int(rng.integers(len(widths[target_level])))
            repairs.append(Connection((level, unit), (target_level, target_unit)))
    return repairs


@dataclass(frozen=True)
class WiringPlan:
    """A planned network: unit widths level by level, and every connection in order.

    ``connections`` lists each drawn input once per draw (duplicates kept); a unit
    concatenates its inputs in the order they appear here.
    """

    widths: tuple[tuple[int, ...], ...]
    connections: tuple[Connection, ...]
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def n_levels(self) -> int:
        return len(self.widths)

    def kind(self, level: int) -> str:
        """``"input"``, ``"dense"`` or ``"final"``."""
        return NetworkSpec(self.widths).kind(level)

    def units(self) -> Iterator[tuple[int, int]]:
        """Every ``(level, unit_id)``, inputs first, in level then unit order."""
        for level, widths in enumerate(self.widths):
            for unit in range(len(widths)):
                yield level, unit

    def inputs_by_unit(self) -> dict[tuple[int, int], list[Connection]]:
        """Each non-input unit's incoming connections, in concatenation order."""
        inputs: dict[tuple[int, int], list[Connection]] = {
            u: [] for u in self.units() if u[0] > 0}
        for c in self.connections:
            inputs[c.target].append(c)
        return inputs

    def counts(self) -> dict[str, int]:
        """Numbers of vertical, lateral and gated connections."""
        lateral = sum(c.kind == "lateral" for c in self.connections)
        return {"vertical": len(self.connections) - lateral, "lateral": lateral,
                "gated": sum(c.gated for c in self.connections)}

    def validate(self) -> None:
        """Raise ValueError unless the plan is well formed and acyclic."""
        if len(self.widths) < 2 or any(not level for level in self.widths):
            raise ValueError("plan: needs an input level and a final level, none of them empty.")
        if any(int(w) < 1 for level in self.widths for w in level):
            raise ValueError("plan: every unit needs a width of at least 1.")
        for c in self.connections:
            (sl, su), (tl, tu) = c.source, c.target
            if not (0 <= sl < self.n_levels and 0 <= tl < self.n_levels
                    and 0 <= su < len(self.widths[sl]) and 0 <= tu < len(self.widths[tl])):
                raise ValueError(f"plan: connection {c.to_dict()} names a unit that does not exist.")
            if c.kind == "vertical" and not sl < tl:
                raise ValueError(f"plan: vertical connection {c.to_dict()} must go to a later level.")
            if c.kind == "lateral" and not (sl == tl and su < tu):
                raise ValueError(f"plan: lateral connection {c.to_dict()} must come from a lower "
                                 "unit id on the same level.")
            if c.kind not in ("vertical", "lateral"):
                raise ValueError(f"plan: unknown connection kind {c.kind!r}.")
            if tl == 0:
                raise ValueError(f"plan: connection {c.to_dict()} feeds an input unit.")
        missing = [u for u, ins in self.inputs_by_unit().items() if not ins]
        if missing:
            raise ValueError(f"plan: units {missing} have no inputs.")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable data from which :meth:`from_dict` rebuilds the same plan."""
        kinds = [self.kind(level) for level in range(self.n_levels)]
        return {
            "format_version": PLAN_FORMAT_VERSION,
            "levels": [[{"unit_id": i, "n_neurons": int(w), "kind": kinds[level]}
                        for i, w in enumerate(widths)] for level, widths in enumerate(self.widths)],
            "connections": [c.to_dict() for c in self.connections],
            "params": dict(self.params),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "WiringPlan":
        """Rebuild a plan from :meth:`to_dict`'s output, validating it."""
        try:
            widths = tuple(tuple(int(u["n_neurons"]) for u in level) for level in data["levels"])
            connections = tuple(
                Connection(tuple(c["from"]), tuple(c["to"]), c.get("kind", "vertical"),
                           bool(c.get("gated", False)))
                for c in data["connections"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"plan data is malformed ({error!r}); expected the output of "
                             "WiringPlan.to_dict() / NeuralNetworkFuture.to_dict().") from None
        plan = cls(widths, connections, dict(data.get("params", {})))
        plan.validate()
        return plan


def plan_wiring(spec: NetworkSpec, config: WiringConfig, rng: np.random.Generator) -> WiringPlan:
    """Plan the wiring of ``spec``: vertical draws, laterals, gating and rule-2 repairs.

    Parameters
    ----------
    spec : NetworkSpec
        Unit widths level by level (level 0: inputs; last level: outputs).
    config : WiringConfig
        Connectivity hyper-parameters.
    rng : numpy.random.Generator
        The only source of randomness: the same generator state gives the same plan.

    Returns
    -------
    WiringPlan
        Runs in O(connections + Σ_levels units² × tries).
    """
    widths = spec.widths
    final = len(widths) - 1
    connections: list[Connection] = []
    for level in range(1, len(widths)):
        counts = draw_counts(widths, level, config)
        laterals: dict[int, list[tuple[int, int, bool]]] = {}
        if level != final:
            for source, target, gated in draw_laterals(len(widths[level]), config, rng):
                laterals.setdefault(target, []).append((source, target, gated))
        for unit in range(len(widths[level])):
            for source_level, count in counts:
                for source_unit in rng.integers(len(widths[source_level]), size=count).tolist():
                    connections.append(Connection((source_level, source_unit), (level, unit)))
            for source, target, gated in laterals.get(unit, ()):
                connections.append(Connection((level, source), (level, target), "lateral", gated))
    connections.extend(repair_dead_ends(widths, connections, config, rng))
    return WiringPlan(widths, tuple(connections), config.to_params())
