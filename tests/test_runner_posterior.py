"""Posterior ensembles: each replicate draws a parameter set and a seed, deterministically."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.runner.executors import ExecutorSpec
from sim.runner.plan import make_plan
from sim.runner.sweep import run_sweep
from sim.scenario.errors import InputError


def _experiment(tmp_path: Path, posterior: str = "posterior.csv", seeds: str = "common") -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            scenarios: [no_policy, top_down]
            replicates: 6
            master_seed: 5
            seeds: {seeds}
            posterior: {posterior}
            set: {{world.n_clusters: 6, world.cluster_size_median: 8}}
            steps: 2
            """
        ),
        encoding="utf-8",
    )
    return path


def _posterior(tmp_path: Path) -> None:
    pd.DataFrame(
        {
            "market.customer_turnover": [0.05, 0.2, 0.4],
            "firms.exit_patience": [2, 4, 6],
            "weight": [0.2, 0.5, 0.3],
            "distance": [0.0, 0.1, 0.0],  # other columns are ignored
        }
    ).to_csv(tmp_path / "posterior.csv", index=False)


def test_each_replicate_draws_a_parameter_set_shared_by_its_scenarios(tmp_path: Path) -> None:
    _posterior(tmp_path)
    plan = make_plan(_experiment(tmp_path))
    draws = {(run.point, run.replicate): run.draw for run in plan.runs}
    assert all(draw in (0, 1, 2) for draw in draws.values())
    for r in range(6):  # common seeds: both regimes of replicate r run the same parameter set
        assert draws[(0, r)] == draws[(1, r)]
    assert len(set(draws.values())) > 1  # six replicates do not all draw one set
    assert draws == {(run.point, run.replicate): run.draw for run in make_plan(plan.path).runs}
    run = plan.runs[0]
    scenario = plan.run_scenario(run)
    chosen = plan.posterior.values[run.draw]
    assert scenario.market.customer_turnover == chosen["market.customer_turnover"]
    assert scenario.firms.exit_patience == chosen["firms.exit_patience"]
    assert plan.run_params(run) == chosen
    # runs that differ only by their draw are different runs in the store
    assert len({run.key for run in plan.runs}) == len(plan.runs)


def test_vary_wins_over_the_posterior(tmp_path: Path) -> None:
    _posterior(tmp_path)
    path = _experiment(tmp_path)
    path.write_text(
        path.read_text() + "vary: {market.customer_turnover: [0.9]}\n", encoding="utf-8"
    )
    plan = make_plan(path)
    assert all(plan.run_scenario(r).market.customer_turnover == 0.9 for r in plan.runs)


def test_a_sweep_over_the_posterior_records_each_runs_draw(tmp_path: Path) -> None:
    _posterior(tmp_path)
    plan = make_plan(_experiment(tmp_path))
    report = run_sweep(plan, tmp_path / "out", ExecutorSpec("serial"), quiet=True)
    assert report.failed == 0
    outcomes = pd.read_parquet(tmp_path / "out" / "outcomes.parquet")
    expected = {(r.point, r.replicate): r.draw for r in plan.runs}
    assert {
        (row.point, row.replicate): row.posterior_draw for row in outcomes.itertuples()
    } == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a,b\n1,2\n", "dotted scenario keys"),
        ("market.customer_turnover,weight\n0.1,-1\n", "weight"),
        ("market.customer_turnover\n7\n", "row 0"),  # out of the schema's range
        ("market.no_such_key\n1\n", "row 0"),
    ],
)
def test_a_bad_posterior_is_an_input_error(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "posterior.csv").write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        make_plan(_experiment(tmp_path))
    with pytest.raises(InputError, match="not found"):
        make_plan(_experiment(tmp_path, posterior="missing.csv"))


def test_the_report_says_where_in_the_posterior_a_verdict_holds() -> None:
    """Constructed runs: a wins by 1 everywhere, c wins by 1 only where x > 0.7."""
    from sim.report.analyses.posterior import posterior_verdicts

    rng = np.random.default_rng(0)
    rows = []
    for seed in range(80):
        x = rng.uniform(0, 1)
        base = rng.normal(0, 0.1)
        for scenario, gain in (("a", 1.0), ("b", 0.0), ("c", 1.0 if x > 0.7 else 0.0)):
            rows.append(
                {
                    "scenario": scenario,
                    "seed": seed,
                    "posterior_draw": seed % 20,
                    "market.x": x,
                    "va_index": base + gain + rng.normal(0, 0.01),
                }
            )
    table = posterior_verdicts(pd.DataFrame(rows), ["a", "b", "c"]).set_index("comparison")
    assert table.loc["a vs b", "holds"] == "whole posterior"
    assert table.loc["b vs c", "verdict"] == "loses"
    assert table.loc["b vs c", "holds"] == "part of the posterior: ties in a half"
    assert "ties where market.x <=" in table.loc["b vs c", "where it changes"]
    assert "market.x >" not in table.loc["b vs c", "where it changes"]
    # d loses by 2 where x is low and wins by 1 where x is high: b beats d overall, but in the
    # high half the opposite verdict is resolved (a flip, not lost power)
    flipping = pd.DataFrame(
        [
            {
                "scenario": scenario,
                "seed": seed,
                "posterior_draw": seed,
                "market.x": (seed + 0.5) / 80,  # the median cut falls at 0.5
                "va_index": gain(seed) + rng.normal(0, 0.01),
            }
            for seed in range(80)
            for scenario, gain in (
                ("b", lambda seed: 0.0),
                ("d", lambda seed: -2.0 if seed < 40 else 1.0),
            )
        ]
    )
    flipped = posterior_verdicts(flipping, ["b", "d"]).set_index("comparison")
    assert flipped.loc["b vs d", "verdict"] == "beats"
    assert flipped.loc["b vs d", "holds"] == "part of the posterior: flips"
