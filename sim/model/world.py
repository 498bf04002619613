"""Building the initial world from a scenario: regions, clusters, firms and their first ties."""

from __future__ import annotations

import numpy as np

from sim.model.cluster_state import ClusterState, RegionState
from sim.model.firm_state import FirmState
from sim.scenario.schema import Scenario, World


def _beta_around(rng: np.random.Generator, mean: float, size: int, strength: float = 6.0):
    """Beta draws with a given mean: bounded heterogeneity for 0..1 traits."""
    mean = min(max(mean, 0.02), 0.98)
    return rng.beta(mean * strength, (1 - mean) * strength, size)


def build_regions(world: World, rng: np.random.Generator) -> RegionState:
    n = max(1, round(world.n_regions * world.scale))
    lo, hi = world.regional_capacity
    return RegionState(capacity=rng.uniform(lo, hi, n))


def build_clusters(world: World, n_regions: int, rng: np.random.Generator) -> ClusterState:
    """Right-skewed cluster sizes (lognormal, clipped); named clusters take the first slots."""
    n = max(1, round(world.n_clusters * world.scale), len(world.named_clusters))
    sizes = np.exp(
        np.log(world.cluster_size_median) + world.cluster_size_sigma * rng.standard_normal(n)
    )
    sizes = np.clip(np.round(sizes), world.cluster_size_min, world.cluster_size_max).astype(int)
    product = rng.integers(0, len(world.products), n)
    region = rng.integers(0, n_regions, n)
    # Tradition (age, reputation) is visible to government and loosely tied to size.
    size_rank = np.argsort(np.argsort(sizes)) / max(n - 1, 1)
    tradition = np.clip(0.5 * size_rank + 0.5 * rng.random(n), 0, 1)
    names = [f"{world.products[p]}-{i:04d}" for i, p in enumerate(product)]
    forced = np.zeros(n, dtype=bool)
    for i, named in enumerate(world.named_clusters):
        names[i] = named.name
        product[i] = world.products.index(named.product)
        region[i] = min(named.region, n_regions - 1)
        sizes[i] = named.n_firms
        tradition[i] = named.tradition
        forced[i] = named.designated
    return ClusterState(
        name=names,
        product=product,
        region=region,
        tradition=tradition,
        initial_size=sizes.astype(float),
        forced_designation=forced,
    )


def quality_mean(world: World, clusters: ClusterState) -> np.ndarray:
    """Each cluster's mean product quality: older, better-known crafts make better goods; a named
    cluster's quality from the record (e.g. an export cluster) replaces the rule."""
    mean = 0.2 + 0.25 * clusters.tradition
    for i, named in enumerate(world.named_clusters):
        if named.quality is not None:
            mean[i] = named.quality
    return mean


def populate_firms(
    scenario: Scenario, clusters: ClusterState, rng: np.random.Generator
) -> FirmState:
    """Firms of every cluster: stage, size, productivity, quality, knowledge, absorption, cash."""
    world, firm_params = scenario.world, scenario.firms
    sizes = clusters.initial_size.astype(int)
    total = int(sizes.sum())
    firms = FirmState(capacity=int(total * 1.5))
    slots = firms.allocate(total)
    cluster_of = np.repeat(np.arange(clusters.count), sizes)
    stage = rng.choice(3, size=total, p=world.stage_shares).astype(np.int8)
    # Every cluster has at least one producer: it is what makes it a cluster of that product.
    first_of_cluster = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    stage[first_of_cluster] = 1
    workers = np.exp(
        np.log(world.workers_median) + world.workers_sigma * rng.standard_normal(total)
    )
    workers = np.where(stage == 2, workers * world.trader_size_factor, workers)
    cluster_effect = np.exp(0.15 * rng.standard_normal(clusters.count))
    productivity = cluster_effect[cluster_of] * np.exp(
        world.productivity_sigma * rng.standard_normal(total)
    )
    quality = np.clip(
        quality_mean(world, clusters)[cluster_of] + 0.12 * rng.standard_normal(total), 0.01, 0.95
    )
    quality = np.where(stage == 2, np.minimum(quality + 0.15, 0.97), quality)
    knowledge = _beta_around(rng, firm_params.market_knowledge_mean, total)
    knowledge = np.where(stage == 2, np.minimum(knowledge + 0.3, 0.98), knowledge)

    firms.cluster[slots] = cluster_of
    firms.stage[slots] = stage
    firms.workers[slots] = np.maximum(1.0, np.round(workers))
    firms.productivity[slots] = productivity
    firms.quality[slots] = quality
    firms.knowledge[slots] = knowledge
    firms.absorptive[slots] = _beta_around(rng, firm_params.absorptive_mean, total)
    firms.age[slots] = rng.integers(0, 60, total)
    firms.cash[slots] = firm_params.cash_buffer * firms.workers[slots]
    return firms
