import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def weights_file(monkeypatch, tmp_path):
    """`replace(name, content)`: preset `name` reads its shipped weights from a file holding
    `content` instead (None: no file at all); the other presets keep theirs. The path."""
    import models.presets as presets

    shipped = presets.Preset.weights

    def replace(name: str, content: bytes | None) -> Path:
        path = tmp_path / "weights" / f"{name}.safetensors"
        path.parent.mkdir(exist_ok=True)
        if content is not None:
            path.write_bytes(content)
        monkeypatch.setattr(presets.Preset, "weights", property(
            lambda preset: path if preset.name == name else shipped.fget(preset)))
        return path

    return replace


@pytest.fixture(autouse=True, scope="module")
def _forget_opened_models():
    """The models a test module opened leave the catalog with it (with what they hold)."""
    from models.catalog import CATALOG

    before = set(CATALOG)
    yield
    for name in set(CATALOG) - before:
        CATALOG.remove(name)


@pytest.fixture(autouse=True, scope="module")
def _release_module_widgets():
    """The windows, menus and dialogs a test module made and left (commands run in-process
    by `main(argv)`, windows closed but not deleted) are deleted when the module ends, after
    its own module fixtures: one module's 6,000 top-level widgets held the panels, states
    and traces their signals reach for the rest of a worker's run."""
    from explorer.qapp import release_widgets, top_level_widgets

    before = top_level_widgets()
    yield
    if top_level_widgets() - before:
        release_widgets(before)


def _status_kb(field: str) -> int:
    """A `VmRSS`/`VmHWM`-style field of /proc/self/status in kB (0 where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _windows() -> int:
    """How many top-level Qt widgets are alive (0 before Qt is imported)."""
    widgets = sys.modules.get("PySide6.QtWidgets")
    app = widgets.QApplication.instance() if widgets is not None else None
    return len(app.topLevelWidgets()) if app is not None else 0


_MEMLOG = os.environ.get("EXPLORER_TEST_MEMLOG")  # a file: one line per test file


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    yield
    if _MEMLOG and (nextitem is None or nextitem.path != item.path):
        import gc
        import time
        gc.collect()
        with open(_MEMLOG, "a") as log:
            log.write(f"{time.time():.0f} {os.environ.get('PYTEST_XDIST_WORKER', 'main')} "
                      f"{item.path.relative_to(ROOT)} "
                      f"rss={_status_kb('VmRSS') // 1024}MB hwm={_status_kb('VmHWM') // 1024}MB "
                      f"objects={len(gc.get_objects())} windows={_windows()}\n")


def _is_worker(config) -> bool:
    """Whether this process is a pytest-xdist worker (`-n 2`: two of them run the tests)."""
    return hasattr(config, "workerinput")


def pytest_configure(config):
    """An xdist worker computes on one intra-op thread: two workers with two OpenMP threads
    each on a 2-core machine wait on each other's spinning threads (a vit-digits forward
    ran 17× slower so under load; the app's own worker thread sets its count per model)."""
    if _is_worker(config):
        import torch

        torch.set_num_threads(1)


def _is_controller(config) -> bool:
    """Whether this process hands the tests out to xdist workers and runs none itself."""
    return config.pluginmanager.has_plugin("dsession")


_WORKER_PEAKS: dict[str, int] = {}  # the controller's: each worker's VmHWM in kB


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist's, absent without it
def pytest_testnodedown(node, error):
    """(the controller) A worker finished: keep its peak memory for the summary."""
    peak = getattr(node, "workeroutput", {}).get("explorer_vmhwm_kb")
    if peak:
        _WORKER_PEAKS[node.gateway.id] = peak


def pytest_terminal_summary(terminalreporter):
    """The peak memory of each process that ran tests (VmHWM, read at its session's end):
    the one test process, or each xdist worker (and the controller, which runs none)."""
    own = _status_kb("VmHWM") / 1024
    if _WORKER_PEAKS or _is_controller(terminalreporter.config):
        workers = ", ".join(f"{name} {kb / 1024:.0f} MB"
                            for name, kb in sorted(_WORKER_PEAKS.items()))
        line = (f"peak memory of the test workers (VmHWM): {workers or 'none reported'}; "
                f"the controller {own:.0f} MB")
    else:
        line = f"peak memory of the test process (VmHWM): {own:.0f} MB"
    terminalreporter.write_line(line)


def pytest_sessionfinish(session, exitstatus):
    session.config.explorer_exit_status = int(exitstatus)
    if _is_worker(session.config):  # travels to the controller with xdist's "workerfinished"
        session.config.workeroutput["explorer_vmhwm_kb"] = _status_kb("VmHWM")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Once every report is written, leave without Python's final garbage collection: the
    whole suite ended with millions of objects alive (windows and models the tests kept),
    and the collector's last pass through PySide6's wrappers took many minutes after the
    summary. make_explorer now releases each test's windows; until a whole run shows the
    last collection is quick, this keeps the run's time to its tests.

    Under xdist (`-n 2`) each worker leaves so once it has sent its results (xdist's
    "workerfinished", in its pytest_sessionfinish, before this): the controller has stopped
    listening for more by then, and takes the run's status from the reports, not from the
    worker's exit code. The controller ran no test and loaded no model; it exits the
    ordinary way, with the status pytest computed from every worker's reports.
    EXPLORER_TEST_TEARDOWN=1 exits the ordinary way everywhere."""
    status = getattr(config, "explorer_exit_status", None)
    if (status is None or _is_controller(config)
            or os.environ.get("EXPLORER_TEST_TEARDOWN") == "1"):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
