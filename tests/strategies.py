"""Hypothesis strategies shared by the wiring and evolution property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from cerebros.config import WiringConfig


def wiring_configs(*, max_extra_depth: int, max_first: float, max_main: float,
                   max_final: float, p_lateral, max_tries: int, max_cap: int):
    """Random :class:`WiringConfig` objects; the keyword arguments bound the drawn values
    (``p_lateral`` is the strategy for ``p_lateral_connection``)."""
    return st.builds(
        lambda lo, extra, first, main, rf, rm, final, p, tries, cap, gate: WiringConfig(
            minimum_skip_connection_depth=lo, maximum_skip_connection_depth=lo + extra,
            predecessor_level_connection_affinity_factor_first=first,
            predecessor_level_connection_affinity_factor_main=main,
            predecessor_level_connection_affinity_factor_first_rounding_rule=rf,
            predecessor_level_connection_affinity_factor_main_rounding_rule=rm,
            predecessor_level_connection_affinity_factor_final_to_kminus1=final,
            p_lateral_connection=p, num_lateral_connection_tries_per_unit=tries,
            max_consecutive_lateral_connections=cap, gate_after_n_lateral_connections=gate),
        st.integers(1, 3), st.integers(0, max_extra_depth), st.floats(0, max_first),
        st.floats(0, max_main), st.sampled_from(["ceil", "floor"]),
        st.sampled_from(["ceil", "floor"]), st.floats(0, max_final), p_lateral,
        st.integers(0, max_tries), st.integers(0, max_cap), st.integers(1, 4))
