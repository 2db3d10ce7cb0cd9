"""One file per panel; each takes the AppState and nothing else."""
from .. import widgets  # noqa: F401  (pyqtgraph's options, before any panel draws)
