"""What the report page shows for one experiment: the ``Section`` every analysis returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import plotly.graph_objects as go


@dataclass
class Section:
    """What the page shows for one experiment."""

    key: str
    title: str
    question: str
    design: str
    reading: list[str] = field(default_factory=list)
    figures: list[tuple[str, go.Figure]] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    summaries: dict[str, pd.DataFrame] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # shown first, e.g. too few seeds
