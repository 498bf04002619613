"""Mechanism probes: five measurements of whether the model's channels match the evidence.

Each probe asks one question a reader of the literature would ask of the model, on paired runs
(same seed, so the same world and demand path) that differ only in the thing probed:

1. **Does capacity create its own demand?** Designated clusters under top-down against the
   no-policy twin: extra units sold over extra capacity, and where the extra sales came from
   (outside competitors, other clusters, market growth), in the default world and in one where
   every market shrinks. Evidence: support pays little where markets do not grow (Tambunan
   2005; McKenzie & Woodruff 2014; Sandee et al. 1994), so the ratio should stay well below 1
   when markets shrink.
2. **Does equipment ignore need?** An equipment grant to idle firms (capacity use below 60%)
   and to sold-out ones (at 99% or more): value added over the next year per unit of grant.
3. **Do coordinators earn standing from nothing?** A programme of appointed coordinators with a
   negligible budget: their legitimacy after the policy period, against emergent coordinators,
   and the programme's value added against no policy.
4. **Does bottom-up spend its budget?** Budget spent over budget available, and the most spent
   in one quarter.
5. **Do grants pay more where a cluster's market grows?** The same equipment grants to the six
   largest clusters, whose buyer networks grow or shrink 4% a quarter: value added over 10
   quarters against the ungranted twin, in the world and in the granted clusters, and the firms
   the grants keep in them. Evidence: capacity pays where demand has room (Tambunan 2005); where
   it shrinks, support can still keep firms alive, and a grantee's gain can be a neighbour's loss
   (McKenzie & Woodruff 2014: business stealing).

Run: ``python -m sim.calibrate.probes [--seeds N] [--out results/probes]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from sim.model import ClusterModel
from sim.model.support import apply_support
from sim.scenario.codes import APPOINTED, EMERGENT, EQUIPMENT, UPSTREAM

SHRINKING = {"market.demand_growth_mean": [-0.02, -0.02, -0.02]}
FINAL_YEAR = 4  # quarters averaged at the end of a run


@dataclass
class FinalYear:
    """Final-year means of what the designated clusters, the others and outside sell."""

    units: float
    capacity: float
    sales: float
    value_added: float
    other_sales: float
    outside_sales: float
    demand: float


def _final_year(model: ClusterModel, designated: np.ndarray) -> FinalYear:
    """Step the model to the end of its run, averaging the last year."""
    rows = []
    while model.steps < model.config.run.steps:
        model.step()
        if model.steps <= model.config.run.steps - FINAL_YEAR:
            continue
        f, m = model.firms, model.market
        mine = designated[f.cluster] & (f.stage != UPSTREAM)
        inside = float(m.inside_sales.sum())
        demand = float(m.effective_demand.sum())
        rows.append(
            (
                f.units[mine].sum(),
                f.output_capacity[mine].sum(),
                f.sales[mine].sum(),
                f.value_added[designated[f.cluster]].sum(),
                inside - f.sales[mine].sum(),
                demand - inside,
                demand,
            )
        )
    return FinalYear(*np.mean(np.asarray(rows, dtype=float), axis=0))


def capacity_absorption(seed: int, overrides: dict | None = None) -> dict[str, float]:
    """Probe 1 for one seed: top-down's designated clusters against the no-policy twin."""
    overrides = overrides or {}
    policy = ClusterModel(scenario="top_down", seed=seed, overrides=overrides or None)
    twin = ClusterModel(scenario="no_policy", seed=seed, overrides=overrides or None)
    policy.step()  # the first plan designates
    designated = policy.clusters.selected.copy()
    twin.step()
    treated = _final_year(policy, designated)
    control = _final_year(twin, designated)
    extra_sales = treated.sales - control.sales
    extra_capacity = treated.capacity - control.capacity
    # a ratio only where support added capacity (1% or more): otherwise it divides by noise
    added = extra_capacity >= 0.01 * control.capacity
    return {
        "extra_units_over_extra_capacity": (treated.units - control.units) / extra_capacity
        if added
        else float("nan"),
        "extra_capacity_share": extra_capacity / max(control.capacity, 1e-9),
        "share_from_outside": -(treated.outside_sales - control.outside_sales)
        / max(abs(extra_sales), 1e-9),
        "share_from_other_clusters": -(treated.other_sales - control.other_sales)
        / max(abs(extra_sales), 1e-9),
        "share_from_market_growth": (treated.demand - control.demand) / max(abs(extra_sales), 1e-9),
        "designated_va_gain": treated.value_added / max(control.value_added, 1e-9) - 1,
    }


def idle_equipment(seed: int) -> dict[str, float]:
    """Probe 2 for one seed: value added a year after an equipment grant, per unit of grant."""
    result = {}
    for label, pick in (("idle", lambda u: u < 0.6), ("sold_out", lambda u: u >= 0.99)):
        treated = ClusterModel(scenario="no_policy", seed=seed)
        control = ClusterModel(scenario="no_policy", seed=seed)
        f = treated.firms
        slots = np.flatnonzero(pick(f.utilisation) & (f.stage != UPSTREAM))
        if not len(slots):
            result[f"va_per_grant_{label}"] = float("nan")
            continue
        uids = f.uid[slots].copy()
        grant = 2.0 * f.workers[slots]  # as much as a firm can put to use in a quarter
        apply_support(treated, slots, EQUIPMENT, grant)
        gained = 0.0
        for _ in range(FINAL_YEAR):
            treated.step()
            control.step()
            for model, sign in ((treated, 1.0), (control, -1.0)):
                alive = np.isin(model.firms.uid, uids)
                gained += sign * model.firms.value_added[alive].sum()
        result[f"va_per_grant_{label}"] = gained / grant.sum()
    return result


def coordinators_only(seed: int) -> dict[str, float]:
    """Probe 3 for one seed: appointed coordinators with a negligible budget."""
    overrides = {"policy.budget_per_quarter": 1e-6}
    policy = ClusterModel(scenario="top_down", seed=seed, overrides=overrides)
    twin = ClusterModel(scenario="no_policy", seed=seed)
    va_policy = va_twin = 0.0
    for _ in range(policy.config.run.steps):
        policy.step()
        twin.step()
        va_policy += policy.latest["value_added"]
        va_twin += twin.latest["value_added"]
    c = policy.clusters
    appointed, emergent = c.coordinator == APPOINTED, c.coordinator == EMERGENT
    return {
        "appointed_legitimacy": float(c.legitimacy[appointed].mean())
        if appointed.any()
        else float("nan"),
        "emergent_legitimacy": float(c.legitimacy[emergent].mean())
        if emergent.any()
        else float("nan"),
        "va_gain_over_no_policy": va_policy / va_twin - 1,
    }


def bottom_up_spending(seed: int) -> dict[str, float]:
    """Probe 4 for one seed: the share of bottom-up's budget that is spent."""
    model = ClusterModel(scenario="bottom_up", seed=seed)
    spent = []
    for _ in range(model.config.run.steps):
        model.step()
        spent.append(model.latest["support"])
    budget = model.config.policy.budget_per_quarter
    return {
        "budget_spent_share": float(np.sum(spent) / (budget * len(spent))),
        "max_quarter_spent": float(np.max(spent)),
    }


GRANT_QUARTERS = 10


def steer_largest(
    model: ClusterModel, sign: float, granted: bool, count: int = 6
) -> tuple[np.ndarray, np.ndarray]:
    """Make the ``count`` largest clusters' buyer networks grow (``sign`` 1) or shrink (-1) 4% a
    quarter and, if ``granted``, give their producers and traders an equipment grant of as much
    as a firm can put to use in a quarter; return the clusters and each grant (also when none is
    given, so a twin run knows what its pair received)."""
    c, f = model.clusters, model.firms
    chosen = np.argsort(-np.bincount(f.cluster, minlength=c.count))[:count]
    c.niche_factor = c.niche_factor.copy()
    c.niche_factor[chosen] = np.exp(sign * 0.04)
    slots = np.flatnonzero(np.isin(f.cluster, chosen) & (f.stage != UPSTREAM))
    grant = 2.0 * f.workers[slots]
    if granted:
        apply_support(model, slots, EQUIPMENT, grant)
    return chosen, grant


def grants_by_market(seed: int) -> dict[str, float]:
    """Probe 5 for one seed: equipment grants where the granted clusters' markets grow or
    shrink, against the same world without grants: value added per unit of grant (in the world,
    in the granted clusters, elsewhere) and the granted clusters' firms kept (share)."""
    result = {}
    for label, sign in (("growing", 1.0), ("shrinking", -1.0)):
        runs = {}
        for granted in (True, False):
            model = ClusterModel(scenario="no_policy", seed=seed)
            chosen, grant = steer_largest(model, sign, granted)
            world = inside = 0.0
            for _ in range(GRANT_QUARTERS):
                model.step()
                f = model.firms
                world += model.latest["value_added"]
                inside += f.value_added[f.alive & np.isin(f.cluster, chosen)].sum()
            f = model.firms
            runs[granted] = (world, inside, np.isin(f.cluster[f.alive], chosen).sum())
        (world, inside, firms), (world0, inside0, firms0) = runs[True], runs[False]
        scale = grant.sum()  # the same in both runs: the same firms at the same step
        result[f"va_per_grant_{label}"] = float((world - world0) / scale)
        result[f"va_per_grant_in_granted_{label}"] = float((inside - inside0) / scale)
        result[f"va_per_grant_elsewhere_{label}"] = float(
            ((world - inside) - (world0 - inside0)) / scale
        )
        result[f"firms_kept_{label}"] = float((firms - firms0) / max(firms0, 1))
    return result


PROBES = {
    "capacity_default": lambda seed: capacity_absorption(seed),
    "capacity_shrinking": lambda seed: capacity_absorption(seed, SHRINKING),
    "idle_equipment": idle_equipment,
    "coordinators_only": coordinators_only,
    "bottom_up_spending": bottom_up_spending,
    "grants_by_market": grants_by_market,
}


def run_probes(seeds: list[int], quiet: bool = False) -> dict[str, dict[str, list[float]]]:
    """Every probe on every seed: probe -> measure -> one value per seed."""
    results: dict[str, dict[str, list[float]]] = {}
    jobs = [(name, seed) for name in PROBES for seed in seeds]
    for name, seed in tqdm(jobs, desc="probes", disable=quiet, unit="run"):
        for key, value in PROBES[name](seed).items():
            results.setdefault(name, {}).setdefault(key, []).append(float(value))
    return results


def describe(results: dict[str, dict[str, list[float]]]) -> str:
    lines = [f"{'probe':<20} {'measure':<34} {'mean':>9} {'min':>9} {'max':>9}"]
    for name, measures in results.items():
        for key, values in measures.items():
            v = np.asarray(values)
            lines.append(
                f"{name:<20} {key:<34} {np.nanmean(v):>9.3f} {np.nanmin(v):>9.3f} "
                f"{np.nanmax(v):>9.3f}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.calibrate.probes", description=__doc__)
    parser.add_argument("--seeds", type=int, default=8, help="seeds per probe (default 8)")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="write probes.json here")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        sys.stderr.write("probes: error: --seeds must be at least 1\n")
        return 2
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    results = run_probes(seeds, quiet=args.quiet)
    print(describe(results))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "probes.json").write_text(json.dumps({"seeds": seeds, **results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
