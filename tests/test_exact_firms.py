"""The fused compiled passes of a quarter's firm dynamics and outcomes are the steps they
replaced, bit for bit: exit (``kernels.firms.leave``), compaction (``compact_groups``,
``follow_compaction``) and the aggregate row (``kernels.metrics.aggregate_row``). Each test runs
the old way beside the new one on the same state."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.firms import exits
from sim.model.kernels import firms as fk
from sim.model.kernels import metrics as mk
from sim.model.kernels.draws import stream_of, uniform, uniforms
from sim.model.kernels.firm_state import close_holes
from sim.model.kernels.ties import cut_ties_to_dead, follow_moves
from sim.model.metrics import (
    AGGREGATE_COLUMNS,
    CLUSTER_COLUMNS,
    SMALL_FIRM_WORKERS,
    aggregate_outcomes,
    classify_clusters,
    cluster_outcomes,
)
from sim.scenario.codes import CLUSTER_TYPES, EXPORT, PRODUCER, SEGMENTS, UPSTREAM
from tests.conftest import small_model


def _old_exit(model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exit as ``_exit_and_entry`` did it before ``leave``: numpy and five kernel calls."""
    f = model.firms
    leaving = fk.leavers(f.cash, f.loss_streak, model.config.firms.exit_patience)
    retired = np.zeros(0, dtype=np.int64)
    if len(leaving):
        dead = np.zeros(f.size + 1, dtype=bool)
        dead[leaving] = True
        for column in (f.supplier, f.trader):
            cut_ties_to_dead(column, dead)
        model.ties.drop_firms(dead)
        retired = f.uid[leaving]
        f.release(leaving)
    expected = fk.expected_entrants(
        f.cluster, f.profit, f.sales, model.clusters.count, float(model.config.firms.entry_rate)
    )
    return leaving, retired, expected


def _twins(scenario: str, seed: int, steps: int, every: int):
    """Two models of one seed after ``steps`` quarters, every ``every``-th firm about to leave."""
    twins = []
    for _ in range(2):
        model = small_model(scenario, seed=seed)
        for _ in range(steps):
            model.step()
        model.firms.cash[::every] = -1.0  # more leavers than a quiet quarter has
        model.firms.loss_streak[::every] = model.config.firms.exit_patience
        twins.append(model)
    return twins


@pytest.mark.parametrize("scenario", ["top_down", "bottom_up"])
def test_one_exit_call_is_the_old_exit(scenario: str) -> None:
    model, before = _twins(scenario, seed=4, steps=3, every=5)
    ours, theirs = exits(model), _old_exit(before)
    for mine, old in zip(ours, theirs, strict=True):
        assert mine.tobytes() == old.tobytes() and mine.dtype == old.dtype
    assert len(ours[0]) > 0 and len(model.ties) > 0
    f, g = model.firms, before.firms
    for name in ("alive", "cluster", "uid", "supplier", "trader", "loss_streak"):
        assert np.array_equal(getattr(f, name), getattr(g, name)), name
    assert f.n_alive == g.n_alive < f.size and f.generation == g.generation
    assert np.array_equal(model.ties.a, before.ties.a)
    assert np.array_equal(model.ties.b, before.ties.b)
    assert np.array_equal(model.ties.degree(f.size), before.ties.degree(g.size))


def test_compaction_in_one_call_is_the_old_compaction() -> None:
    """``FirmState.compact`` and ``_compact`` against the six calls and numpy they replaced."""
    model, reference = _twins("top_down", seed=6, steps=4, every=3)
    exits(model)
    exits(reference)
    model._compact()
    f = model.firms

    g = reference.firms
    n = g.n_alive
    holes = np.flatnonzero(~g.alive[:n])
    movers = n + np.flatnonzero(g.alive[n:])
    assert len(holes) > 0
    from sim.model.firm_state import GROUP_FILLS

    for dtype, group in g._groups.items():
        close_holes(group, holes, movers, n, g.size, GROUP_FILLS[dtype])
    g.size = n
    g._bind()
    where = np.zeros(int(movers[-1]) + 1 - n, dtype=holes.dtype)
    where[movers - n] = holes
    for column in (g.supplier, g.trader):
        follow_moves(column, where, n)
    reference.ties.relabel(where, n)
    reference._slot_by_uid[g.uid[holes]] = holes

    for dtype, group in f._groups.items():
        assert group.tobytes() == g._groups[dtype].tobytes()
    assert f.size == g.size == n
    assert np.array_equal(model.ties.a, reference.ties.a)
    assert np.array_equal(model.ties.b, reference.ties.b)
    assert np.array_equal(model._slot_by_uid, reference._slot_by_uid)


def _old_aggregate(model, per_cluster) -> dict[str, float]:
    """``aggregate_outcomes`` as it was: two compiled totals, then Python expressions."""
    f, c, m = model.firms, model.clusters, model.market
    alive = f.n_alive > 0
    t = mk.economy_totals(
        per_cluster.totals,
        float(model.config.firms.input_coefficient),
        per_cluster.small_producer_va,
        per_cluster.firm_log_productivity,
        mk.FirmCounts(f.alive, f.uid, f.member, f.quality),
        mk.ClusterCounts(c.joint_action, c.coordinator, c.support_step, c.support_total),
        model._founder_max_uid,
    )
    inside, outside, demand, weighted_share, segment_demand = mk.market_totals(
        m.inside_sales, m.outside_sales, m.effective_demand
    )
    types = np.bincount(c.cluster_type, minlength=len(CLUSTER_TYPES))
    row = {
        "step": float(model.steps),
        "firms": float(f.n_alive),
        "employment": t.employment,
        "sales": t.sales,
        "value_added": t.value_added,
        "va_per_worker": t.value_added / max(t.employment, 1e-9),
        "market_share": inside / max(demand, 1e-12),
        "demand": demand,
        "outside_sales": outside,
    }
    for s, segment in enumerate(SEGMENTS):
        row[f"market_share_{segment}"] = float(weighted_share[s] / max(segment_demand[s], 1e-12))
    row.update(
        {
            "export_share": t.export_sales / max(t.final_sales, 1e-12),
            "entries": float(model.entries_step),
            "exits": float(model.exits_step),
            "survival": t.founders_alive / max(model.founders, 1),
            "productivity_mean": t.productivity / f.n_alive if alive else 0.0,
            "productivity_spread": t.log_productivity_spread if alive else 0.0,
            "quality_mean": t.quality_mean if alive else 0.0,
            "vertical_linkage": t.local_inputs / max(t.input_units, 1e-12),
            "horizontal_density": len(model.ties) / max(t.pairs, 1),
            "member_share": t.members / f.n_alive if alive else 0.0,
            "joint_action": t.joint_action / max(t.firms, 1),
            "coordinators_emergent": float(t.coordinators_emergent),
            "coordinators_appointed": float(t.coordinators_appointed),
            "support": t.support,
            "budget_spent": float(model.budget_spent),
            "budget_available": float(model.budget.available),
            "budget_delivered": float(model.budget.delivered),
            "budget_leaked": float(model.budget.leaked),
            "budget_coordinators": float(model.budget.coordinators),
            "budget_unspent": float(model.budget.unspent),
            "budget_carried": float(model.budget.carried),
            "supported_clusters": float(t.supported_clusters),
            "support_gini": t.support_gini,
            "share_unsupported": 1 - t.supported_ever / c.count,
            "takeup_rate": float(model.takeup_taken / model.takeup_offered)
            if model.takeup_offered
            else float("nan"),
            "small_producer_va_share": t.small_producer_va / max(t.value_added, 1e-12),
        }
    )
    for t_index, name in enumerate(CLUSTER_TYPES):
        row[f"clusters_{name}"] = float(types[t_index])
    return {name: row[name] for name in AGGREGATE_COLUMNS}


@pytest.mark.parametrize("scenario", ["top_down", "demand_driven", "bottom_up", "no_policy"])
def test_aggregate_row_is_the_old_dict(scenario: str) -> None:
    model = small_model(scenario, seed=7)
    seen_takeup = False
    for step in range(8):
        model.step()
        if step == 5:  # odd values: no takeup yet offered, ints as floats, zeros
            model.takeup_offered, model.takeup_taken = 3, 1
            model.founders = 0
        per_cluster = cluster_outcomes(model)
        ours = aggregate_outcomes(model, per_cluster)
        theirs = np.array(list(_old_aggregate(model, per_cluster).values()))
        assert ours.tobytes() == theirs.tobytes()
        seen_takeup |= model.takeup_offered > 0
    assert seen_takeup


def test_aggregate_row_without_firms_or_takeup() -> None:
    """Edge cases the Python expressions handled: no live firms (ratios 0), no offers (NaN)."""
    model = small_model("no_policy", seed=8)
    model.step()
    per_cluster = cluster_outcomes(model)
    model.takeup_offered = model.takeup_taken = 0
    model.firms.n_alive = 0
    ours = aggregate_outcomes(model, per_cluster)
    theirs = np.array(list(_old_aggregate(model, per_cluster).values()))
    assert ours.tobytes() == theirs.tobytes()
    assert np.isnan(ours[list(AGGREGATE_COLUMNS).index("takeup_rate")])


def _old_cluster_columns(model) -> dict[str, np.ndarray]:
    """``cluster_outcomes`` as it was: three kernel calls and numpy copies per column."""
    f, c = model.firms, model.clusters
    n = c.count
    totals, _ = mk.cluster_totals(
        f.cluster,
        f.stage,
        f.segment,
        f.workers,
        f.sales,
        f.value_added,
        f.units,
        f.local_inputs,
        f.productivity,
        n,
        UPSTREAM,
        PRODUCER,
        EXPORT,
        SMALL_FIRM_WORKERS,
    )
    ties = mk.count_per_cluster(f.cluster, model.ties.pairs()[0], n)
    ratios = mk.cluster_ratios(totals, ties, float(model.config.firms.input_coefficient))
    return {
        "firms": totals[0],
        "employment": totals[1],
        "sales": totals[2],
        "value_added": totals[5],
        "va_per_worker": ratios[0],
        "export_share": ratios[1],
        "productivity_mean": ratios[2],
        "vertical_linkage": ratios[3],
        "horizontal_density": ratios[4],
        "members": c.members.astype(float),
        "joint_action": c.joint_action.copy(),
        "coordinator": c.coordinator.astype(float),
        "selected": c.selected.astype(float),
        "support": c.support_step.copy(),
        "support_total": c.support_total.copy(),
        "cluster_type": c.cluster_type.astype(float),
    }


@pytest.mark.parametrize("scenario", ["top_down", "bottom_up"])
def test_cluster_table_is_the_old_columns(scenario: str) -> None:
    model = small_model(scenario, seed=9)
    for _ in range(6):
        model.step()
        theirs = _old_cluster_columns(model)
        ours = cluster_outcomes(model)
        assert list(theirs) == list(CLUSTER_COLUMNS)
        for name, row in zip(CLUSTER_COLUMNS, ours.table, strict=True):
            assert row.tobytes() == theirs[name].tobytes(), name
        kind = classify_clusters(model, ours)
        assert ours.column("cluster_type").tobytes() == kind.astype(float).tobytes()
    assert ours.column("horizontal_density").any()  # ties were counted per cluster


@pytest.mark.parametrize("burn_in", [0, 3])
def test_kept_log_productivity_is_numpys_log_of_every_firm(burn_in: int) -> None:
    """Outcomes read the log productivity entry worked out (incumbents' in one call, the
    entrants' in another): it must be numpy's log of the whole column, as outcomes took it."""
    model = small_model("top_down", seed=10, run__burn_in=burn_in)
    entered = 0
    for _ in range(6):
        f = model.firms
        expected = np.log(np.maximum(f.productivity, 1e-9))
        assert f.log_productivity.tobytes() == expected.tobytes()
        model.step()
        entered += model.entries_step
    assert entered > 0


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_a_stream_draws_what_the_generator_draws(seed: int) -> None:
    """``kernels.draws.uniforms`` calls the bit generator's own ``next_double``: the numbers
    ``Generator.random`` gives, and the generator is left where numpy would leave it."""
    ours, numpys = np.random.default_rng(seed), np.random.default_rng(seed)
    for n in (0, 1, 2, 7, 8, 1000, 100_001):
        assert uniforms(stream_of(ours), n).tobytes() == numpys.random(n).tobytes(), n
        assert ours.normal() == numpys.normal()  # interleaved with numpy's own draws
    assert uniform(stream_of(ours)) == numpys.random()
    assert ours.bit_generator.state == numpys.bit_generator.state
    other = np.random.Generator(np.random.Philox(seed))  # another bit generator type
    assert (
        uniforms(stream_of(other), 5).tobytes()
        == np.random.Generator(np.random.Philox(seed)).random(5).tobytes()
    )


def test_cluster_sum_is_numpys_bincount() -> None:
    rng = np.random.default_rng(11)
    for n, clusters in ((0, 3), (1, 1), (50, 7), (10_000, 120)):
        cluster = rng.integers(0, max(clusters - 1, 1), n).astype(np.int32)  # last one empty
        values = rng.lognormal(0.0, 3.0, n) * (rng.random(n) < 0.9)  # zeros too
        values[: n // 10] *= -1.0
        ours = fk.cluster_sum(cluster, values, clusters)
        assert ours.tobytes() == np.bincount(cluster, values, minlength=clusters).tobytes()
