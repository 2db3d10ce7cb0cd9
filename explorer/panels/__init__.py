"""One file per panel (the Prediction panel's pages and its interventions box have their own);
each takes the AppState and nothing else."""
