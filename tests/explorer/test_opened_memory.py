"""Opening model folders and leaving them again keeps no built model behind: at most the one
on screen and one just opened wait built; the rest are built again from their folders."""
import gc

from explorer import soak
from models.catalog import CATALOG
from models.session import Session


def sessions_alive() -> int:
    gc.collect()
    return sum(type(o) is Session for o in gc.get_objects())


def test_folders_opened_and_left_keep_no_model_built(make_explorer, tmp_path):
    e = make_explorer("translate")
    folders = [soak.write_model_folder(tmp_path / f"vit-{i}") for i in range(4)]
    outcome: list = []
    e.window.model_opened.connect(lambda *args: outcome.append(args))
    try:
        before = sessions_alive()
        for turn in range(2):
            for folder in folders:
                # opened, then another preset chosen while its files are read (the choice
                # wins), or opened, run and left
                outcome.clear()
                e.window.open_model(folder)
                if turn == 0:
                    e.set_preset("reverse")
                e.state.settle(120.0, lambda: not outcome)
                e.wait()
                e.set_preset("vit-digits" if turn else "translate")
                e.wait()
            assert sessions_alive() <= before + 1, turn
        assert len(e.state._ready) <= 1
        name = next(n for n, p in CATALOG.items() if p.source == str(tmp_path / "vit-0"))
        e.set_preset(name)  # one left unbuilt is built again from its folder
        e.wait()
        assert e.trace.meta["preset"] == name
    finally:
        soak.forget_opened(str(tmp_path))
