"""Validation checks compute what they claim, on constructed cases with known answers."""

from __future__ import annotations

import numpy as np

from sim.calibrate import patterns as v


def test_firm_size_share_and_skew() -> None:
    workers = np.array([1] * 90 + [2] * 5 + [50, 60, 80, 100, 300])
    check = v.check_firm_size(workers)
    assert check.observed == 0.95 and check.passed
    assert not v.check_firm_size(np.array([30.0] * 10 + [1.0] * 5)).passed


def test_cluster_size_pattern() -> None:
    sizes = np.array([10] * 40 + [20] * 8 + [400, 500])
    types = np.array([0] * 30 + [1] * 20)
    export = np.array([0.0] * 48 + [0.5, 0.6])
    check = v.check_cluster_size(sizes, types, export)
    assert check.passed and "export clusters 4%" in check.observed_text
    too_many = v.check_cluster_size(sizes, types, np.full(50, 0.5))
    assert not too_many.passed


def test_small_producer_share_band_is_factor_two_around_jepara() -> None:
    assert v.check_small_producer_share(0.036, 0.6).passed
    assert v.check_small_producer_share(0.019, 0.6).passed
    assert not v.check_small_producer_share(0.08, 0.6).passed
    assert not v.check_small_producer_share(0.01, 0.6).passed


def test_takeup_and_employment_effect() -> None:
    assert v.check_takeup_employment(0.3, 0.01).passed
    assert not v.check_takeup_employment(0.8, 0.0).passed
    assert not v.check_takeup_employment(0.3, -0.2).passed


def test_joint_action_rises_and_fades() -> None:
    diff = np.r_[np.zeros(12), [0.02, 0.04, 0.03, 0.02, 0.01], np.zeros(10)]
    assert v.check_joint_action(diff, 12, pre_level=0.1).passed
    persistent = np.r_[np.zeros(12), np.full(15, 0.04)]
    assert not v.check_joint_action(persistent, 12, pre_level=0.1).passed
    flat = np.zeros(27)
    assert not v.check_joint_action(flat, 12, pre_level=0.1).passed


def test_shock_needs_exits_at_every_size_and_slow_recovery() -> None:
    assert v.check_shock({0.3: 5.0, 0.85: 20.0}, {0.3: 0.0, 0.85: 6.0}).passed
    assert v.check_shock({0.3: 5.0, 0.85: 20.0}, {0.3: 0.0, 0.85: float("nan")}).passed
    assert not v.check_shock({0.3: -1.0, 0.85: 20.0}, {0.3: 0.0, 0.85: 6.0}).passed
    assert not v.check_shock({0.3: 5.0, 0.85: 20.0}, {0.3: 0.0, 0.85: 2.0}).passed


def test_heterogeneity_and_gatekeepers() -> None:
    productivity = np.linspace(0.5, 2.0, 100)
    stage = np.array([2] * 10 + [1] * 90)
    va = np.r_[np.full(10, 5.0), np.full(90, 0.5)]  # traders: 10% of firms, ~53% of VA
    check = v.check_heterogeneity(productivity, stage, va)
    assert check.passed and abs(check.observed - 0.5263 / 0.1) < 0.01
    assert not v.check_heterogeneity(np.ones(100), stage, va).passed


def test_median_counts_unrecovered_as_slowest() -> None:
    assert v._median_censored([1.0, float("nan"), float("nan")]) != v._median_censored([1.0])
    assert np.isnan(v._median_censored([float("nan")] * 3))
    assert v._median_censored([2.0, 4.0, float("nan")]) == 4.0
