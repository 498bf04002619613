# klaster: every target creates the virtual environment on first use, so on a fresh machine
# `make run` and `make test` are all the set-up there is.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SEEDS ?= 10
EXP ?= experiments/smoke.yaml

.PHONY: help install run test test-all lint format clean

help:
	@echo "make run        set up, run the four regime presets over $(SEEDS) seeds, write results/ and a report"
	@echo "make test       set up and run the test suite (slow tests excluded)"
	@echo "make test-all   the whole suite, slow tests included"
	@echo "make lint       ruff check and format check"
	@echo "make viz        serve the browser view on 127.0.0.1:8765 (make test-browser: its tests,"
	@echo "                make bench-viz: its speed in Chromium, make viz-screenshot: docs/img/viz*.png)"
	@echo "make sweep EXP=experiments/x.yaml   run a sweep (make sweep-smoke: a tiny one)"
	@echo "make experiments report   run every experiment, then build results/report.html"
	@echo "make exp-regimes (exp-regimes-posterior, exp-decomposition, exp-where-top-down-works, exp-resilience,"
	@echo "     exp-sensitivity-morris, exp-sensitivity-sobol, exp-indonesia)   one experiment"
	@echo "make validate   check every calibration target on 32 fresh seeds (exit 1 when one fails)"
	@echo "make calibrate  fit the uncertain parameters (ABC-SMC, ~1 hour; make calibrate-smoke: tiny);"
	@echo "                make adopt-calibration: the presets start from the fit"
	@echo "make probes     five mechanism probes on paired runs (sim/calibrate/probes.py)"
	@echo "make bench      benchmarks (bench-quick, bench-phases)"
	@echo "Use PYTHON=python3.12 VENV=.venv-3.12 to test another interpreter."

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,dask,viz,ema,calibrate]"
	$(BIN)/python -m sim.model.warmup  # compile and cache the numba kernels once, not in every run
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/klaster compare --seeds $(SEEDS) --out results/compare
	@echo "Report: results/compare/report.html"

test: $(STAMP)
	$(BIN)/python -m pytest -q

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -m ""

lint: $(STAMP)
	$(BIN)/ruff check sim tests bench
	$(BIN)/ruff format --check sim tests bench

format: $(STAMP)
	$(BIN)/ruff check --fix sim tests bench
	$(BIN)/ruff format sim tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info

# --- viz (sim/viz) ---
VIZ_HOST ?= 127.0.0.1
VIZ_PORT ?= 8765

.PHONY: viz viz-screenshot test-browser bench-viz

viz: $(STAMP)
	$(BIN)/klaster viz --host $(VIZ_HOST) --port $(VIZ_PORT)

viz-screenshot: $(STAMP)
	$(BIN)/python -m sim.viz.screenshot --out docs/img/viz.png

# click-to-redraw per step, Play's pace, Reset, page errors, server memory per session
bench-viz: $(STAMP)
	$(BIN)/python -m bench.viz_redraw

test-browser: $(STAMP)
	$(BIN)/python -m pytest -q -m browser tests/viz
# --- end viz ---

# --- sweeps (sim/runner) ---
# `make sweep EXP=experiments/x.yaml` runs one experiment file into results/<experiment name>/;
# `make sweep-x` does the same for experiments/x.yaml. Re-running resumes: finished runs are kept.
# Pass SWEEP_ARGS="--executor dask --workers 8" (or --scheduler ADDRESS) to choose where runs go.
SWEEP_ARGS ?=
.PHONY: sweep sweep-smoke

sweep: $(STAMP)
	$(BIN)/klaster sweep $(EXP) $(SWEEP_ARGS)

sweep-smoke: $(STAMP)
	$(BIN)/klaster sweep experiments/smoke.yaml $(SWEEP_ARGS)

sweep-%: $(STAMP)
	$(BIN)/klaster sweep experiments/$*.yaml $(SWEEP_ARGS)
# --- end sweeps ---

# --- bench ---
# `make bench`: model speed at ~1k/10k/100k firms for every regime against Mesa's BoltzmannWealth
# and ../shared/bench/limit_probe.py (if present), the same for the start-of-issue-12 revision
# (git archive into the temp folder, compiled once), default-world runs of both, alternating;
# cold `klaster run`, sweep throughput on 1 and 2 workers; prints a table, writes
# bench/latest.json (~3-20 min on 2 quiet cores). `make bench-phases` shows where a quarter's
# CPU time goes at 100k firms (`python -m bench.phases --scale 1` for the default world);
# `python -m bench.kernel_calls --scale 1` counts a quarter's compiled calls and their cost.
.PHONY: bench bench-quick bench-phases

bench: $(STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick

bench-phases: $(STAMP)
	$(BIN)/python -m bench.phases --scale 35
# --- end bench ---

# --- experiments & report ---
# Each experiment: experiments/<name>.yaml -> results/<name>/ (resumable; runs are keyed by
# content, so a re-run only does what is missing). EXEC sets where runs execute.
EXEC ?= --executor process --workers 2
.PHONY: experiments report exp-regimes exp-regimes-posterior exp-decomposition exp-where-top-down-works \
	exp-resilience exp-sensitivity-morris exp-sensitivity-sobol exp-indonesia

exp-regimes: $(STAMP)
	$(BIN)/klaster sweep experiments/regimes.yaml --out results/regimes $(EXEC)

# the regimes again, each replicate drawing one of the adopted calibration's accepted sets
exp-regimes-posterior: $(STAMP)
	$(BIN)/klaster sweep experiments/regimes_posterior.yaml --out results/regimes_posterior $(EXEC)

exp-decomposition: $(STAMP)
	$(BIN)/klaster sweep experiments/decomposition.yaml --out results/decomposition $(EXEC)

exp-where-top-down-works: $(STAMP)
	$(BIN)/klaster sweep experiments/where_top_down_works.yaml --out results/where_top_down_works $(EXEC)

exp-resilience: $(STAMP)
	$(BIN)/klaster sweep experiments/resilience.yaml --out results/resilience $(EXEC)

exp-sensitivity-morris: $(STAMP)
	$(BIN)/klaster sweep experiments/sensitivity_morris.yaml --out results/sensitivity_morris $(EXEC)

exp-sensitivity-sobol: $(STAMP)
	$(BIN)/klaster sweep experiments/sensitivity_sobol.yaml --out results/sensitivity_sobol $(EXEC)

# the Indonesian experiment asks for group outcomes in its file (outcomes: groups)
exp-indonesia: $(STAMP)
	$(BIN)/klaster sweep experiments/indonesia.yaml --out results/indonesia $(EXEC)

experiments: exp-regimes exp-regimes-posterior exp-decomposition exp-where-top-down-works exp-resilience \
	exp-indonesia exp-sensitivity-morris exp-sensitivity-sobol validation-findings

# mechanism probes: capacity absorption, equipment to idle firms, coordinators-only, bottom-up spending,
# grants where markets grow or shrink
.PHONY: probes
probes: $(STAMP)
	$(BIN)/python -m sim.calibrate.probes --seeds 8 --out results/probes

report: $(STAMP)
	$(BIN)/klaster report --results results --out results/report.html --summaries results/summary
	@echo "open results/report.html"
# --- end experiments & report ---

# --- api (issue 14): scenario discovery and the Python API ---
# experiments/where_each_regime_wins.yaml -> results/where_each_regime_wins/; `make report` then
# runs PRIM (EMA Workbench, the ema extra) on where each regime wins. `make api-example` runs
# examples/api_example.py (docs/python.md).
.PHONY: exp-where-each-regime-wins api-example
experiments: exp-where-each-regime-wins

exp-where-each-regime-wins: $(STAMP)
	$(BIN)/klaster sweep experiments/where_each_regime_wins.yaml --out results/where_each_regime_wins $(EXEC)

api-example: $(STAMP)
	$(BIN)/python examples/api_example.py
# --- end api ---

# --- calibration (sim/calibrate; docs/calibration.md) ---
# `make calibrate`: fit the uncertain parameters of CALIBRATION to its targets (ABC-SMC with
# pyabc; the default file takes about an hour on 2 cores) into results/calibration/<name>/;
# running it again continues a stopped calibration. CALIBRATE_ARGS="--executor dask --workers 8".
# `make validate`: every target on 32 fresh seeds, each with its interval; exits 1 when a pattern
# fails. CALIBRATED=results/calibration/default/calibrated.yaml validates at the fitted values.
CALIBRATION ?= calibration/default.yaml
CALIBRATED ?=
CALIBRATE_ARGS ?=
VALIDATE_ARGS = $(CALIBRATION) --out results/validation $(if $(CALIBRATED),--calibrated $(CALIBRATED))
.PHONY: calibrate calibrate-smoke validate validation-findings adopt-calibration

calibrate: $(STAMP)
	$(BIN)/klaster calibrate $(CALIBRATION) $(CALIBRATE_ARGS)
	$(BIN)/python -m sim.calibrate.select $(CALIBRATION) $(SELECT_ARGS)

# which accepted set becomes calibrated.yaml: the 10 with the smallest distance re-measured on
# 8 fresh seeds (sim/calibrate/select.py); `make select-presets` redoes only this step
.PHONY: select-presets
select-presets: $(STAMP)
	$(BIN)/python -m sim.calibrate.select $(CALIBRATION) $(SELECT_ARGS)

calibrate-smoke: $(STAMP)
	$(BIN)/klaster calibrate calibration/smoke.yaml --out results/calibration/smoke $(CALIBRATE_ARGS)

validate: $(STAMP)
	$(BIN)/klaster validate-patterns $(VALIDATE_ARGS)

# `make adopt-calibration`: the presets' defaults become the fitted ones. Copies the calibrated
# scenario (which scenarios/no_policy.yaml extends) and the accepted sets (which
# experiments/regimes_posterior.yaml draws from) into scenarios/, and the curated tables into
# results/summary/calibration/. Review and commit them with the fingerprints they change.
CALIBRATION_OUT ?= results/calibration/default
adopt-calibration:
	@test -f $(CALIBRATION_OUT)/calibrated.yaml || { echo "$(CALIBRATION_OUT)/calibrated.yaml not found: run make calibrate first" >&2; exit 2; }
	cp $(CALIBRATION_OUT)/calibrated.yaml scenarios/calibrated.yaml
	cp $(CALIBRATION_OUT)/posterior.csv scenarios/calibrated_posterior.csv
	mkdir -p results/summary/calibration
	cp $(CALIBRATION_OUT)/parameters.csv $(CALIBRATION_OUT)/fit.csv $(CALIBRATION_OUT)/populations.csv \
		$(CALIBRATION_OUT)/manifest.json $(CALIBRATION_OUT)/selection.csv results/summary/calibration/

# within `make experiments`: a failing pattern is a finding for the report, not a stop (exit 1
# passes, anything else fails)
validation-findings: $(STAMP)
	$(BIN)/klaster validate-patterns $(VALIDATE_ARGS) || [ $$? -eq 1 ]
# --- end calibration ---
