"""Effects of support, as docs/ODD.md section 7 "Effects of support" and "Needs and take-up" read.

Reference for ``sim.model.support.apply_support`` (``apply``, ``productivity_gap``) and for
the grant path of ``sim.model.government.deliver`` (``deliver``).

    Coaching dose d = amount / dose cost: log productivity += coaching_effect x d x absorptive
    x gap; quality += coaching_quality_effect x d x absorptive x (1 - quality). Equipment: the
    amount adds to the firm's machine stock (which raises capacity, see "Production"; labour
    productivity does not move). Market linkage: visibility += linkage_visibility x d (decays
    at visibility_decay), knowledge rises. Credit: cash.

Written as a plain loop over the receiving firms, one firm at a time. Two things the ODD leaves
open are taken from the code and marked below: coaching also adds knowledge (``0.05 x d x (1 -
knowledge)``; the ODD's "Learning" says only "coaching and market linkage add knowledge"), and
"knowledge rises" for linkage is ``linkage_knowledge x d x (1 - knowledge)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COACHING, EQUIPMENT, LINKAGE, CREDIT = range(4)  # sim/scenario/codes.py
MAX_GRANT_PER_WORKER = 2.0  # sim/model/support.py: what a firm can put to use in a quarter
COACHING_KNOWLEDGE = 0.05  # from the code (see the module docstring)


@dataclass(frozen=True)
class SupportRules:
    coaching_dose_cost: float
    coaching_effect: float
    coaching_quality_effect: float
    linkage_dose_cost: float
    linkage_visibility: float
    linkage_knowledge: float
    coaching_knowledge: float = COACHING_KNOWLEDGE


def rules(snapshot) -> SupportRules:
    k = snapshot.config.instruments
    return SupportRules(
        k.coaching_dose_cost, k.coaching_effect, k.coaching_quality_effect,
        k.linkage_dose_cost, k.linkage_visibility, k.linkage_knowledge,
    )  # fmt: skip


def productivity_gap(snapshot) -> np.ndarray:
    """ "gap to its product's productivity frontier (90th percentile)": clip(1 - productivity /
    frontier, 0, 1), the frontier over all firms of the product (1 where a product has none)."""
    f = snapshot.firms
    product = snapshot.cluster_product[f.cluster]
    frontier = np.ones(len(snapshot.market.reference_cost))
    for p in range(len(frontier)):
        if (product == p).any():
            frontier[p] = np.quantile(f.productivity[product == p], 0.9)
    return np.clip(1 - f.productivity / frontier[product], 0, 1)


def take(firms, slot: int, instrument: int, amount: float, gap: float, r: SupportRules) -> float:
    """What ``amount`` (wage units) of one instrument does to one firm (``firms`` changed in
    place, except productivity); returns the log of its productivity growth."""
    log_growth = 0.0
    if instrument == COACHING:
        # "Coaching dose d = amount / dose cost"
        d = amount / r.coaching_dose_cost
        # "log productivity += coaching_effect x d x absorptive x gap"
        log_growth = r.coaching_effect * d * firms.absorptive[slot] * gap
        # "quality += coaching_quality_effect x d x absorptive x (1 - quality)"
        firms.quality[slot] += (
            r.coaching_quality_effect * d * firms.absorptive[slot] * (1 - firms.quality[slot])
        )
        # (from the code) coaching adds knowledge too
        firms.knowledge[slot] += r.coaching_knowledge * d * (1 - firms.knowledge[slot])
    elif instrument == EQUIPMENT:
        # "the amount adds to the firm's machine stock"
        firms.equipment[slot] += amount
    elif instrument == LINKAGE:
        # "visibility += linkage_visibility x d", "knowledge rises"
        d = amount / r.linkage_dose_cost
        firms.visibility[slot] += r.linkage_visibility * d
        firms.knowledge[slot] += r.linkage_knowledge * d * (1 - firms.knowledge[slot])
    elif instrument == CREDIT:
        # "Credit: cash."
        firms.cash[slot] += amount
    # the support a firm received, this quarter and in all
    firms.support[slot] += amount
    firms.support_total[slot] += amount
    return log_growth


def apply(snapshot, slots, instrument: int, amount, gap=None, r: SupportRules | None = None):
    """``apply_support``: each firm in ``slots`` (distinct) receives ``amount`` of ``instrument``.

    Productivity is multiplied by the exponential of the log growth, taken by numpy over all
    recipients at once (as the model does; numpy's ``exp`` rounds differently from ``math.exp``).
    With a slot listed twice the model would add quality, knowledge, cash and support twice but
    productivity growth only once (numpy's ``x[slots] *= ...`` keeps the last); this reference
    would do the same, so only distinct slots are compared.
    """
    f = snapshot.firms
    r = r or rules(snapshot)
    if instrument == COACHING and gap is None:
        gap = productivity_gap(snapshot)
    log_growth = np.array(
        [
            take(
                f, int(slot), instrument, float(a), float(gap[slot]) if gap is not None else 0.0, r
            )
            for slot, a in zip(slots, amount, strict=True)
        ]
    )
    if instrument == COACHING:
        f.productivity[slots] *= np.exp(log_growth)


def deliver(snapshot, allocation, mix, applicant, asked, perceived, region_capacity, policy,
            takeup_cost, gap=None, r: SupportRules | None = None) -> np.ndarray:  # fmt: skip
    """The grant path of ``government.deliver`` (ODD "Government", "Needs and take-up"):
    returns the budget spent per cluster, changing the snapshot's firms.

    "Delivery loses delivery_leakage x (1 - regional capacity)." Each cluster's delivered pot
    is split by its instrument mix. "Enrolled firms receive equipment and credit but attend
    coaching and linkage only when the perceived need exceeds takeup_cost"; under voluntary
    participation applicants take everything "and pay the co-financing share themselves".
    A recipient's share is its cluster's pot over the recipients, capped at what it can absorb
    (a coaching or linkage dose; ``MAX_GRANT_PER_WORKER`` per worker, at least one, of
    equipment or credit; net of co-financing).
    """
    f = snapshot.firms
    r = r or rules(snapshot)
    gap = productivity_gap(snapshot) if gap is None else gap
    leaked = allocation * policy.delivery_leakage * (1 - region_capacity)
    delivered = allocation - leaked
    cofinance = policy.cofinancing_share if policy.voluntary else 0.0
    pot = delivered[:, None] * mix
    n_clusters, n_instruments = pot.shape
    # who receives what: only firms of clusters that got something
    in_supported = delivered[f.cluster[asked]] > 0
    if policy.voluntary:
        receives = np.repeat(applicant[asked][:, None], n_instruments, axis=1)
    else:
        receives = perceived > takeup_cost
        receives[:, [EQUIPMENT, CREDIT]] = True
    receives &= in_supported[:, None]
    recipients = np.zeros((n_clusters, n_instruments))
    for j in range(n_instruments):
        recipients[:, j] = np.bincount(
            f.cluster[asked], weights=receives[:, j], minlength=n_clusters
        )
    share = pot / np.maximum(recipients, 1)
    public_spent = np.zeros((n_clusters, n_instruments))
    log_growth = np.zeros((len(asked), n_instruments))
    # firm by firm, instruments in order
    for row, slot in enumerate(asked):
        c = f.cluster[slot]
        for j in range(n_instruments):
            if not receives[row, j]:
                continue
            if j == COACHING:
                absorbable = r.coaching_dose_cost
            elif j == LINKAGE:
                absorbable = r.linkage_dose_cost
            else:
                absorbable = MAX_GRANT_PER_WORKER * max(f.workers[slot], 1.0)
            public = min(share[c, j], absorbable * (1 - cofinance))
            total = public / (1 - cofinance)
            f.cash[slot] -= total - public  # the firm's own co-financing
            log_growth[row, j] = take(f, slot, j, total, gap[slot], r)
            public_spent[c, j] += public
    rows = np.flatnonzero(receives[:, COACHING])  # numpy's exp over coaching's recipients
    f.productivity[asked[rows]] *= np.exp(log_growth[rows, COACHING])
    spent = leaked.copy()
    for j in range(n_instruments):
        if recipients[:, j].any():
            spent += public_spent[:, j]
    return spent
