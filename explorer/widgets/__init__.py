"""The plotting widgets the panels are made of. pyqtgraph's options are set here, once, before
any of them (or a panel: explorer/panels imports this package) draws."""
import pyqtgraph as pg

# Arrays are (rows, columns) everywhere: matrices and images read like their numpy shape.
pg.setConfigOptions(imageAxisOrder="row-major", antialias=False, background="w", foreground="k")


class ImageItem(pg.ImageItem):
    """pg.ImageItem drawn from a QImage in the raster engine's own format. pyqtgraph renders
    a colour-mapped array as an indexed QImage (and RGB arrays as RGB888), which Qt converts
    on every paint before scaling it to the view: 2–3 ms of a 5 ms repaint of a 65 × 65
    attention matrix at 660 px. Converted once per render instead."""

    NATIVE = (pg.QtGui.QImage.Format.Format_ARGB32_Premultiplied,
              pg.QtGui.QImage.Format.Format_RGB32)

    def render(self) -> None:
        super().render()
        image = self.qimage
        if image is not None and image.format() not in self.NATIVE:
            self.qimage = image.convertToFormat(self.NATIVE[0])
