"""What support does to a firm, whether the firm takes it up, and what firms need.

The same rules hold in every regime. A regime changes who gets support and in which mix; how
much that helps follows from the firms' state: coaching pays where the firm is far from the
frontier and can absorb it, equipment (capacity, with upkeep) where it has more orders than it
can make, market linkage (visibility) where a market has room and the firm spare capacity,
credit where cash is short.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.model.kernels import support as kernels
from sim.model.kernels.compiled import columns_of
from sim.scenario.codes import COACHING, INSTRUMENTS

if TYPE_CHECKING:
    from sim.model import ClusterModel

MAX_GRANT_PER_WORKER = 2.0  # equipment or credit a firm can put to use in a quarter (assumed)


def productivity_gap(model: ClusterModel, size: np.ndarray | None = None) -> np.ndarray:
    """Distance to the frontier of the firm's product (90th percentile of productivity).

    ``size``: firms per cluster (``kernels.firms_per_cluster``), if the caller has it.
    """
    f = model.firms
    return kernels.gap_to_frontier(
        f.productivity, f.cluster, model.clusters.product, frontiers(model, size)
    )


def frontiers(model: ClusterModel, size: np.ndarray | None = None) -> np.ndarray:
    """Each product's productivity frontier: the 90th percentile over its firms (1 if none).

    ``size``: firms per cluster, if the caller has it.
    """
    f, c = model.firms, model.clusters
    n_products = len(model.market.products)
    if size is None:
        return sizes_and_frontiers(model)[1]
    return _numpy_quantiles(
        *kernels.frontiers(f.cluster, c.product, f.productivity, size, n_products)
    )


def sizes_and_frontiers(model: ClusterModel) -> tuple[np.ndarray, np.ndarray]:
    """Firms per cluster and each product's frontier (``frontiers``), in one call."""
    f, c = model.firms, model.clusters
    n_products = len(model.market.products)
    size, *found = kernels.sizes_and_frontiers(f.cluster, c.product, f.productivity, n_products)
    return size, _numpy_quantiles(*found)


def _numpy_quantiles(
    frontier: np.ndarray, grouped: np.ndarray, bounds: np.ndarray, left: int
) -> np.ndarray:
    """``frontier`` with the products ``kernels.frontiers`` left to numpy (the large ones)."""
    if left:
        for p in range(len(frontier)):
            if bounds[p + 1] - bounds[p] >= kernels.NUMPY_QUANTILE_FROM:
                frontier[p] = quantile(grouped[bounds[p] : bounds[p + 1]], 0.9)
    return frontier


def quantile(values: np.ndarray, q: float) -> float:
    """``np.quantile(values, q)`` of a non-empty array (numpy's default "linear" method),
    reordering ``values`` in place, at a fraction of the cost (one single-``kth`` partition).

    The two order statistics around the virtual index ``(n - 1) q`` do not depend on how they
    are found, and their interpolation repeats numpy's ``_lerp`` operation for operation. NaN
    sorts last, so it reaches the result as it does in numpy. (``kernels.quantile`` is the
    same rule compiled, for small arrays.)
    """
    n = len(values)
    virtual = (n - 1) * q
    if virtual >= n - 1:  # numpy takes the maximum, with floor(virtual) counted as -1
        below = above = values.max()
        previous = -1.0
    else:
        previous = float(np.floor(virtual))
        k = int(previous)
        values.partition(k)
        below, above = values[k], values[k + 1 :].min()
    t = virtual - previous
    difference = above - below
    return above - difference * (1 - t) if t >= 0.5 else below + difference * t


class Assessment(NamedTuple):
    """A quarter's reading of firms' needs (``assess_needs``)."""

    gap: np.ndarray  # per slot, as productivity_gap
    needs: np.ndarray  # [cluster, instrument] summed over the cluster's firms
    member_needs: np.ndarray  # [cluster, instrument] summed over its members
    asked: np.ndarray  # slots of the firms in the clusters asked, in order
    perceived: np.ndarray  # [row of asked, instrument]: true need plus perception noise
    need: np.ndarray  # [row of asked, instrument]: true need
    workers: np.ndarray  # per cluster, summed over its firms


def assess_needs(
    model: ClusterModel,
    asking: np.ndarray,
    size: np.ndarray,
    frontier: np.ndarray | None = None,
) -> Assessment:
    """``productivity_gap``, true needs summed per cluster (all firms, members) and the
    perceived needs of the firms in the clusters ``asking``, in one pass over the firms
    (``kernels.assess_needs``), with the same numbers and the same random draw.

    ``size``: firms per cluster, which also sizes the draw before the pass.
    ``frontier``: each product's (``frontiers``), if the caller has it.
    """
    f = model.firms
    frontier = frontiers(model, size) if frontier is None else frontier
    n_asked = int(size[asking].sum())
    perceived = model.policy_rng.standard_normal((n_asked, len(INSTRUMENTS)))
    gap, needs, member_needs, asked, need, workers = kernels.assess_needs(
        columns_of(f, kernels.NeedsInputs),
        model.clusters.product,
        frontier,
        float(model.config.firms.cash_buffer),
        asking,
        float(model.config.instruments.perception_noise),
        perceived,
    )
    return Assessment(gap, needs, member_needs, asked, perceived, need, workers)


def apply_support(
    model: ClusterModel,
    slots: np.ndarray,
    instrument: int,
    amount: np.ndarray,
    gap: np.ndarray | None = None,
) -> None:
    """Change firms' state by the support they received (amount in wage units, per firm).

    ``gap``: ``productivity_gap(model)`` if the caller knows productivity has not moved since.
    The rules per firm are ``sim.model.kernels.support.take_support``.
    """
    f = model.firms
    if instrument == COACHING:
        gap = (productivity_gap(model) if gap is None else gap)[slots]
    else:
        gap = np.empty(0)
    growth = kernels.support_firms(
        recipients(model), effects(model), slots, instrument, amount, gap
    )
    if instrument == COACHING:  # equipment adds to the machine stock instead (capacity)
        f.productivity[slots] *= np.exp(growth)


def effects(model: ClusterModel) -> kernels.Effects:
    """The scenario's instrument parameters, as the support kernels read them."""
    k = model.config.instruments
    return kernels.Effects(
        coaching_dose_cost=float(k.coaching_dose_cost),
        coaching_effect=float(k.coaching_effect),
        coaching_quality_effect=float(k.coaching_quality_effect),
        linkage_dose_cost=float(k.linkage_dose_cost),
        linkage_visibility=float(k.linkage_visibility),
        linkage_knowledge=float(k.linkage_knowledge),
        max_grant_per_worker=MAX_GRANT_PER_WORKER,
    )


def equipped_capacity(model: ClusterModel, nominal: np.ndarray) -> np.ndarray:
    """Capacity ``nominal`` (workers x output per worker, per firm) raised by each firm's
    machine stock (``kernels.equipped``): what equipment grants buy."""
    f = model.firms
    effect = float(model.config.instruments.equipment_effect)
    return kernels.equipped_capacities(nominal, f.equipment, f.workers, effect)


def recipients(model: ClusterModel) -> kernels.Recipients:
    """The firm columns support changes, as the support kernels read them."""
    return columns_of(model.firms, kernels.Recipients)
