"""docs/ODD.md stays true to the code: its parameter tables are what the schema says, its
outcome tables what the outcome registry (sim.model.outcomes) says."""

from __future__ import annotations

from pathlib import Path

from sim.report import outcome_table
from sim.report.parameters import BEGIN, END, parameter_markdown

ODD = Path(__file__).resolve().parent.parent / "docs" / "ODD.md"


def test_odd_parameter_tables_match_the_schema():
    text = ODD.read_text(encoding="utf-8")
    block = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert block == parameter_markdown().strip(), (
        "docs/ODD.md is stale: run `python -m sim.report.parameters --write docs/ODD.md`"
    )


def test_odd_outcome_tables_match_the_registry():
    text = ODD.read_text(encoding="utf-8")
    assert outcome_table.BEGIN in text and outcome_table.END in text
    block = text.split(outcome_table.BEGIN, 1)[1].split(outcome_table.END, 1)[0].strip()
    assert block == outcome_table.outcome_markdown().strip(), (
        "docs/ODD.md is stale: run `python -m sim.report.outcome_table --write docs/ODD.md`"
    )
    observation = text.index("**Observation.**")
    assert observation < text.index(outcome_table.BEGIN) < text.index("## 5. Initialisation")


def test_odd_has_all_seven_elements():
    text = ODD.read_text(encoding="utf-8")
    for heading in (
        "Purpose and patterns",
        "Entities, state variables and scales",
        "Process overview and scheduling",
        "Design concepts",
        "Initialisation",
        "Input data",
        "Submodels",
    ):
        assert heading in text
