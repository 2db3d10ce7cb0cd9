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


def user_settings() -> QtCore.QSettings:
    """The user's settings (QSettings' place for this organisation and application); no
    QApplication needed, so the command line reads them before any window."""
    QtCore.QCoreApplication.setOrganizationName("TransformerExplorer")
    QtCore.QCoreApplication.setApplicationName("Transformer Explorer")
    return QtCore.QSettings()


def application() -> QtWidgets.QApplication:
    app = QtWidgets.QApplication.instance()
    if app is None:
        return_large_blocks()  # a long input's freed trace goes back to the system
        QtCore.qInstallMessageHandler(_quiet_qt_messages)
        user_settings()  # (names the organisation and application)
        app = QtWidgets.QApplication(sys.argv[:1])
    return app


def _address(widget) -> int:
    import shiboken6

    return shiboken6.getCppPointer(widget)[0]


def top_level_widgets() -> set[int]:
    """The addresses of the top-level widgets alive now (none before a QApplication)."""
    app = QtWidgets.QApplication.instance()
    return {_address(w) for w in app.topLevelWidgets()} if app is not None else set()


def release_widgets(before: set[int], roots: list = ()) -> None:
    """Delete `roots` (QObjects: closed windows, their states) and the top-level widgets made
    since `before` (`top_level_widgets()`), and let Python free what they held.

    A window's deletion takes its children with it, but not the widgets that were never
    given a parent (pyqtgraph's plot menus, a panel's cells not laid out now): their signals
    hold lambdas that hold the panels, which hold the state with its models and traces — a
    cycle through C++ that Python's collector cannot see, about 10 MB a window. The Python
    attributes of everything deleted are then dropped (of no use once the C++ object is
    gone), and the interface words bound to deleted widgets are forgotten. No full
    collection: it took seconds with the models loaded, and what is left is freed by
    reference counting. Bare QWidgets are left alone:
    pyqtgraph's are a QWidgetAction's, deleted with its menu."""
    import shiboken6

    from .i18n import forget_deleted

    app = QtWidgets.QApplication.instance()
    if app is None:
        return
    doomed = [root for root in roots if shiboken6.isValid(root)]
    doomed += [widget for widget in app.topLevelWidgets()
               if _address(widget) not in before and (type(widget) is not QtWidgets.QWidget
                                                      or widget.children())]
    for obj in doomed[:]:
        doomed += obj.findChildren(QtCore.QObject)
        obj.deleteLater()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.DeferredDelete)
    for obj in doomed:
        if shiboken6.isValid(obj):
            continue
        getattr(obj, "__dict__", {}).clear()
    forget_deleted()  # the interface words bound to deleted widgets
