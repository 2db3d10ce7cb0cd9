"""The plotting widgets the panels are made of. pyqtgraph's options are set here, once, before
any of them (or a panel: explorer/panels imports this package) draws."""
import pyqtgraph as pg

# Arrays are (rows, columns) everywhere: matrices and images read like their numpy shape.
pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, background="w", foreground="k")
