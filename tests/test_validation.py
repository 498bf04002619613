"""The statistics measure what they claim, on constructed records with known answers."""

from __future__ import annotations

import numpy as np

from sim.calibrate import patterns as p
from sim.scenario.codes import DOWNSTREAM


def test_firm_size_share_and_skew_pool_the_seeds() -> None:
    records = [{"workers": np.array([1] * 45 + [50])}, {"workers": np.array([2] * 45 + [300])}]
    assert p.small_firm_share(records) == 90 / 92
    assert p.firm_size_skewness(records) > 1
    assert p.small_firm_share([{"workers": np.array([30.0] * 10)}]) == 0


def test_cluster_size_statistics() -> None:
    sizes = np.array([10] * 40 + [20] * 8 + [400, 500])
    record = {
        "cluster_size": sizes,
        "cluster_type": np.array([0] * 30 + [1] * 20),
        "cluster_export_share": np.array([0.0] * 48 + [0.5, 0.6]),
    }
    assert p.dormant_cluster_share([record]) == 0.6
    assert p.export_cluster_share([record]) == 0.04
    assert p.export_cluster_size_ratio([record]) == 45.0  # median 450 over median 10
    assert p.cluster_size_skewness([record]) > 1
    none = {**record, "cluster_export_share": np.zeros(50)}
    assert p.export_cluster_size_ratio([none]) == 0.0


def test_joint_action_rise_and_fade_read_the_seed_mean_series() -> None:
    rise = np.r_[np.zeros(12), [0.02, 0.04, 0.03, 0.02, 0.01], np.zeros(10)]
    persistent = np.r_[np.zeros(12), np.full(15, 0.04)]

    def record(diff):
        return {"joint_action_diff": diff, "joint_action_pre": 0.1, "crisis_step": 12}

    assert p.joint_action_crisis_rise([record(rise)]) == 0.04 / 0.1
    assert p.joint_action_fade([record(rise)]) == 0.0
    assert p.joint_action_fade([record(persistent)]) == 1.0
    # a rise in one seed and a fall of the same size in another average to nothing
    assert p.joint_action_crisis_rise([record(rise), record(-rise)]) == 0.0


def test_recovery_counts_a_run_that_never_recovers_as_the_quarters_it_had_left() -> None:
    records = [{"recovery_85": q, "quarters_left": 28.0} for q in (2.0, float("nan"), np.nan)]
    assert p.recovery_quarters("85")(records) == 28.0
    assert p.recovery_quarters("85")(records[:1]) == 2.0


def test_heterogeneity_and_trader_leverage() -> None:
    record = {
        "productivity": np.linspace(0.5, 2.0, 100),
        "stage": np.array([DOWNSTREAM] * 10 + [1] * 90),
        "firm_value_added": np.r_[np.full(10, 5.0), np.full(90, 0.5)],
    }
    assert abs(p.trader_va_leverage([record]) - (50 / 95) / 0.1) < 1e-9
    assert p.productivity_p90_p10([record]) > 1.5
    assert p.productivity_p90_p10([{"productivity": np.ones(10)}]) == 1.0


def test_means_over_seeds_ignore_missing_values() -> None:
    records = [{"takeup_rate": 0.2}, {"takeup_rate": 0.4}, {"takeup_rate": float("nan")}]
    assert abs(p.takeup_rate(records) - 0.3) < 1e-12
    assert np.isnan(p.takeup_rate([{"takeup_rate": float("nan")}]))


def test_bootstrap_interval_covers_the_statistic_and_shrinks_with_more_seeds() -> None:
    rng = np.random.default_rng(0)
    statistic = p.STATISTICS["takeup_rate"]
    few = [{"takeup_rate": v} for v in rng.normal(0.3, 0.1, 8)]
    many = [{"takeup_rate": v} for v in rng.normal(0.3, 0.1, 128)]
    low, high = p.bootstrap_interval(few, statistic)
    assert low <= statistic.compute(few) <= high
    low_many, high_many = p.bootstrap_interval(many, statistic)
    assert high_many - low_many < high - low
    assert p.bootstrap_interval(few, statistic) == (low, high)  # reproducible


def test_every_statistic_names_a_known_run_group() -> None:
    from sim.calibrate.measure import RUN_GROUPS

    assert all(s.needs in RUN_GROUPS for s in p.STATISTICS.values())


def test_cirebon_export_trough_pools_seeds_so_a_tiny_exporter_cannot_dominate() -> None:
    records = [
        {"cirebon_exports_before": 100.0, "cirebon_exports_trough": 15.0},
        {"cirebon_exports_before": 0.01, "cirebon_exports_trough": 0.05},  # ratio 5 alone
    ]
    assert abs(p.cirebon_export_trough(records) - 15.05 / 100.01) < 1e-12


def test_export_shock_exits_are_counted_in_the_clusters_that_export() -> None:
    import pandas as pd

    from sim.calibrate.measure import export_clusters

    # cluster 0 sells half abroad the year before the shock, cluster 1 a tenth, cluster 2
    # crosses 25% only after the shock: only cluster 0 is an export cluster
    rows = [
        {"step": s, "cluster": c, "export_share": share, "firms": 10}
        for s in range(8, 16)
        for c, share in ((0, 0.5), (1, 0.1), (2, 0.1 if s < 12 else 0.9))
    ]
    assert export_clusters(pd.DataFrame(rows), shock=12).tolist() == [True, False, False]


def test_export_firm_loss_weighs_seeds_by_their_exporters() -> None:
    records = [
        {"export_cluster_firms": 300.0, "export_firm_loss_30": 0.1},
        {"export_cluster_firms": 10.0, "export_firm_loss_30": 1.0},  # a few exporters, all gone
        {"export_cluster_firms": 0.0, "export_firm_loss_30": float("nan")},  # none at all
    ]
    assert abs(p.export_firm_loss("30")(records) - (30 + 10) / 310) < 1e-12


def test_presets_are_chosen_on_seeds_neither_the_fit_nor_the_validation_uses() -> None:
    import pandas as pd

    from sim.calibrate.select import candidates_of, selection_seeds
    from sim.calibrate.validation import validation_seeds

    assert not set(selection_seeds(13, 32)) & set(validation_seeds(13, 32))
    posterior = pd.DataFrame({"distance": [0.9, 0.5, 0.5, 0.7], "weight": [1, 1, 3, 1]})
    assert candidates_of(posterior, 3) == [2, 1, 3]  # smallest distance first, ties by weight


def test_selection_score_counts_targets_in_band() -> None:
    from sim.calibrate.config import Calibration
    from sim.calibrate.select import score

    calibration = Calibration.model_validate(
        {
            "parameters": {"firms.entry_rate": None},
            "targets": {
                "small_firm_share": {"value": 0.9, "tolerance": 0.05, "source": "test"},
                "firm_size_skewness": {"low": 10.0, "scale": 1.0, "source": "test"},
            },
        }
    )
    records = [{"workers": np.array([1.0] * 9 + [50.0])}]  # 90% small, skew ~2.7: misses 10
    distance, met = score(calibration, records)
    assert met == 1 and distance > 0
