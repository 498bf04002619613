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

from sim.model.kernels import coordination as kernels
from sim.model.kernels.compiled import columns_of
from sim.scenario.codes import APPOINTED, EMERGENT, NO_COORDINATOR

if TYPE_CHECKING:
    from sim.model import ClusterModel


def membership_threshold(model: ClusterModel, cluster_size: np.ndarray) -> np.ndarray:
    """Members a cluster needs for a coordinator to emerge: a number, or a share of its firms
    where that is more (critical mass grows with the cluster)."""
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


def withdraw_appointed(model: ClusterModel, keep: np.ndarray) -> None:
    """Government withdraws the coordinators it appointed in clusters no longer in its
    programme (``keep``: bool per cluster): it pays its facilitators only while it supports
    the cluster. Emergent coordinators are the members' and stay."""
    c = model.clusters
    dropped = np.flatnonzero((c.coordinator == APPOINTED) & ~keep)
    c.coordinator[dropped] = NO_COORDINATOR
    c.legitimacy[dropped] = 0.0
    for cluster in dropped:
        model.remove_coordinator(int(cluster))


def update_coordination(model: ClusterModel) -> None:
    """One quarter of associational life, for every cluster at once: sales swings mobilise
    firms, firms join and leave, coordinators emerge or dissolve, legitimacy and joint action
    move (``sim.model.kernels.coordination``)."""
    f, c, rng = model.firms, model.clusters, model.rng
    size, c.mobilisation, chance, outsiders = kernels.mobilise(
        f.cluster, f.member, columns_of(c, kernels.Mobilising), mobilisation(model)
    )
    # draws for the firms each choice concerns: outsiders may join, members may leave
    draws = np.empty(len(f.member))  # the outsiders' draws in slot order, then the members'
    rng.random(outsiders, out=draws[:outsiders])
    rng.random(len(f.member) - outsiders, out=draws[outsiders:])
    emerging, dissolving, c.legitimacy, c.joint_action = kernels.join_and_coordinate(
        f.cluster,
        f.member,
        chance,
        draws,
        outsiders,
        columns_of(c, kernels.Coordinating),
        size,
        emergence(model),
    )
    for cluster in emerging:
        model.add_coordinator(int(cluster), EMERGENT)
    for cluster in dissolving:
        model.remove_coordinator(int(cluster))


def mobilisation(model: ClusterModel) -> kernels.Mobilisation:
    """The parameters of mobilisation and membership, as the coordination kernels read them."""
    p = model.config.coordination
    return kernels.Mobilisation(
        keep=1 - p.mobilisation_decay,
        crisis_response=p.crisis_response,
        join_rate=p.join_rate,
        leave_rate=p.leave_rate,
    )


def emergence(model: ClusterModel) -> kernels.Emergence:
    """The parameters of coordinators, legitimacy and joint action, as the kernels read them."""
    p = model.config.coordination
    return kernels.Emergence(
        allowed=model.config.policy.emergent_coordinators,
        membership_threshold=float(p.membership_threshold),
        membership_threshold_share=p.membership_threshold_share,
        emergent_legitimacy=p.emergent_legitimacy,
        legitimacy_gain=p.legitimacy_gain,
        legitimacy_decay=p.legitimacy_decay,
        informal_joint_action=p.informal_joint_action,
    )
