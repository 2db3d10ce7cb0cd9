"""The QApplication, made once: the organisation and application names (where QSettings
keeps the user's settings) and a filter for the offscreen platform's noise."""
from __future__ import annotations

import sys

from PySide6 import QtCore, QtWidgets

from models.memory import return_large_blocks


def _quiet_qt_messages(kind, context, text: str) -> None:
    # The offscreen plugin warns on every dock layout; everything else is passed on.
    if "propagateSizeHints" not in text:
        print(text, file=sys.stderr)


def application() -> QtWidgets.QApplication:
    app = QtWidgets.QApplication.instance()
    if app is None:
        return_large_blocks()  # a long input's freed trace goes back to the system
        QtCore.qInstallMessageHandler(_quiet_qt_messages)
        QtCore.QCoreApplication.setOrganizationName("TransformerExplorer")
        QtCore.QCoreApplication.setApplicationName("Transformer Explorer")
        app = QtWidgets.QApplication(sys.argv[:1])
    return app
