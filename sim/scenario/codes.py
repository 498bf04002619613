"""Every name and integer code the model and its files share, defined once.

Scenario files speak these names (a shock's ``segments``, the instrument mix); the model stores
the integer positions in its arrays and compiled kernels read them as constants. This module is
the lowest layer (the scenario schema needs the names, the model the codes), so both import it
and nothing repeats a code.
"""

from __future__ import annotations

# Value-chain stage of a firm (``FirmState.stage``)
STAGES: tuple[str, ...] = ("upstream", "producer", "downstream")
UPSTREAM, PRODUCER, DOWNSTREAM = range(len(STAGES))

# Market segments, cheapest first (``FirmState.segment``, the market's column)
SEGMENTS: tuple[str, ...] = ("domestic_low", "domestic_high", "export")
DOMESTIC_LOW, DOMESTIC_HIGH, EXPORT = range(len(SEGMENTS))
N_SEGMENTS = len(SEGMENTS)

# Support instruments (the instrument mix, ``FirmState.support`` flags)
INSTRUMENTS: tuple[str, ...] = ("coaching", "equipment", "market_linkage", "credit")
COACHING, EQUIPMENT, LINKAGE, CREDIT = range(len(INSTRUMENTS))
N_INSTRUMENTS = len(INSTRUMENTS)

# Coordinator of a cluster (``ClusterState.coordinator``)
COORDINATOR_KINDS: tuple[str, ...] = ("none", "emergent", "appointed")
NO_COORDINATOR, EMERGENT, APPOINTED = range(len(COORDINATOR_KINDS))

# Cluster types, from the literature's typology (dormant/artisanal -> advanced)
CLUSTER_TYPES: tuple[str, ...] = ("dormant", "active", "dynamic", "advanced")
DORMANT, ACTIVE, DYNAMIC, ADVANCED = range(len(CLUSTER_TYPES))
