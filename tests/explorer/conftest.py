import pytest


@pytest.fixture
def make_window(make_explorer):
    """The main window of a `make_explorer` Explorer (its `explorer`), for tests that work
    with the window's widgets: built on a throw-away settings file, closed on teardown,
    failing on leaked worker threads — all by make_explorer."""

    def make(preset="translate", initial_input=None, wait=True):
        return make_explorer(preset, size=(1300, 820), wait=wait,
                             initial_input=initial_input).window

    return make
