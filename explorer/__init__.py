"""The Qt application. Imports `models`; `models` never imports this package."""
import pyqtgraph as pg

# Arrays are (rows, columns) everywhere: matrices and images read like their numpy shape.
pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, background="w", foreground="k")
