"""Compiled per-cluster and per-firm loops behind ``sim.model.coordination``: membership,
mobilisation, coordinators' emergence and dissolution, legitimacy and joint action.

One loop over the clusters replaces a dozen numpy calls on short arrays (each costs more in
call overhead than in arithmetic); every value is the IEEE expression of the rule, in a fixed
order (``np.maximum``/``np.minimum`` semantics keep NaN; a boolean factor is 1.0 or 0.0).
Coordinator codes come from ``sim.scenario.codes``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.model.kernels.compiled import floor_at, kernel
from sim.scenario.codes import EMERGENT, NO_COORDINATOR


class Mobilisation(NamedTuple):
    """What moves membership (``sim.model.coordination.mobilisation``)."""

    keep: float  # 1 - mobilisation decay
    crisis_response: float
    join_rate: float
    leave_rate: float


class Emergence(NamedTuple):
    """What makes coordinators, legitimacy and joint action
    (``sim.model.coordination.emergence``)."""

    allowed: bool  # emergent coordinators allowed
    membership_threshold: float  # members a coordinator needs to emerge, at least
    membership_threshold_share: float  # or this share of the cluster's firms, where more
    emergent_legitimacy: float
    legitimacy_gain: float
    legitimacy_decay: float
    informal_joint_action: float


class Mobilising(NamedTuple):
    """The cluster columns ``mobilise_and_chances`` reads (views of ``model.clusters``)."""

    sales: np.ndarray
    sales_previous: np.ndarray
    coordinator: np.ndarray
    legitimacy: np.ndarray
    mobilisation: np.ndarray


class Coordinating(NamedTuple):
    """The cluster columns ``join_and_coordinate`` reads; it writes ``members``, and
    ``coordinator`` and ``legitimacy`` where a coordinator emerges or dissolves."""

    coordinator: np.ndarray  # written
    legitimacy: np.ndarray  # written
    needs_met: np.ndarray
    mobilisation: np.ndarray
    members: np.ndarray  # written: members per cluster after joining and leaving


@kernel
def sizes_and_members(cluster, member, n):
    """Firms and members per cluster (``np.bincount`` counts), in one pass over the firms."""
    size = np.zeros(n, dtype=np.int64)
    members = np.zeros(n, dtype=np.int64)
    for i in range(len(cluster)):
        size[cluster[i]] += 1
        members[cluster[i]] += member[i]
    return size, members


@kernel
def join_and_leave(cluster, member, chance, draws, outsiders, n):
    """Each firm switches (an outsider joins, a member leaves) where its draw falls below its
    cluster's chance (``member`` in place); return the members per cluster afterwards.

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
def mobilise_and_chances(clusters, size, members, p):
    """Per cluster: this quarter's mobilisation and the (join, leave) chance table.

    ``clusters``: ``Mobilising``; ``size`` and ``members``: firms and members per cluster;
    ``p``: ``Mobilisation``.
    """
    mobilised = np.empty(len(size))
    chance = np.empty((len(size), 2))
    for k in range(len(size)):
        member_share = members[k] / max(size[k], 1)
        previous = clusters.sales_previous[k]
        swing = abs(clusters.sales[k] / (1e-9 if previous < 1e-9 else previous) - 1)
        swing = (1.0 if swing > 1.0 else swing) if previous > 0 else 0.0
        has_coordinator = 1.0 if clusters.coordinator[k] > NO_COORDINATOR else 0.0
        # A crisis or an opportunity mobilises firms for a while, then the memory fades.
        mobilised[k] = p.keep * clusters.mobilisation[k] + p.crisis_response * swing
        pull = 1 + mobilised[k] + member_share + clusters.legitimacy[k] * has_coordinator
        join = p.join_rate * pull
        chance[k, 0] = 1.0 if join > 1.0 else join
        chance[k, 1] = p.leave_rate * (1 - 0.5 * clusters.legitimacy[k] * has_coordinator)
    return mobilised, chance


@kernel
def mobilise(cluster, member, clusters, p):
    """The part of a quarter of associational life before the firms' draws, in one call:
    firms and members per cluster (``sizes_and_members``), mobilisation and the (join, leave)
    chance table (``mobilise_and_chances``), and how many firms are outsiders (the draws for
    them come first).

    ``cluster`` and ``member``: per slot; ``clusters``: ``Mobilising``; ``p``:
    ``Mobilisation``. Returns (size, mobilisation, chance, outsiders).
    """
    size, members = sizes_and_members(cluster, member, len(clusters.sales))
    mobilised, chance = mobilise_and_chances(clusters, size, members, p)
    return size, mobilised, chance, len(member) - members.sum()


@kernel
def join_and_coordinate(cluster, member, chance, draws, outsiders, clusters, size, p):
    """The part of a quarter of associational life after the firms' draws, in one call:
    firms join and leave (``join_and_leave``; members per cluster written to
    ``clusters.members``), then coordinators emerge or dissolve and legitimacy and joint action
    move (``coordinators_and_joint_action``).

    The membership threshold is ``sim.model.coordination.membership_threshold``'s: the larger
    of ``p.membership_threshold`` and ``p.membership_threshold_share x size`` (as
    ``np.maximum``). ``clusters``: ``Coordinating``; ``p``: ``Emergence``. Returns (emerging,
    dissolving, legitimacy, joint action), as ``coordinators_and_joint_action``.
    """
    members = join_and_leave(cluster, member, chance, draws, outsiders, len(size))
    threshold = np.empty(len(size))
    for k in range(len(size)):
        clusters.members[k] = members[k]
        threshold[k] = floor_at(p.membership_threshold_share * size[k], p.membership_threshold)
    return coordinators_and_joint_action(clusters, size, members, threshold, p)


@kernel
def coordinators_and_joint_action(clusters, size, members, threshold, p):
    """Per cluster: coordinators emerge past the membership threshold (if ``p.allowed``) and
    dissolve below half of it; then legitimacy and joint action move.

    Updates ``clusters.coordinator`` and ``clusters.legitimacy`` (``Coordinating``) in place for
    the clusters whose coordinator changed and returns those clusters (emerging, dissolving:
    ascending, as ``np.flatnonzero``) with the new legitimacy and joint action. ``p``:
    ``Emergence``.
    """
    coordinator, legitimacy = clusters.coordinator, clusters.legitimacy
    n = len(size)
    emerging, dissolving = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    n_emerging = n_dissolving = 0
    new_legitimacy, joint_action = np.empty(n), np.empty(n)
    for k in range(n):
        if p.allowed and coordinator[k] == NO_COORDINATOR and members[k] >= threshold[k]:
            coordinator[k] = EMERGENT
            legitimacy[k] = p.emergent_legitimacy
            emerging[n_emerging] = k
            n_emerging += 1
        if coordinator[k] == EMERGENT and members[k] < 0.5 * threshold[k]:
            coordinator[k] = NO_COORDINATOR
            legitimacy[k] = 0.0
            dissolving[n_dissolving] = k
            n_dissolving += 1
        has_coordinator = coordinator[k] > NO_COORDINATOR
        member_share = members[k] / max(size[k], 1)
        # Legitimacy grows with the benefits members feel: the share of their needs support met
        # (not support merely arriving). An emergent coordinator also rises from the members who
        # organised themselves; an appointed one starts with passive members and gains only
        # from needs met.
        organised = member_share if coordinator[k] == EMERGENT else 0.0
        old = legitimacy[k]
        gain = p.legitimacy_gain * (organised + clusters.needs_met[k]) * (1 - old)
        new_legitimacy[k] = old + gain - p.legitimacy_decay * old if has_coordinator else 0.0
        # Members act together as far as someone coordinates them: a coordinator's legitimacy,
        # or weaker informal organisation; mobilisation in a crisis or boom intensifies it.
        organisation = new_legitimacy[k] if has_coordinator else p.informal_joint_action
        joint = organisation * member_share * (1 + clusters.mobilisation[k])
        joint_action[k] = 1.0 if joint > 1.0 else joint
    return emerging[:n_emerging], dissolving[:n_dissolving], new_legitimacy, joint_action
