"""The browser view's pieces without a browser: model factory, figures, tables, command line."""

from __future__ import annotations

import argparse

import numpy as np
import plotly.graph_objects as go
import pytest

from sim.commands import viz as command
from sim.scenario.errors import InputError
from sim.scenario.presets import PRESETS
from sim.viz import figures
from sim.viz.browser import is_loopback
from sim.viz.viz_model import PolicySettings, VizModel


@pytest.fixture(scope="module")
def top_down() -> VizModel:
    model = VizModel(preset="top_down", seed=3)
    for _ in range(6):
        model.step()
    return model


@pytest.fixture(scope="module")
def bottom_up() -> VizModel:
    model = VizModel(preset="bottom_up", seed=3)
    for _ in range(6):
        model.step()
    return model


def _fig(build):  # the views build plain JSON specs; validate them as plotly figures here
    return lambda *args, **kwargs: figures.as_figure(build(*args, **kwargs))


# --- model factory ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", PRESETS)
def test_preset_settings_are_the_preset_files_values(name: str) -> None:
    settings = PolicySettings.from_preset(name)
    model = VizModel(preset=name, baseline=False)
    policy = model.config.policy
    assert settings.overrides() == {}  # a preset untouched overrides nothing
    assert policy.planning_quality == settings.planning_quality
    assert policy.open_share == settings.open_share
    assert policy.selected_clusters == settings.selected_clusters
    assert policy.budget_per_quarter == settings.budget


def test_flat_keywords_override_only_what_they_name() -> None:
    model = VizModel(preset="bottom_up", planning_quality=0.8, selected_clusters=5)
    policy = model.config.policy
    assert policy.planning_quality == 0.8
    assert policy.selected_clusters == 5
    assert policy.open_share == 1.0  # still bottom-up's own value
    assert model.config.name == "bottom_up"


def test_settings_callable_is_read_when_the_model_is_built() -> None:
    chosen = PolicySettings.from_preset("demand_driven").with_values(monitoring=0.1)
    model = VizModel(settings=lambda: chosen, planning_quality=0.99)
    assert model.settings == chosen
    assert model.config.policy.monitoring == 0.1
    assert model.config.policy.planning_quality == 0.5  # settings win over flat keywords


def test_twin_is_the_no_policy_world_with_the_same_seed(top_down: VizModel) -> None:
    twin = top_down.baseline
    assert twin is not None
    assert twin.config.name == "no_policy"
    assert list(twin.clusters.name) == list(top_down.clusters.name)
    assert twin.steps == top_down.steps
    assert VizModel(preset="no_policy").baseline is None
    assert VizModel(preset="top_down", baseline=False).baseline is None


def test_shock_hits_the_regime_and_its_twin() -> None:
    model = VizModel(preset="top_down", seed=1)
    model.step()
    model.trigger_shock(size=0.5, segments=("export",))
    assert [s.step for s in model.shocks] == [1]
    for m in (model, model.baseline):
        assert np.isclose(m.market.shock_multiplier.min(), 0.5)


def test_step_timing_is_recorded(top_down: VizModel) -> None:
    assert len(top_down.timing.history) == 6
    assert top_down.timing.model_ms > 0 and top_down.timing.baseline_ms > 0


# --- cluster map -------------------------------------------------------------------------------
def _trace(fig: go.Figure, name: str) -> go.Scatter:
    return next(t for t in fig.data if t.name == name)


def test_map_marks_designated_clusters(top_down: VizModel) -> None:
    fig = _fig(figures.cluster_map)(top_down)
    designated = _trace(fig, "designated")
    assert designated.marker.symbol == "diamond"
    selected = np.flatnonzero(top_down.clusters.selected)
    assert len(designated.x) == len(selected) == 25
    names = {row[1] for row in designated.customdata}
    assert {int(row[0]) for row in designated.customdata} == set(selected)  # clicks name these
    assert names == {top_down.clusters.name[i] for i in selected}
    assert _trace(fig, "designated (25)").showlegend is not False
    assert not any(t.type in ("scattergeo", "choropleth", "scattermapbox") for t in fig.data)


def test_map_marks_open_call_support_in_bottom_up(bottom_up: VizModel) -> None:
    # at the calibrated participation cost few clusters apply in six quarters: give two
    # undesignated clusters open-call support by hand (the figure's rule is under test here)
    totals = bottom_up.clusters.support_total
    kept = totals.copy()
    totals[np.flatnonzero(~bottom_up.clusters.selected)[:2]] += 1.0
    try:
        fig = _fig(figures.cluster_map)(bottom_up)
        supported = _trace(fig, figures.SUPPORTED_NOT_DESIGNATED)
        expected = (totals > 0) & ~bottom_up.clusters.selected
        assert expected.sum() >= 2
        assert len(supported.x) == expected.sum()
    finally:
        totals[:] = kept
    assert supported.marker.line.width > 1  # ringed
    assert len(_trace(fig, "designated").x) == 0


def test_map_sizes_by_firms_and_colours_by_type(top_down: VizModel) -> None:
    fig = _fig(figures.cluster_map)(top_down, colour_by="type")
    traces = [t for t in fig.data if t.customdata is not None]
    firms = np.concatenate([[int(r[4]) for r in t.customdata] for t in traces])
    sizes = np.concatenate([t.marker.size for t in traces])
    assert np.all(np.diff(sizes[np.argsort(firms)]) >= -1e-9)  # bigger cluster, bigger marker
    colours = {c for t in traces for c in t.marker.color}
    assert colours <= set(figures.TYPE_COLOURS.values())


def test_positions_are_stable_and_inside_their_region() -> None:
    region = np.array([0, 0, 1, 2, 2, 2, 5])
    x1, y1 = figures.cluster_positions(region, 6)
    x2, y2 = figures.cluster_positions(region, 6)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)
    cols, _ = figures.region_grid(6)
    assert np.all(np.abs(x1 - region % cols) < 0.5)
    assert np.all(np.abs(y1 + region // cols) < 0.5)


# --- firm network ------------------------------------------------------------------------------
def test_network_draws_both_tie_kinds_apart(top_down: VizModel) -> None:
    cluster = figures.default_cluster(top_down)
    edges = figures.network_edges(top_down, cluster)
    assert len(edges["vertical"][0]) > 0 and len(edges["horizontal"][0]) > 0
    f = top_down.firms
    for a, b in edges.values():
        assert np.all(f.cluster[a] == cluster) and np.all(f.cluster[b] == cluster)
    fig = _fig(figures.firm_network)(top_down, cluster)
    vertical = next(t for t in fig.data if t.name.startswith("vertical ties"))
    horizontal = next(t for t in fig.data if t.name.startswith("horizontal ties"))
    assert vertical.line.color != horizontal.line.color
    assert horizontal.line.dash == "dot" and vertical.line.dash is None
    assert vertical.x.count(None) == len(edges["vertical"][0])  # one segment per tie


def test_network_places_firms_by_value_chain_stage(top_down: VizModel) -> None:
    cluster = figures.default_cluster(top_down)
    fig = _fig(figures.firm_network)(top_down, cluster)
    f = top_down.firms
    inside = f.alive & (f.cluster == cluster)
    total = 0
    for stage, name in enumerate(figures.STAGE_NAMES):
        trace = next(t for t in fig.data if t.name.startswith(name))
        assert np.all(np.abs(np.asarray(trace.x) - stage) <= 0.31)
        assert len(trace.x) == (inside & (f.stage == stage)).sum()
        total += len(trace.x)
    assert total == inside.sum()


def test_default_cluster_is_one_with_policy_attention(top_down: VizModel) -> None:
    cluster = figures.default_cluster(top_down)
    assert top_down.clusters.selected[cluster] or top_down.clusters.support_total[cluster] > 0
    assert cluster in figures.cluster_choices(top_down).values()


# --- time series and tables ----------------------------------------------------------------
def test_series_show_regime_against_no_policy(top_down: VizModel) -> None:
    fig = _fig(figures.outcome_series)(top_down)
    regime = [t for t in fig.data if t.name == "top_down"]
    twin = [t for t in fig.data if t.name == "no policy (same seed)"]
    assert len(regime) == len(twin) == len(figures.HEADLINES)
    assert len(regime[0].x) == top_down.steps + 1
    assert all(t.line.dash == "dash" for t in twin)
    assert list(regime[0].y) != list(twin[0].y)


def test_series_panels_take_units_from_the_outcome_registry(top_down: VizModel) -> None:
    from sim.model.outcomes import lookup

    titles = [note.text for note in _fig(figures.outcome_series)(top_down).layout.annotations]
    for (column, title), text in zip(figures.HEADLINES, titles, strict=False):
        assert text.startswith(title) and f"({lookup(column, 'aggregate').unit})" in text


def test_series_mark_shocks() -> None:
    model = VizModel(preset="top_down", seed=2)
    model.step()
    model.trigger_shock(0.6)
    model.step()
    fig = _fig(figures.outcome_series)(model)
    assert any(shape.type == "line" and shape.x0 == 1.5 for shape in fig.layout.shapes)


def test_support_table_lists_what_supported_clusters_got(top_down: VizModel) -> None:
    table = figures.support_table(top_down)
    supported = top_down.clusters.support_total > 0
    assert len(table) == supported.sum()
    assert table["received"].is_monotonic_decreasing
    assert np.isclose(table["received"].sum(), top_down.clusters.support_total.sum(), rtol=1e-3)
    assert set(table["designated"]) == {"yes"}
    assert table["VA vs no policy %"].notna().all()


def test_no_policy_has_an_empty_support_table() -> None:
    model = VizModel(preset="no_policy")
    model.step()
    assert figures.support_table(model).empty


def test_headline_table_compares_with_the_twin(top_down: VizModel) -> None:
    table = figures.headline_table(top_down).set_index("outcome")
    assert table.loc["Clusters supported this quarter", "regime"] == "25"
    assert table.loc["Clusters supported so far", "regime"] == "25"
    assert table.loc["Clusters supported this quarter", "no policy"] == "0"
    assert table.loc["Value added (wage units per quarter)", "difference"].endswith("%")
    assert table.loc["Export market share", "difference"].endswith("pp")


# --- in-place figure updates -------------------------------------------------------------------
def _widget_sending(monkeypatch: pytest.MonkeyPatch) -> tuple[object, list]:
    pytest.importorskip("solara", reason="needs the viz extra")
    pytest.importorskip("anywidget", reason="needs the viz extra")
    from plotly.graph_objs._figurewidget import FigureWidget

    widget = FigureWidget()
    sent: list = []
    monkeypatch.setattr(widget, "_send_update_msg", lambda *args: sent.append(args))
    return widget, sent


def test_live_plot_updates_in_place_sending_only_what_changed(
    top_down: VizModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sim.viz.plot import apply_figure

    widget, sent = _widget_sending(monkeypatch)
    assert apply_figure(widget, figures.outcome_series(top_down)) is False  # first: replaced
    uids = [trace.uid for trace in widget.data]
    model = VizModel(preset="bottom_up", seed=3)
    model.step()
    fresh = figures.outcome_series(model)
    assert apply_figure(widget, fresh) is True
    assert len(sent) == 1  # one Plotly.update message
    restyle, relayout, indices = sent[0]
    assert indices == list(range(len(fresh["data"])))
    assert "y" in restyle and "line" not in restyle  # line styles did not change
    assert "title" in relayout and "annotations" not in relayout  # nor did the panel titles
    assert [trace.uid for trace in widget.data] == uids  # same traces, updated in place
    assert widget.data[1].name == "bottom_up"  # and the widget's own state follows
    assert list(widget.data[1].y) == fresh["data"][1]["y"]
    assert widget.layout.title.text == fresh["layout"]["title"]["text"]
    assert apply_figure(widget, figures.firm_network(model)) is False  # other traces: replaced


def test_a_property_left_out_is_reset_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.viz.plot import apply_figure

    widget, sent = _widget_sending(monkeypatch)
    first = figures.figure_spec([{"type": "scatter", "y": [1, 2], "opacity": 0.5}], {})
    apply_figure(widget, first)
    apply_figure(widget, figures.figure_spec([{"type": "scatter", "y": [1, 3]}], {}))
    restyle, _, _ = sent[-1]
    assert restyle == {"opacity": [None], "y": [[1, 3]]}


def test_play_waits_only_for_widgets_still_drawing() -> None:
    from sim.viz.plot import drawing, wait_until_drawn

    class Widget:
        comm = object()
        _trace_edit_in_process = True
        _layout_edit_in_process = False

    busy, closed = Widget(), Widget()
    closed.comm = None
    assert drawing(busy) and not drawing(closed)
    assert wait_until_drawn([closed], timeout=0.1) is True
    assert wait_until_drawn([busy, closed], timeout=0.05) is False  # gives up at the timeout
    busy._trace_edit_in_process = False
    assert wait_until_drawn([busy, closed], timeout=0.05) is True


def test_specs_are_plain_json(top_down: VizModel) -> None:
    """No numpy inside and no NaN (JSON has none): what the widget sends as is."""
    import json

    for spec in (
        figures.cluster_map(top_down),
        figures.firm_network(top_down),
        figures.outcome_series(top_down),
        figures.cluster_detail(top_down, 0),
    ):
        json.dumps(spec, allow_nan=False)


# --- command line ------------------------------------------------------------------------------
def test_command_serves_offline_on_loopback() -> None:
    argv = command.solara_command("127.0.0.1", 8123)
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert argv[argv.index("--port") + 1] == "8123"
    assert {"--no-open", "--production"} <= set(argv)
    assert "--no-check-version" in argv  # solara 1.58 knows it
    assert argv[4].endswith("sim/viz/app.py")
    env = command.offline_env({})
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "false"
    assert env["SOLARA_ASSETS_PROXY"] == "true"


def test_cli_parses_viz_arguments() -> None:
    from sim.cli import build_parser

    args = build_parser().parse_args(["viz", "--port", "9001"])
    assert (args.host, args.port) == ("127.0.0.1", 9001)
    assert command.address("0.0.0.0", 9001) == "http://127.0.0.1:9001/"
    with pytest.raises(InputError):
        command.main(argparse.Namespace(host="127.0.0.1", port=70000))


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8765/_solara/cdn/x.js", True),
        ("http://localhost:1/", True),
        ("ws://[::1]:80/jupyter", True),
        ("data:image/png;base64,AAAA", True),
        ("https://cdn.jsdelivr.net/npm/vue", False),
        ("https://fonts.googleapis.com/css", False),
    ],
)
def test_loopback_classification(url: str, local: bool) -> None:
    assert is_loopback(url) is local


def test_outcome_readers_see_complete_steps_while_a_step_is_being_recorded() -> None:
    """Play steps the model in another thread while the view reads it: halfway through
    recording a step (per-cluster rows appended, aggregate row not yet), readers still see
    whole steps only, of matching lengths."""
    from sim.model import ClusterModel

    model = ClusterModel(scenario="no_policy", seed=2, overrides={"run.burn_in": 2})
    model.step()
    steps, clusters = len(model.history()), model.clusters.count
    table_before = model.cluster_table()
    for rows in model._cluster_rows.values():  # the next step, half recorded
        rows.append(np.full(clusters, -1.0))
    assert len(model.history()) == steps
    long = model.cluster_history()
    assert len(long) == steps * clusters and (long["step"].max() == steps - 1)
    assert model.cluster_table().equals(table_before)


def test_a_step_waits_for_a_panel_reading_the_model() -> None:
    """Play steps the model in another thread: while a panel holds the model's lock (reading
    firm arrays whose rows move at exit and entry), a step does not start."""
    import threading

    model = VizModel(preset="top_down", seed=1, baseline=False)
    recorded = len(model.history())  # (Mesa counts a step before the model's own step runs)
    with model.lock:
        stepping = threading.Thread(target=model.step)
        stepping.start()
        stepping.join(timeout=0.5)
        assert stepping.is_alive() and len(model.history()) == recorded
    stepping.join(timeout=30)
    assert len(model.history()) == recorded + 1


# --- what a researcher reads: labels, units, counts, captions ----------------------------------
def test_a_moved_ingredient_labels_the_regime_modified() -> None:
    preset = PolicySettings.from_preset("bottom_up")
    assert preset.label == "Bottom-up" and not preset.modified
    moved = preset.with_values(planning_quality=0.9)
    assert moved.modified and moved.label == "Bottom-up (modified)"


def test_every_chart_axis_has_a_title_with_a_unit(top_down: VizModel) -> None:
    from sim.viz.regimes import RegimeSet

    regimes = RegimeSet(seed=1)
    regimes.step()
    for spec in (
        figures.outcome_series(top_down),
        figures.firm_network(top_down),
        figures.cluster_detail(top_down, 0),
        figures.regime_series(regimes.histories()),
    ):
        layout = spec["layout"]
        y_titles = [v["title"]["text"] for k, v in layout.items() if k.startswith("yaxis")]
        x_titles = [v["title"]["text"] for k, v in layout.items() if k.startswith("xaxis")]
        assert y_titles and all(y_titles), layout["title"]
        assert any(x_titles), layout["title"]
    series_units = figures.outcome_series(top_down)["layout"]["yaxis"]["title"]["text"]
    assert series_units == figures.short_unit("value_added") == "wage units / quarter"
    colourbar = figures.cluster_map(top_down)["layout"]["coloraxis"]["colorbar"]["title"]["text"]
    assert "wage units" in colourbar


def test_region_labels_and_every_panel_are_explained(top_down: VizModel) -> None:
    notes = figures.cluster_map(top_down)["layout"]["annotations"]
    assert notes[0]["text"].startswith("region 0<br>capacity ")
    assert "delivery capacity" in figures.CAPTIONS["map"]
    for panel in ("overview", "series", "support", "map", "network", "detail", "regimes"):
        assert len(figures.CAPTIONS[panel]) > 80, panel


def test_counts_of_supported_clusters_agree_across_panels(bottom_up: VizModel) -> None:
    so_far = int((bottom_up.clusters.support_total > 0).sum())
    this_quarter = int(bottom_up.latest["supported_clusters"])
    headline = figures.headline_table(bottom_up).set_index("outcome")
    assert headline.loc["Clusters supported so far", "regime"] == str(so_far)
    assert headline.loc["Clusters supported this quarter", "regime"] == str(this_quarter)
    assert len(figures.support_table(bottom_up)) == so_far
    assert (bottom_up.cluster_table()["support"] > 0).sum() == this_quarter
    legend = [
        t["name"] for t in figures.cluster_map(bottom_up)["data"] if t.get("showlegend") is None
    ]
    shown = sum(
        int(n.split("(")[1][:-1]) for n in legend if n.startswith(("designated", "supported"))
    )
    assert shown == so_far  # bottom-up designates none: every supported one is on the legend


def test_cluster_choices_do_not_move_while_the_model_steps() -> None:
    model = VizModel(preset="top_down", seed=4, baseline=False)
    before = list(figures.cluster_choices(model).items())
    for _ in range(3):
        model.step()
    assert list(figures.cluster_choices(model).items()) == before


def test_cluster_detail_covers_firms_support_and_time(top_down: VizModel) -> None:
    cluster = figures.default_cluster(top_down)
    facts = figures.cluster_facts(top_down, cluster).set_index("")
    assert float(facts.loc["support so far (wage units)", "now"].replace(",", "")) > 0
    firms = figures.cluster_firms(top_down, cluster)
    inside = top_down.firms.alive & (top_down.firms.cluster == cluster)
    assert len(firms) == min(12, inside.sum()) and firms["workers"].is_monotonic_decreasing
    spec = figures.cluster_detail(top_down, cluster)
    regime = [t for t in spec["data"] if t["name"] == "this regime"]
    assert len(regime) == len(figures.DETAIL_SERIES) and len(regime[0]["x"]) == top_down.steps + 1


def test_four_regimes_share_one_world_and_one_palette() -> None:
    from sim.viz.regimes import RegimeSet

    regimes = RegimeSet(seed=2)
    names = {tuple(m.clusters.name) for m in regimes.models.values()}
    assert len(names) == 1  # one world
    for _ in range(2):
        regimes.step()
    histories = regimes.histories()
    assert list(histories) == list(PRESETS) and all(len(h) == 3 for h in histories.values())
    spec = figures.regime_series(histories)
    colours = {t["name"]: t["line"]["color"] for t in spec["data"]}
    assert len(set(colours.values())) == 4
    table = figures.regime_table(histories)
    assert list(table["regime"]) == ["No policy", "Top-down", "Demand-driven", "Bottom-up"]
    regimes.release()


def test_download_tables_label_categories_and_explain_every_column(top_down: VizModel) -> None:
    import io
    import zipfile

    import pandas as pd

    from sim.viz import export

    tables = export.run_tables(top_down)
    clusters = tables["clusters.csv"]
    assert set(clusters["coordinator"]) <= {"none", "emergent", "appointed"}
    assert clusters["product"].map(type).eq(str).all()
    assert clusters["step"].dtype.kind == "i" and clusters["firms"].dtype.kind == "i"
    settings = tables["settings.csv"].set_index("setting")["value"]
    assert settings["seed"] == "3" and settings["preset"] == "top_down"
    dictionary = tables["columns.csv"]
    for name, frame in tables.items():
        if name == "columns.csv":
            continue
        described = dictionary[dictionary["table"] == name]
        assert list(described["column"]) == list(frame.columns)
        assert described["unit"].astype(bool).all() and described["meaning"].astype(bool).all()
    with zipfile.ZipFile(io.BytesIO(export.run_zip(top_down))) as archive:
        steps = pd.read_csv(archive.open("steps.csv"))
    assert len(steps) == top_down.steps + 1


def test_release_lets_a_model_go() -> None:
    import gc
    import weakref

    model = VizModel(preset="top_down", seed=5)
    model.step()
    gone = weakref.ref(model)
    model.release()
    del model
    gc.collect()
    assert gone() is None
