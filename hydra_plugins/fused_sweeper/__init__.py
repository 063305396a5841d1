"""Hydra sweeper plugin `fused` (see fused_sweeper.py); Hydra finds it in the hydra_plugins namespace."""
