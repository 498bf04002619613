"""Segment choice, as docs/ODD.md section 7 "Segment choice" (and "Prediction", "Sensing") reads.

Reference for ``sim.model.production.eligible_segments`` and ``choose_segments``.

    A share ``segment_review_rate`` of sellers compare segments they qualify for by expected
    margin, sensed with log-normal noise ``perception_noise x (1 - knowledge)``. A firm
    qualifies for a segment when its quality clears the threshold; export also needs a way to
    foreign buyers: either a tie to a trader (whose finishing bridges ``trader_quality_bridge``
    of the quality gap) or market knowledge of at least ``export_knowledge`` to find buyers
    alone.

"Prediction": firms expect next quarter's sales from the last clearing's value per unit of
attractiveness. Attractiveness is the market-clearing logit weight (ODD "Market clearing").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EXPORT = 2  # segments: domestic low-end, domestic high-end, export (sim/scenario/codes.py)


@dataclass(frozen=True)
class SegmentRules:
    threshold: np.ndarray  # quality threshold per segment
    premium: np.ndarray  # price premium per segment
    export_knowledge: float
    trader_quality_bridge: float
    review_rate: float  # segment_review_rate
    perception_noise: float
    quality_sensitivity: float  # b_q
    markup: float
    entry_goodwill: float  # a newcomer's customer base, as a share of its capacity's value


def rules(snapshot) -> SegmentRules:
    c, m = snapshot.config, snapshot.market
    return SegmentRules(
        threshold=m.threshold,
        premium=m.premium,
        export_knowledge=c.firms.export_knowledge,
        trader_quality_bridge=c.firms.trader_quality_bridge,
        review_rate=c.firms.segment_review_rate,
        perception_noise=c.instruments.perception_noise,
        quality_sensitivity=c.market.quality_sensitivity,
        markup=c.firms.markup,
        entry_goodwill=c.market.entry_goodwill,
    )


def eligible(quality, knowledge, trader, r: SegmentRules) -> np.ndarray:
    """Boolean [firm, segment] for the firms whose quality, knowledge and trader tie are given."""
    quality, knowledge, has_trader = quality[:, None], knowledge, trader >= 0
    # "A firm qualifies for a segment when its quality clears the threshold"
    qualifies = quality >= r.threshold[None, :]
    # "export also needs a way to foreign buyers: ... market knowledge of at least
    # export_knowledge to find buyers alone"
    alone = (knowledge >= r.export_knowledge) & qualifies[:, EXPORT]
    # "... or a tie to a trader (whose finishing bridges trader_quality_bridge of the gap)"
    through_trader = has_trader & (quality[:, 0] + r.trader_quality_bridge >= r.threshold[EXPORT])
    qualifies[:, EXPORT] = alone | through_trader
    return qualifies


def logit_exponent(quality, threshold, price_disutility, visibility, b_q):
    """ODD "Market clearing": b_q (quality - threshold) - b_p log(unit cost / reference) +
    visibility; the price term b_p log(...) is ``price_disutility``. Capped at 50 (the code
    caps it so that its exponential cannot overflow; the ODD does not mention the cap)."""
    return np.minimum(b_q * (quality - threshold) - price_disutility + visibility, 50.0)


def choose(
    segment: np.ndarray,
    sellers: np.ndarray,
    product: np.ndarray,
    cost: np.ndarray,
    price_disutility: np.ndarray,
    seen: np.ndarray,
    is_eligible: np.ndarray,
    snapshot,
    r: SegmentRules,
) -> np.ndarray:
    """New target segment of every firm (a copy of ``segment`` with the reviewers' choices).

    ``sellers``: slots of the firms that sell (not upstream); ``product``, ``cost`` (unit cost),
    ``price_disutility`` (b_p log relative cost), ``seen`` (visibility) and ``is_eligible`` are
    per seller. Draws come from ``snapshot.rng``: first one uniform per seller (who reviews),
    then, if anyone reviews, a standard normal per reviewer and segment (misperception).
    """
    f, rng = snapshot.firms, snapshot.rng
    segment = segment.copy()
    # "A share segment_review_rate of sellers ..."
    reviews = rng.random(len(sellers)) < r.review_rate
    if not reviews.any():
        return segment
    z = rng.standard_normal((int(reviews.sum()), len(r.threshold)))
    k = np.flatnonzero(reviews)  # positions among the sellers
    i = sellers[k]  # slots
    capacity = f.output_capacity[i][:, None]
    # "price is unit cost x (1 + markup) x the segment's premium"
    price = cost[k][:, None] * (1 + r.markup) * r.premium[None, :]
    # "expected sales from the last clearing's value per unit of attractiveness":
    # attractiveness = customer base x exp(logit exponent) in each segment: a firm brings its
    # customer base to any segment; an entrant yet to sell starts with entry_goodwill of the
    # value it can make
    exponent = logit_exponent(
        f.quality[i][:, None], r.threshold[None, :], price_disutility[k][:, None],
        seen[k][:, None], r.quality_sensitivity,
    )  # fmt: skip
    known = f.goodwill[i][:, None] >= 0
    base = np.where(known, f.goodwill[i][:, None], r.entry_goodwill * capacity * price)
    attractiveness = base * np.exp(exponent)
    value_per_weight = snapshot.market.value_per_weight[product[k]]  # [reviewer, segment]
    # ... but no more than it can make: a seller sells at most its capacity x price
    expected_sales = np.minimum(attractiveness * value_per_weight, capacity * price)
    # margin: the share of the price above unit cost
    expected_margin = expected_sales * (1 - 1 / ((1 + r.markup) * r.premium[None, :]))
    # "sensed with log-normal noise perception_noise x (1 - knowledge)"
    spread = r.perception_noise * (1 - f.knowledge[i])
    sensed = expected_margin * np.exp(spread[:, None] * z)
    # "compare segments they qualify for": the best sensed margin among eligible segments
    # (np.argmax: the first best)
    sensed = np.where(is_eligible[k], sensed, -np.inf)
    segment[i] = np.argmax(sensed, axis=1)
    return segment
