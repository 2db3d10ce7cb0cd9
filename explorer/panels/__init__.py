"""One file per panel; each takes the AppState and nothing else."""
