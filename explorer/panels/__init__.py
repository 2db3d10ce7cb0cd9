"""One file per panel (the Prediction panel's pages and its interventions box have their own);
each takes the AppState and nothing else."""
from .. import widgets  # noqa: F401  (pyqtgraph's options, before any panel draws)
