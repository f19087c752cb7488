"""The original's connectivity mix-ins and decay functions, kept for existing notebooks.

``DenseAutoMlStructuralComponent`` holds the skip-connection arguments and
``DenseLateralConnectivity`` the lateral ones; their defaults are
:data:`cerebros.config.WIRING_DEFAULTS`, the same as every other entry point's.
"""

from __future__ import annotations

from typing import Any

from cerebros.config import WIRING_DEFAULTS as _W
from cerebros.decay import simple_sigmoid, zero_7_exp_decay, zero_95_exp_decay

__all__ = ["DenseAutoMlStructuralComponent", "DenseLateralConnectivity",
           "zero_7_exp_decay", "zero_95_exp_decay", "simple_sigmoid"]


class DenseAutoMlStructuralComponent:
    """Skip-connection arguments of a Cerebros network (original defaults)."""

    def __init__(self, minimum_skip_connection_depth=_W.minimum_skip_connection_depth,
                 maximum_skip_connection_depth=_W.maximum_skip_connection_depth,
                 predecessor_level_connection_affinity_factor_first=(
                     _W.predecessor_level_connection_affinity_factor_first),
                 predecessor_level_connection_affinity_factor_first_rounding_rule=(
                     _W.predecessor_level_connection_affinity_factor_first_rounding_rule),
                 predecessor_level_connection_affinity_factor_main=(
                     _W.predecessor_level_connection_affinity_factor_main),
                 predecessor_level_connection_affinity_factor_main_rounding_rule=(
                     _W.predecessor_level_connection_affinity_factor_main_rounding_rule),
                 predecessor_level_connection_affinity_factor_decay_main=(
                     _W.predecessor_level_connection_affinity_factor_decay_main),
                 seed=8675309, *args: Any, **kwargs: Any) -> None:
        self.minimum_skip_connection_depth = minimum_skip_connection_depth
        self.maximum_skip_connection_depth = maximum_skip_connection_depth
        self.predecessor_level_connection_affinity_factor_first = \
            predecessor_level_connection_affinity_factor_first
        self.predecessor_level_connection_affinity_factor_first_rounding_rule = \
            predecessor_level_connection_affinity_factor_first_rounding_rule
        self.predecessor_level_connection_affinity_factor_main = \
            predecessor_level_connection_affinity_factor_main
        self.predecessor_level_connection_affinity_factor_main_rounding_rule = \
            predecessor_level_connection_affinity_factor_main_rounding_rule
        self.predecessor_level_connection_affinity_factor_decay_main = \
            predecessor_level_connection_affinity_factor_decay_main
        self.seed = seed


class DenseLateralConnectivity:
    """Lateral-connection arguments of a Cerebros network (original defaults)."""

    def __init__(self, max_consecutive_lateral_connections=_W.max_consecutive_lateral_connections,
                 gate_after_n_lateral_connections=_W.gate_after_n_lateral_connections,
                 gate_activation_function=_W.gate_activation_function,
                 p_lateral_connection=_W.p_lateral_connection,
                 p_lateral_connection_decay=_W.p_lateral_connection_decay,
                 num_lateral_connection_tries_per_unit=_W.num_lateral_connection_tries_per_unit,
                 *args: Any, **kwargs: Any) -> None:
        self.max_consecutive_lateral_connections = max_consecutive_lateral_connections
        self.gate_after_n_lateral_connections = gate_after_n_lateral_connections
        self.gate_activation_function = gate_activation_function
        self.p_lateral_connection = p_lateral_connection
        self.p_lateral_connection_decay = p_lateral_connection_decay
        self.num_lateral_connection_tries_per_unit = num_lateral_connection_tries_per_unit
