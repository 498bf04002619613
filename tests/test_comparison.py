"""`klaster compare`: gains over no policy are paired by seed, and the page is self-contained."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.report.comparison import paired_differences, write_comparison_report
from sim.runner.compare import add_baseline_gains, mean_interval, summary_table


def _runs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "scenario": ["no_policy", "no_policy", "top_down", "top_down"],
            "seed": [0, 1, 0, 1],
            "cumulative_value_added": [100.0, 200.0, 110.0, 230.0],
            "budget_spent": [0.0, 0.0, 5.0, 10.0],
        }
    )


def test_gain_per_budget_compares_runs_with_the_same_seed():
    runs = add_baseline_gains(_runs())
    top = runs[runs["scenario"] == "top_down"].set_index("seed")
    assert top.loc[0, "va_gain"] == 10.0 and top.loc[1, "va_gain"] == 30.0
    assert top.loc[0, "va_gain_per_budget"] == 2.0 and top.loc[1, "va_gain_per_budget"] == 3.0
    assert runs[runs["scenario"] == "no_policy"]["va_gain_per_budget"].isna().all()


def test_interval_contains_the_mean_and_shrinks_with_more_seeds():
    rng = np.random.default_rng(0)
    small = mean_interval(pd.Series(rng.normal(5, 1, 10)))
    large = mean_interval(pd.Series(rng.normal(5, 1, 1000)))
    assert small[1] < small[0] < small[2]
    assert large[2] - large[1] < small[2] - small[1]
    assert large[1] < 5 < large[2]


def _steps() -> pd.DataFrame:
    rows = []
    for scenario, lift in (("no_policy", 0.0), ("top_down", 3.0)):
        for seed, world in ((0, 100.0), (1, 500.0)):  # two very different worlds
            for step in range(3):
                value = world + step + lift * step
                rows.append(
                    {
                        "scenario": scenario,
                        "seed": seed,
                        "step": step,
                        "value_added": value,
                        "market_share": 0.5,
                        "employment": value,
                        "vertical_linkage": 0.3,
                    }
                )
    return pd.DataFrame(rows)


def test_paired_differences_remove_the_spread_between_worlds():
    diff = paired_differences(_steps())
    assert set(diff["scenario"]) == {"top_down"}
    for seed in (0, 1):
        one = diff[diff["seed"] == seed].sort_values("step")
        assert one["value_added"].tolist() == [0.0, 3.0, 6.0]


def test_comparison_page_is_self_contained(tmp_path):
    runs = add_baseline_gains(
        _runs().assign(**{name: 1.0 for name in ("value_added", "market_share", "employment")})
    )
    path = tmp_path / "report.html"
    write_comparison_report(runs, _steps(), summary_table(runs), path)
    page = path.read_text()
    assert page.count("<script") >= 1 and 'src="http' not in page
    assert "Difference from no policy, same world" in page
    assert "<table>" in page
