"""Demand per product x segment, shocks, outside competitors, and market clearing.

Demand is set by the market, not by supply: each product-segment's demand (in value) is shared
among the cluster firms selling there and outside competitors in proportion to their customer
base (goodwill) times a logit over price, quality and visibility (joint marketing, traders,
bought linkage). Capacity caps what a seller can deliver but attracts no buyers; orders a full
seller cannot fill go to its rivals, and customer bases follow whom they were served by
(replicator dynamics: Silverberg, Dosi & Orsenigo 1988; Dosi, Fagiolo & Roventini 2010); the
outside competitors' customer base is renewed with the cluster firms', in the pass that books
the quarter's sales (``kernels.production.book_sales_and_inputs``).
"""

from __future__ import annotations

import numpy as np

from sim.model.kernels.production import (
    clear_markets,
    drift_growth,
    logit_exponents,
    relative_costs,
)
from sim.scenario.codes import N_SEGMENTS, SEGMENTS
from sim.scenario.schema import Market as MarketParams
from sim.scenario.schema import Shock


class Market:
    """Market environment. Arrays are indexed [product, segment]."""

    def __init__(self, params: MarketParams, products: list[str], rng: np.random.Generator) -> None:
        self.params = params
        self.products = products
        self.rng = rng
        n_products = len(products)
        base = np.asarray(params.demand_growth_mean)
        # True market opportunity differs by product: some lines grow, others stagnate.
        self.trend = base + params.demand_growth_spread * rng.standard_normal(
            (n_products, N_SEGMENTS)
        )
        self.growth = self.trend.copy()
        self.demand = np.ones((n_products, N_SEGMENTS))  # set by calibrate()
        self.shock_multiplier = np.ones((n_products, N_SEGMENTS))
        self.outside_quality = np.asarray(params.quality_threshold) + 0.15
        self.outside_weight = np.ones((n_products, N_SEGMENTS))
        self.outside_cost = 1.0  # relative to the reference cost at start
        self.premium = np.asarray(params.segment_premium)
        self.threshold = np.asarray(params.quality_threshold)
        self.reference_cost = np.ones(n_products)
        self.recent_growth = np.zeros((n_products, N_SEGMENTS))  # what a market watcher sees
        self._recovery = np.zeros((n_products, N_SEGMENTS))
        self.value_per_weight = np.zeros((n_products, N_SEGMENTS))  # last clearing's terms
        self.inside_sales = np.zeros((n_products, N_SEGMENTS))
        self.outside_sales = np.zeros((n_products, N_SEGMENTS))

    @property
    def effective_demand(self) -> np.ndarray:
        return self.demand * self.shock_multiplier

    def calibrate(self, capacity_value: np.ndarray, inside_weight: np.ndarray) -> None:
        """Size demand and outside competition from the initial world.

        Demand is set so cluster firms start near the target capacity use while holding
        ``1 - outside_share`` of each market; segments with little cluster presence get a
        floor so a firm that upgrades into them still faces a real market.
        """
        p = self.params
        floor_value = 0.05 * capacity_value.sum(axis=1, keepdims=True) + 1e-9
        self.capacity_value = capacity_value
        value = np.maximum(capacity_value, floor_value)
        self.demand = p.utilisation_target * value / (1 - p.outside_share)
        floor_weight = 0.05 * inside_weight.sum(axis=1, keepdims=True) + 1e-12
        weight = np.maximum(inside_weight, floor_weight)
        outside_advantage = np.exp(p.quality_sensitivity * (self.outside_quality - self.threshold))
        self.outside_weight = (
            weight * p.outside_share / (1 - p.outside_share) / outside_advantage[None, :]
        )

    def rescale(self, utilisation: np.ndarray, inside_share: np.ndarray) -> None:
        """Calibration step: move demand toward the target capacity use and outside
        competitors' strength toward their target share (capacity caps upset both)."""
        p = self.params
        factor = np.where(
            utilisation > 0, p.utilisation_target / np.maximum(utilisation, 1e-9), 1.0
        )
        self.demand *= np.clip(factor, 0.5, 2.0)
        strength = np.where(inside_share > 0, inside_share / (1 - p.outside_share), 1.0)
        self.outside_weight *= np.clip(strength, 0.5, 2.0)

    def evolve(self, policy_step: int) -> None:
        """One quarter: growth rates drift around their trends, demand moves, shocks apply."""
        p = self.params
        # the random walk's draws, then the noise's: one call draws both, in that order
        draws = self.rng.standard_normal((2, *self.demand.shape))
        change = drift_growth(
            self.growth,
            self.trend,
            self.recent_growth,
            self.shock_multiplier,
            self._recovery,
            draws,
            p.growth_drift,
            p.volatility,
        )
        self.demand *= np.exp(change, out=change)
        for shock in p.shocks:
            if shock.step == policy_step:
                self.apply_shock(shock)
        self.outside_quality = self.outside_quality + p.outside_improvement
        self.outside_cost = self.outside_cost * (1 - p.outside_cost_decline)

    def apply_shock(self, shock: Shock) -> None:
        rows = (
            [self.products.index(name) for name in shock.products if name in self.products]
            if shock.products
            else list(range(len(self.products)))
        )
        cols = [SEGMENTS.index(s) for s in shock.segments]
        index = np.ix_(rows, cols)
        self.shock_multiplier[index] *= 1 - shock.size
        self._recovery[index] = shock.recovery_rate

    def returning_demand(self) -> np.ndarray:
        """Per [product, segment]: the log growth of demand that shocked markets regain this
        quarter as they recover (0 where nothing was lost)."""
        regained = (1 - self.shock_multiplier) * self._recovery / self.shock_multiplier
        return np.log1p(regained)

    def outside_attractiveness(self) -> np.ndarray:
        """Logit weight of outside competitors per [product, segment]: their customer base
        (``outside_weight``) times a logit over their quality and cost (``outside_advantage``)."""
        return self.outside_weight * self.outside_advantage()

    def outside_advantage(self) -> np.ndarray:
        """Per segment: the logit over outside competitors' quality and cost, which improve."""
        p = self.params
        return np.exp(
            p.quality_sensitivity * (self.outside_quality - self.threshold)
            - p.price_sensitivity * np.log(self.outside_cost)
        )

    def price_disutility(self, product: np.ndarray, unit_cost: np.ndarray) -> np.ndarray:
        """The price term of a seller's logit utility (its cost against the product's reference);
        it does not depend on the segment, so a firm weighing several segments computes it once."""
        disutility = np.log(relative_costs(unit_cost, product, self.reference_cost))
        disutility *= self.params.price_sensitivity
        return disutility

    def firm_weight(
        self,
        segment: np.ndarray | int,
        price_disutility: np.ndarray,
        quality: np.ndarray,
        visibility: np.ndarray,
        goodwill: np.ndarray,
    ) -> np.ndarray:
        """Logit weight of each selling firm: goodwill x exp(quality - price + visibility)."""
        segments = np.broadcast_to(segment, np.shape(price_disutility))
        weight = np.exp(
            logit_exponents(
                segments,
                price_disutility,
                quality,
                visibility,
                self.threshold,
                self.params.quality_sensitivity,
            )
        )
        weight *= goodwill
        return weight

    def clear(
        self,
        market_index: np.ndarray,
        weight: np.ndarray,
        capacity_value: np.ndarray,
        rounds: int = 4,
    ) -> np.ndarray:
        """Share each market's demand (value) among its sellers and outside competitors, in
        proportion to ``weight`` (goodwill x logit attraction).

        A seller cannot sell beyond its capacity: what its buyers cannot get from it goes back
        to the market and is shared again among the others (outside competitors included), a
        few rounds of water-filling.
        """
        sales, self.value_per_weight, self.outside_sales = clear_markets(
            market_index,
            weight,
            capacity_value,
            self.demand,
            self.shock_multiplier,
            self.outside_weight,
            self.outside_advantage(),
            rounds,
        )
        return sales

    def record_sales(self, market_index: np.ndarray, sales: np.ndarray) -> None:
        """Cluster firms' actual (capacity-capped) sales per market, for market shares."""
        self.inside_sales = np.bincount(
            market_index, weights=sales, minlength=self.demand.size
        ).reshape(self.demand.shape)

    def market_share(self) -> np.ndarray:
        """Cluster firms' share of each product-segment market, against outside competitors."""
        return self.inside_sales / np.maximum(self.effective_demand, 1e-12)
