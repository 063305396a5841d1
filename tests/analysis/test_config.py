"""analysis/config.py: the analysis options refuse values out of range, naming the key."""
from __future__ import annotations

import pytest

from analysis.config import AnalysisConfig, PhaseConfig


def test_config_validation():
    with pytest.raises(ValueError, match="rule="):
        AnalysisConfig(rule="worst")
    with pytest.raises(ValueError, match="phase.norm"):
        PhaseConfig(norm=-1.0)
