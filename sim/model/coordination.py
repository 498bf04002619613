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

from sim.model.kernels.compiled import kernel
from sim.scenario.codes import APPOINTED, EMERGENT, NO_COORDINATOR

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


@kernel
def _mobilise_and_chances(
    size, members, sales, sales_previous, coordinator, legitimacy, mobilisation, p, none
):
    """Per cluster: this quarter's mobilisation and the (join, leave) chance table.

    One loop over the clusters instead of a dozen numpy calls on short arrays (each costs more
    in call overhead than in arithmetic); every value is the same IEEE expression, in the same
    order, as the numpy version's (``np.maximum``/``np.minimum`` keep NaN; a boolean factor is
    1.0 or 0.0). ``p`` is (1 - mobilisation decay, crisis response, join rate, leave rate);
    ``none`` is the NO_COORDINATOR code.
    """
    keep, crisis_response, join_rate, leave_rate = p
    mobilised = np.empty(len(size))
    chance = np.empty((len(size), 2))
    for k in range(len(size)):
        member_share = members[k] / max(size[k], 1)
        previous = sales_previous[k]
        swing = abs(sales[k] / (1e-9 if previous < 1e-9 else previous) - 1)
        swing = (1.0 if swing > 1.0 else swing) if previous > 0 else 0.0
        has_coordinator = 1.0 if coordinator[k] > none else 0.0
        # A crisis or an opportunity mobilises firms for a while, then the memory fades.
        mobilised[k] = keep * mobilisation[k] + crisis_response * swing
        pull = 1 + mobilised[k] + member_share + legitimacy[k] * has_coordinator
        join = join_rate * pull
        chance[k, 0] = 1.0 if join > 1.0 else join
        chance[k, 1] = leave_rate * (1 - 0.5 * legitimacy[k] * has_coordinator)
    return mobilised, chance


@kernel
def _coordinators_and_joint_action(
    size, members, threshold, coordinator, legitimacy, helped_share, mobilisation, p, codes
):
    """Per cluster: coordinators emerge past the membership threshold (if ``p`` allows) and
    dissolve below half of it; then legitimacy and joint action move.

    Updates ``coordinator`` and ``legitimacy`` in place for the clusters whose coordinator
    changed and returns those clusters (emerging, dissolving: ascending, as ``np.flatnonzero``)
    with the new legitimacy and joint action. Same IEEE expressions, in the same order, as the
    numpy version's. ``p`` is (emergent coordinators allowed, emergent legitimacy, legitimacy
    gain, legitimacy decay, informal joint action); ``codes`` the (none, emergent) codes.
    """
    allowed, emergent_legitimacy, gain_rate, decay, informal = p
    none, emergent = codes
    n = len(size)
    emerging, dissolving = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    n_emerging = n_dissolving = 0
    new_legitimacy, joint_action = np.empty(n), np.empty(n)
    for k in range(n):
        if allowed and coordinator[k] == none and members[k] >= threshold[k]:
            coordinator[k] = emergent
            legitimacy[k] = emergent_legitimacy
            emerging[n_emerging] = k
            n_emerging += 1
        if coordinator[k] == emergent and members[k] < 0.5 * threshold[k]:
            coordinator[k] = none
            legitimacy[k] = 0.0
            dissolving[n_dissolving] = k
            n_dissolving += 1
        has_coordinator = coordinator[k] > none
        member_share = members[k] / max(size[k], 1)
        # Legitimacy grows with membership and with benefits members feel (support they judged
        # useful), not with support merely arriving.
        old = legitimacy[k]
        gain = gain_rate * (member_share + helped_share[k]) * (1 - old)
        new_legitimacy[k] = old + gain - decay * old if has_coordinator else 0.0
        # Members act together as far as someone coordinates them: a coordinator's legitimacy,
        # or weaker informal organisation; mobilisation in a crisis or boom intensifies it.
        organisation = new_legitimacy[k] if has_coordinator else informal
        joint = organisation * member_share * (1 + mobilisation[k])
        joint_action[k] = 1.0 if joint > 1.0 else joint
    return emerging[:n_emerging], dissolving[:n_dissolving], new_legitimacy, joint_action


def update_coordination(model: ClusterModel) -> None:
    """One quarter of associational life, for every cluster at once."""
    f, c, p, rng = model.firms, model.clusters, model.config.coordination, model.rng
    size, members = _sizes_and_members(f.cluster, f.member, c.count)
    c.mobilisation, chance = _mobilise_and_chances(
        size,
        members,
        c.sales,
        c.sales_previous,
        c.coordinator,
        c.legitimacy,
        c.mobilisation,
        (1 - p.mobilisation_decay, p.crisis_response, p.join_rate, p.leave_rate),
        NO_COORDINATOR,
    )
    # draws for the firms each choice concerns: outsiders may join, members may leave
    outsiders = len(f.member) - np.count_nonzero(f.member)
    draws = np.empty(len(f.member))  # the outsiders' draws in slot order, then the members'
    rng.random(outsiders, out=draws[:outsiders])
    rng.random(len(f.member) - outsiders, out=draws[outsiders:])
    members = _join_and_leave(f.cluster, f.member, chance, draws, outsiders, c.count)
    c.members[:] = members

    emerging, dissolving, c.legitimacy, c.joint_action = _coordinators_and_joint_action(
        size,
        members,
        membership_threshold(model, size),
        c.coordinator,
        c.legitimacy,
        c.helped_share,
        c.mobilisation,
        (
            model.config.policy.emergent_coordinators,
            p.emergent_legitimacy,
            p.legitimacy_gain,
            p.legitimacy_decay,
            p.informal_joint_action,
        ),
        (NO_COORDINATOR, EMERGENT),
    )
    for cluster in emerging:
        model.add_coordinator(int(cluster), EMERGENT)
    for cluster in dissolving:
        model.remove_coordinator(int(cluster))
