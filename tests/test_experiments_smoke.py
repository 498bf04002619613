"""The smoke experiments go through the real pipeline: experiment file -> sweep -> report.

Each full experiment in experiments/ has a reduced twin in experiments/smoke/ with the same
scenarios and factors; these tests run the twins (serial executor, small world, few quarters)
and build the report from their results.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from sim.cli import main as klaster
from sim.commands.report import SEEDED
from sim.model import groups

ROOT = Path(__file__).resolve().parent.parent
EXPERIMENTS = ROOT / "experiments"
SMOKE = sorted((EXPERIMENTS / "smoke").glob("*.yaml"))
FULL = sorted(p for p in EXPERIMENTS.glob("*.yaml") if p.name != "smoke.yaml")


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_every_experiment_has_a_matching_smoke_twin() -> None:
    smoke_names = {p.name for p in SMOKE}
    for full in FULL:
        assert full.name in smoke_names, f"{full.name} has no smoke version"
        a, b = _load(full), _load(EXPERIMENTS / "smoke" / full.name)
        assert [Path(s).name for s in a["scenarios"]] == [Path(s).name for s in b["scenarios"]]
        assert list(a.get("vary", {})) == list(b.get("vary", {}))
        assert a.get("design", {}).get("kind") == b.get("design", {}).get("kind")
        assert a["master_seed"] == b["master_seed"]
        assert a.get("seeds") == b.get("seeds")


COMPARISONS = set(SEEDED)  # the experiments whose intervals are over seeds
DISCOVERY = {"where_each_regime_wins"}  # regimes paired within a point, points independent


def test_comparison_experiments_use_common_seeds_and_screening_pairs_within_points() -> None:
    for full in FULL:
        if full.stem in COMPARISONS:
            expected = "common"
        elif full.stem.startswith("sensitivity_") or full.stem in DISCOVERY:
            expected = "paired"  # contrasts paired within a point; points are independent
        else:
            expected = None
        assert _load(full).get("seeds") == expected, full.name


def test_indonesia_variants_restate_the_presets_policies() -> None:
    from sim.scenario.files import load_scenario

    for regime in ("demand_driven", "bottom_up"):
        variant = load_scenario(EXPERIMENTS / "indonesia" / f"{regime}.yaml")
        preset = load_scenario(regime)
        assert variant.policy == preset.policy, regime
    # no policy: other keys are inherited from top-down but nothing acts without a budget
    assert not load_scenario(EXPERIMENTS / "indonesia" / "no_policy.yaml").policy_active
    historical = load_scenario(ROOT / "scenarios" / "indonesia.yaml")
    assert historical.policy == load_scenario("top_down").policy
    assert historical.policy.selected_clusters == 25
    named = {n.name: n for n in historical.world.named_clusters}
    assert named["Jepara furniture"].designated and named["Cirebon rattan"].designated
    # every variant runs the historical world: its named clusters differ in designation only
    for regime in ("no_policy", "demand_driven", "bottom_up"):
        variant = load_scenario(EXPERIMENTS / "indonesia" / f"{regime}.yaml")
        assert [n.model_dump(exclude={"designated"}) for n in variant.world.named_clusters] == [
            n.model_dump(exclude={"designated"}) for n in historical.world.named_clusters
        ], regime
    assert historical.market.shocks[0].products == ["rattan"]


def test_group_designation_matches_the_top_down_plan() -> None:
    from sim.model import ClusterModel
    from sim.scenario.files import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "indonesia.yaml", {"world.n_clusters": 30})
    model = ClusterModel(scenario=scenario, seed=5)
    predicted = groups.top_down_designation(model, 25)
    model.step()
    assert (predicted == model.clusters.selected).all()
    assert predicted[:2].all()  # the forced named clusters


@pytest.fixture(scope="module")
def smoke_results(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("results")
    for path in SMOKE:
        name = _load(path)["name"]
        args = [str(path), "--out", str(root / name), "--executor", "serial", "--quiet"]
        assert klaster(["sweep", *args]) == 0
    return root


def test_smoke_pipeline_builds_the_report(smoke_results: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    summaries = tmp_path / "summaries"
    code = klaster(
        [
            "report",
            "--results",
            str(smoke_results),
            "--out",
            str(out),
            "--summaries",
            str(summaries),
        ]
    )
    assert code == 0
    page = out.read_text(encoding="utf-8")
    for title in (
        "1. Regimes",
        "1b. Regimes over the calibrated posterior",
        "2. Decomposition",
        "3. Where top-down works",
        "4. Resilience",
        "5a. Sensitivity: Morris",
        "5b. Sensitivity: Sobol",
        "6. Indonesia",
        "7. Where each regime wins",
    ):
        assert title in page, title
    assert "<script src=" not in page and page.count("PlotlyConfig") == 1
    # 2-3 seeds per scenario: the page says so, and no contrast gets a verdict
    assert "Too few seeds" in page
    assert set(pd.read_csv(summaries / "regimes_effects.csv")["verdict"]) == {"too few seeds"}
    assert (summaries / "regimes_effects.csv").is_file()
    # common seeds in the experiment -> every regime contrast is paired by seed
    effects = pd.read_csv(summaries / "regimes_effects.csv")
    assert effects["pairing"].str.startswith("paired").all()
    assert (summaries / "regimes_effects_cumulative_va.csv").is_file()
    assert (summaries / "where_top_down_works.md").is_file()
    # the posterior twin draws a parameter set per replicate and says where each verdict holds
    assert (summaries / "regimes_posterior_effects.csv").is_file()
    assert (summaries / "regimes_posterior_posterior_verdicts.csv").is_file()


def test_report_without_results_is_an_input_error(tmp_path: Path) -> None:
    assert klaster(["report", "--results", str(tmp_path / "none")]) == 2
    (tmp_path / "empty").mkdir()
    assert klaster(["report", "--results", str(tmp_path / "empty")]) == 2


def test_every_report_figure_has_a_title_and_axis_titles(smoke_results: Path) -> None:
    from sim.commands.report import build_sections
    from sim.report.figures import missing_titles

    sections, _ = build_sections(smoke_results)
    named = [figure for section in sections for figure in section.figures]
    assert len(named) >= 7
    for name, fig in named:
        assert missing_titles(fig) == [], name
