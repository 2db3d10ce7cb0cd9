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
            log.write(f"{time.time():.0f} {item.path.relative_to(ROOT)} "
                      f"rss={_status_kb('VmRSS') // 1024}MB hwm={_status_kb('VmHWM') // 1024}MB "
                      f"objects={len(gc.get_objects())} windows={_windows()}\n")


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(
        f"peak memory of the test process (VmHWM): {_status_kb('VmHWM') / 1024:.0f} MB")


def pytest_sessionfinish(session, exitstatus):
    session.config.explorer_exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Once every report is written, leave without Python's final garbage collection: the
    whole suite ended with millions of objects alive (windows and models the tests kept),
    and the collector's last pass through PySide6's wrappers took many minutes after the
    summary. make_explorer now releases each test's windows; until a whole run shows the
    last collection is quick, this keeps the run's time to its tests.
    EXPLORER_TEST_TEARDOWN=1 exits the ordinary way."""
    status = getattr(config, "explorer_exit_status", None)
    if status is None or os.environ.get("EXPLORER_TEST_TEARDOWN") == "1":
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
