"""Hydra launcher plugin `hydra/launcher=slurm` (see slurm_launcher.py); Hydra finds it in the hydra_plugins namespace."""
