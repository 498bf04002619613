"""What support does to a firm, whether the firm takes it up, and what firms need.

The same rules hold in every regime. A regime changes who gets support and in which mix; how
much that helps follows from the firms' state: coaching pays where the firm is far from the
frontier and can absorb it, equipment where it sells all it makes, market linkage where it
cannot sell what it makes, credit where cash is short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.scenario import INSTRUMENTS

if TYPE_CHECKING:
    from sim.model import ClusterModel

COACHING, EQUIPMENT, LINKAGE, CREDIT = range(len(INSTRUMENTS))
MAX_GRANT_PER_WORKER = 2.0  # equipment or credit a firm can put to use in a quarter (assumed)


def productivity_gap(model: ClusterModel) -> np.ndarray:
    """Distance to the frontier of the firm's product (90th percentile of productivity)."""
    f = model.firms
    product = model.clusters.product[f.cluster]
    frontier = np.ones(len(model.market.products))
    # firms grouped by product in one stable radix sort (a quantile does not depend on order)
    grouped = f.productivity[np.argsort(product.astype(np.int16), kind="stable")]
    ends = np.cumsum(np.bincount(product, minlength=len(frontier)))
    starts = np.concatenate(([0], ends[:-1]))
    for p in range(len(frontier)):
        if ends[p] > starts[p]:
            frontier[p] = np.quantile(grouped[starts[p] : ends[p]], 0.9)
    return np.clip(1 - f.productivity / frontier[product], 0, 1)


def firm_needs(model: ClusterModel, gap: np.ndarray | None = None) -> np.ndarray:
    """True need for each instrument, [slot, instrument], 0..1, read off the firm's state.

    ``gap`` is ``productivity_gap(model)`` if the caller has it already (it costs a quantile
    per product).
    """
    f, p = model.firms, model.config.firms
    # column-major: each need is written, and summed per cluster, as one contiguous column
    needs = np.empty((f.size, len(INSTRUMENTS)), order="F")
    gap = productivity_gap(model) if gap is None else gap
    needs[:, COACHING] = gap * f.absorptive
    needs[:, EQUIPMENT] = np.clip((f.utilisation - 0.85) / 0.15, 0, 1)
    needs[:, LINKAGE] = np.clip((0.85 - f.utilisation) / 0.85, 0, 1)
    needs[:, CREDIT] = np.clip(1 - f.cash / np.maximum(p.cash_buffer * f.workers, 1e-9), 0, 1)
    return needs


def perceived_needs(model: ClusterModel, needs: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """What the firms in ``slots`` believe they need: noisy, less so with market knowledge.

    Only firms that can meet a programme this quarter are asked (the caller picks them), so
    noise is drawn for those alone.
    """
    noise = model.config.instruments.perception_noise * (1 - model.firms.knowledge[slots])
    # built in place: [firm, 4] temporaries are big at national scale
    perceived = model.policy_rng.standard_normal((len(slots), needs.shape[1]))
    perceived *= noise[:, None]
    perceived += needs[slots]
    return perceived


def apply_support(
    model: ClusterModel,
    slots: np.ndarray,
    instrument: int,
    amount: np.ndarray,
    gap: np.ndarray | None = None,
) -> None:
    """Change firms' state by the support they received (amount in wage units, per firm).

    ``gap``: ``productivity_gap(model)`` if the caller knows productivity has not moved since.
    """
    f, k = model.firms, model.config.instruments
    if instrument == COACHING:
        dose = amount / k.coaching_dose_cost
        gap = (productivity_gap(model) if gap is None else gap)[slots]
        f.productivity[slots] *= np.exp(k.coaching_effect * dose * f.absorptive[slots] * gap)
        f.quality[slots] += (
            k.coaching_quality_effect * dose * f.absorptive[slots] * (1 - f.quality[slots])
        )
        f.knowledge[slots] += 0.05 * dose * (1 - f.knowledge[slots])
    elif instrument == EQUIPMENT:
        per_worker = amount / np.maximum(f.workers[slots], 1.0)
        f.productivity[slots] *= np.exp(k.equipment_effect * per_worker / (1 + per_worker))
    elif instrument == LINKAGE:
        dose = amount / k.linkage_dose_cost
        f.visibility[slots] += k.linkage_visibility * dose
        f.knowledge[slots] += k.linkage_knowledge * dose * (1 - f.knowledge[slots])
    elif instrument == CREDIT:
        f.cash[slots] += amount
    f.support[slots] += amount
    f.support_total[slots] += amount


def dose_cost(model: ClusterModel, instrument: int, workers: np.ndarray) -> np.ndarray:
    """Most a firm can absorb of an instrument in one quarter, in wage units."""
    k = model.config.instruments
    if instrument == COACHING:
        return np.full(len(workers), k.coaching_dose_cost)
    if instrument == LINKAGE:
        return np.full(len(workers), k.linkage_dose_cost)
    return MAX_GRANT_PER_WORKER * np.maximum(workers, 1.0)
