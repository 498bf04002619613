"""Cluster associations and their coordinators: membership, emergence, legitimacy, joint action.

Firms join an association more when their cluster's sales swing (a crisis or an opportunity)
and when many others are members; they drift away otherwise, so joint action rises and fades
(brief, stylized fact 5). Without a coordinator members still act together, more weakly. Past
a membership threshold an emergent coordinator forms (Brenner: critical mass). Government can
instead appoint one; it starts with little legitimacy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.cluster_state import APPOINTED, EMERGENT, NO_COORDINATOR
from sim.compiled import kernel

if TYPE_CHECKING:
    from sim.model import ClusterModel


def membership_threshold(model: ClusterModel, cluster_size: np.ndarray) -> np.ndarray:
    p = model.config.coordination
    return np.maximum(p.membership_threshold, p.membership_threshold_share * cluster_size)


def install_appointed(model: ClusterModel, clusters: np.ndarray) -> None:
    """Government installs coordinators where none exists; an emergent one is left in place."""
    c = model.clusters
    fresh = clusters[c.coordinator[clusters] == NO_COORDINATOR]
    c.coordinator[fresh] = APPOINTED
    c.legitimacy[fresh] = model.config.coordination.appointed_legitimacy
    for cluster in fresh:
        model.add_coordinator(int(cluster), APPOINTED)


@kernel
def _sizes_and_members(cluster, member, n):
    """Firms and members per cluster (``np.bincount`` counts), in one pass over the firms."""
    size = np.zeros(n, dtype=np.int64)
    members = np.zeros(n, dtype=np.int64)
    for i in range(len(cluster)):
        size[cluster[i]] += 1
        members[cluster[i]] += member[i]
    return size, members


@kernel
def _join_and_leave(cluster, member, chance, draws, outsiders, n):
    """Each firm switches (an outsider joins, a member leaves) where its draw falls below its
    cluster's chance; return the members per cluster afterwards.

    ``chance[k]`` is cluster k's (join, leave) chance; ``draws`` holds the outsiders' draws in
    slot order, then the members' (as ``np.flatnonzero(~member)`` and ``np.flatnonzero(member)``
    indexed them). Branch-free: membership varies from firm to firm, so a branch on it would
    often be mispredicted.
    """
    members = np.zeros(n, dtype=np.int64)
    outsider, insider = 0, outsiders  # where the next outsider's and next member's draws are
    for i in range(len(cluster)):
        k, is_member = cluster[i], np.int64(member[i])  # 0 or 1: a column of ``chance``
        draw = draws[insider if is_member else outsider]
        now = (draw < chance[k, is_member]) != member[i]  # a switch flips membership
        member[i] = now
        outsider += 1 - is_member
        insider += is_member
        members[k] += now
    return members


def update_coordination(model: ClusterModel) -> None:
    """One quarter of associational life, for every cluster at once."""
    f, c, p, rng = model.firms, model.clusters, model.config.coordination, model.rng
    size, members = _sizes_and_members(f.cluster, f.member, c.count)
    member_share = members / np.maximum(size, 1)
    swing = np.abs(c.sales / np.maximum(c.sales_previous, 1e-9) - 1)
    swing = np.where(c.sales_previous > 0, np.minimum(swing, 1.0), 0.0)
    has_coordinator = c.coordinator > NO_COORDINATOR
    # A crisis or an opportunity mobilises firms for a while, then the memory fades.
    c.mobilisation = (1 - p.mobilisation_decay) * c.mobilisation + p.crisis_response * swing

    pull = 1 + c.mobilisation + member_share + c.legitimacy * has_coordinator
    # draws for the firms each choice concerns: outsiders may join, members may leave
    outsiders = len(f.member) - np.count_nonzero(f.member)
    draws = np.empty(len(f.member))  # the outsiders' draws in slot order, then the members'
    rng.random(outsiders, out=draws[:outsiders])
    rng.random(len(f.member) - outsiders, out=draws[outsiders:])
    join_chance = np.minimum(p.join_rate * pull, 1)
    leave_chance = p.leave_rate * (1 - 0.5 * c.legitimacy * has_coordinator)
    chance = np.stack((join_chance, leave_chance), axis=1)
    members = _join_and_leave(f.cluster, f.member, chance, draws, outsiders, c.count)
    c.members[:] = members
    member_share = members / np.maximum(size, 1)

    threshold = membership_threshold(model, size)
    if model.config.policy.emergent_coordinators:
        emerging = np.flatnonzero((c.coordinator == NO_COORDINATOR) & (members >= threshold))
        c.coordinator[emerging] = EMERGENT
        c.legitimacy[emerging] = p.emergent_legitimacy
        for cluster in emerging:
            model.add_coordinator(int(cluster), EMERGENT)
    dissolving = np.flatnonzero((c.coordinator == EMERGENT) & (members < 0.5 * threshold))
    c.coordinator[dissolving] = NO_COORDINATOR
    c.legitimacy[dissolving] = 0.0
    for cluster in dissolving:
        model.remove_coordinator(int(cluster))

    has_coordinator = c.coordinator > NO_COORDINATOR
    # Legitimacy grows with membership and with benefits members feel (support they judged
    # useful), not with support merely arriving.
    gain = p.legitimacy_gain * (member_share + c.helped_share) * (1 - c.legitimacy)
    c.legitimacy = np.where(
        has_coordinator, c.legitimacy + gain - p.legitimacy_decay * c.legitimacy, 0.0
    )
    # Members act together as far as someone coordinates them: a coordinator's legitimacy, or
    # weaker informal organisation; mobilisation in a crisis or boom intensifies it.
    organisation = np.where(has_coordinator, c.legitimacy, p.informal_joint_action)
    c.joint_action = np.minimum(organisation * member_share * (1 + c.mobilisation), 1.0)
