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


def pytest_sessionfinish(session, exitstatus):
    session.config.explorer_exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """Once every report is written, leave without Python's final garbage collection: the
    whole suite ends with millions of objects alive (windows and models the tests keep),
    and the collector's last pass through PySide6's wrappers took many minutes after the
    summary. What the suite keeps alive is the thing to shrink; until then this keeps the
    run's time to its tests. EXPLORER_TEST_TEARDOWN=1 exits the ordinary way."""
    status = getattr(config, "explorer_exit_status", None)
    if status is None or os.environ.get("EXPLORER_TEST_TEARDOWN") == "1":
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
