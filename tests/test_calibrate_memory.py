"""A calibration worker evaluates thousands of parameter sets: none of its models may outlive
the seed that ran them (issue 13: workers grew to 12 GB and the OOM killer stopped the run)."""

from __future__ import annotations

import gc

import mesa

from sim.calibrate.measure import Setting, measure_seed

SMALL_WORLD = {"world.n_clusters": 6, "world.cluster_size_median": 8}


def _live_models() -> int:
    gc.collect()
    return sum(isinstance(o, mesa.Model) for o in gc.get_objects())


def test_no_model_survives_a_seed_of_the_calibration():
    setting = Setting(fixed=SMALL_WORLD, steps=8, shock_step=4)
    before = _live_models()
    for value in (0.1, 0.2, 0.3):  # distinct parameter values, as pyabc proposes them
        record = measure_seed(
            setting,
            {"firms.trader_commission": value},
            seed=7,
            groups=frozenset({"world", "top_down", "crisis"}),
        )
        assert "joint_action_diff" in record
    assert _live_models() == before
