"""The session file as a declared schema (issue 27): every field's wrong type or
out-of-bounds value is refused with its own message — today's, word for word — checked in
one pass, in the table's order, a model folder the file names opened only once nothing else
in it can refuse it."""
import base64
import io
import json

import pytest
from PIL import Image

from explorer.export import PANEL_NAMES
from explorer.session import SessionError, read
from explorer.session_schema import SCHEMA
from models.errors import CheckpointError, InputError, UserMessageError
from models.presets import PRESETS

CROSS = "decoder.layers.1.cross_attn"
DROP = object()  # the key taken out


def png(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


SEVEN = png(Image.new("L", (28, 28)))
BIG = png(Image.new("1", (9000, 9000)))  # 81 Mpx, a few kB


def session() -> dict:
    return {"app": "transformer-explorer", "version": 1, "preset": "translate",
            "device": "cpu", "input": {"text": "the cat sleeps"},
            "selection": {"site": CROSS, "head": 0, "window": 0, "query": 1, "key": None,
                          "locked": True},
            "panel": "prediction", "interventions": {}, "zoom": 1.0, "generate": 0,
            "tour": None}


# (the field whose rule refuses it, {dotted key: value or DROP}, the message; {f}: the file)
# in the table's order
CASES = [
    ("", {"": []}, "{f} is not a Transformer Explorer session"),
    ("", {"": "transformer-explorer"}, "{f} is not a Transformer Explorer session"),
    ('app', {'app': DROP},
     '{f} is not a Transformer Explorer session'),
    ('app', {'app': 'other'},
     '{f} is not a Transformer Explorer session'),
    ('version', {'version': DROP},
     '{f} has no valid version number'),
    ('version', {'version': '1'},
     '{f} has no valid version number'),
    ('version', {'version': 0},
     '{f} has no valid version number'),
    ('version', {'version': 2},
     '{f} was saved by a newer Transformer Explorer (session version 2; this one reads up to 1)'),
    ('model', {'model': 5},
     "{f}: 'model' must name a folder (source) and, for a timm file, its variant (arch)"),
    ('model.source', {'model': {'arch': None}},
     "{f}: 'model' must name a folder (source) and, for a timm file, its variant (arch)"),
    ('model.source', {'model': {'source': 5}},
     "{f}: 'model' must name a folder (source) and, for a timm file, its variant (arch)"),
    ('model.arch', {'model': {'source': 'x', 'arch': 5}},
     "{f}: 'model' must name a folder (source) and, for a timm file, its variant (arch)"),
    ('preset', {'preset': 5},
     "{f}: 'preset' must be a preset's name"),
    ('preset', {'preset': DROP},
     "{f}: 'preset' must be a preset's name"),
    ('preset', {'preset': None},
     "{f}: 'preset' must be a preset's name"),
    ('device', {'device': 'quantum'},
     "{f}: 'device' must be one of cpu, cuda, mps, auto"),
    ('device', {'device': None},
     "{f}: 'device' must be one of cpu, cuda, mps, auto"),
    ('input', {'input': 'the cat'},
     "{f}: 'input' must hold a text or an embedded image"),
    ('input', {'input': {}},
     "{f}: 'input' must hold a text or an embedded image"),
    ('input', {'input': {'text': 5}},
     "{f}: 'input' must hold a text or an embedded image"),
    ('input.image_png', {'input': {'image_png': '!!!'}},
     '{f}: its image does not decode (Only base64 data is allowed)'),
    ('input.image_png', {'input': {'image_png': BIG}},
     '{f}: its image is too large: 9000×9000 is over 25,000,000 pixels'),
    ('compare', {'compare': 'yes'}, "{f}: 'compare' must be an object"),
    ('compare.input', {'compare': {'view': 'A'}},
     "{f}: 'compare' must hold input B: a text or an embedded image"),
    ('compare.input.image_png', {'compare': {'input': {'image_png': '!!!'}}},
     '{f}: its image does not decode (Only base64 data is allowed)'),
    ('compare.view', {'compare': {'input': {'text': 'the cat'}, 'view': 'A+B'}},
     '{f}: compare view must be one of A, B, A-B'),
    ('selection', {'selection': 'x'},
     "{f}: 'selection' must be an object"),
    ('selection', {'selection': 5},
     "{f}: 'selection' must be an object"),
    ('selection.site', {'selection.site': 5},
     "{f}: selection 'site' must be a site's name"),
    ('selection.head', {'selection.head': -1},
     "{f}: selection 'head' must be a whole number ≥ 0, not -1"),
    ('selection.head', {'selection.head': '0'},
     '{f}: selection \'head\' must be a whole number ≥ 0, not "0"'),
    ('selection.head', {'selection.head': True},
     "{f}: selection 'head' must be a whole number ≥ 0, not true"),
    ('selection.window', {'selection.window': 1.5},
     "{f}: selection 'window' must be a whole number ≥ 0, not 1.5"),
    ('selection.query', {'selection.query': -3},
     "{f}: selection 'query' must be a whole number ≥ 0, not -3"),
    ('selection.key', {'selection.key': [1]},
     "{f}: selection 'key' must be a whole number ≥ 0, not [1]"),
    ('selection.locked', {'selection.locked': 'yes'},
     "{f}: selection 'locked' must be true or false"),
    ('selection.locked', {'selection.locked': None},
     "{f}: selection 'locked' must be true or false"),
    ('panel', {'panel': 'nope'},
     "{f} names an unknown panel 'nope'"),
    ('panel', {'panel': 5},
     "{f} names an unknown panel '5'"),
    ('zoom', {'zoom': 0.4},
     '{f}: zoom must be a number from 0.5 to 3'),
    ('zoom', {'zoom': 3.1},
     '{f}: zoom must be a number from 0.5 to 3'),
    ('zoom', {'zoom': '1'},
     '{f}: zoom must be a number from 0.5 to 3'),
    ('zoom', {'zoom': True},
     '{f}: zoom must be a number from 0.5 to 3'),
    ('zoom', {'zoom': None},
     '{f}: zoom must be a number from 0.5 to 3'),
    ('generate', {'generate': 201},
     "{f}: 'generate' must be a whole number of tokens from 0 to 200, not 201"),
    ('generate', {'generate': -1},
     "{f}: 'generate' must be a whole number of tokens from 0 to 200, not -1"),
    ('generate', {'generate': '8'},
     '{f}: \'generate\' must be a whole number of tokens from 0 to 200, not "8"'),
    ('generate', {'generate': True},
     "{f}: 'generate' must be a whole number of tokens from 0 to 200, not true"),
    ('generate', {'generate': None},
     "{f}: 'generate' must be a whole number of tokens from 0 to 200, not null"),
    ('chat', {'chat': 'yes'},
     '{f}: \'chat\' must be true or false, not "yes"'),
    ('chat', {'chat': 1},
     "{f}: 'chat' must be true or false, not 1"),
    ('chat', {'chat': None},
     "{f}: 'chat' must be true or false, not null"),
    ('dtype', {'dtype': 'int8'},
     '{f}: \'dtype\' must be one of float32, bfloat16, float16, not "int8"'),
    ('dtype', {'dtype': None},
     "{f}: 'dtype' must be one of float32, bfloat16, float16, not null"),
    ('dtype', {'dtype': ['bfloat16']},
     '{f}: \'dtype\' must be one of float32, bfloat16, float16, not ["bfloat16"]'),
    ('interventions', {'interventions': 'x'},
     '{f}: unknown interventions'),
    ('interventions', {'interventions': {'foo': True}},
     '{f}: unknown interventions'),
    ('interventions.no_mask', {'interventions': {'no_mask': 'yes'}},
     '{f}: interventions no_mask, no_bias, no_position, bottleneck are true or false'),
    ('interventions.no_bias', {'interventions': {'no_bias': 1}},
     '{f}: interventions no_mask, no_bias, no_position, bottleneck are true or false'),
    ('interventions.no_position', {'interventions': {'no_position': None}},
     '{f}: interventions no_mask, no_bias, no_position, bottleneck are true or false'),
    ('interventions.bottleneck', {'interventions': {'bottleneck': 'true'}},
     '{f}: interventions no_mask, no_bias, no_position, bottleneck are true or false'),
    ('interventions.heads_off', {'interventions': {'heads_off': 'abc'}},
     '{f}: heads_off must be a list of [site, head] pairs'),
    ('interventions.heads_off', {'interventions': {'heads_off': [[CROSS, 'x']]}},
     '{f}: heads_off must be a list of [site, head] pairs'),
    ('interventions.heads_off', {'interventions': {'heads_off': [[CROSS]]}},
     '{f}: heads_off must be a list of [site, head] pairs'),
    ('interventions.heads_off', {'interventions': {'heads_off': [[CROSS, -1]]}},
     '{f}: heads_off must be a list of [site, head] pairs'),
    ('interventions.heads_off', {'interventions': {'heads_off': [[1, 0]]}},
     '{f}: heads_off must be a list of [site, head] pairs'),
    ('interventions.heads_mean', {'interventions': {'heads_mean': [[CROSS, 'x']]}},
     '{f}: heads_mean must be a list of [site, head] pairs'),
    ('interventions.mlps_off', {'interventions': {'mlps_off': 'decoder.layers.0.ff'}},
     '{f}: mlps_off must be a list of MLP names'),
    ('interventions.mlps_off', {'interventions': {'mlps_off': [3]}},
     '{f}: mlps_off must be a list of MLP names'),
    ('tour', {'tour': 5},
     "{f}: 'tour' must name a step"),
    ('tour', {'tour': [1]},
     "{f}: 'tour' must name a step"),
    ('tour.step', {'tour': {'step': '0'}},
     '{f}: the tour\'s step must be a whole number ≥ 0, not "0"'),
    ('tour.step', {'tour': {}},
     "{f}: the tour's step must be a whole number ≥ 0, not null"),
    ('tour.lang', {'tour': {'lang': 'xx', 'step': 0}},
     "{f}: the tour's language must be one of en, zh, not 'xx'"),
    ('tour.lang', {'tour': {'lang': 5, 'step': 0}},
     "{f}: the tour's language must be one of en, zh, not '5'"),
    ('tour.lang', {'tour': {'lang': '../../../etc/passwd', 'step': 0}},
     "{f}: the tour's language must be one of en, zh, not '../../../etc/passwd'"),
    ('tour.step', {'tour': {'lang': 'en', 'step': 999}},
     '{f}: the tour has 34 steps, not 1000'),
    ('corpus', {'corpus': 'runs/x'},
     "{f}: 'corpus' must name a corpus result's folder"),
    ('corpus.folder', {'corpus': {'head': 1}},
     "{f}: 'corpus' must name a corpus result's folder"),
    ('corpus.folder', {'corpus': {'folder': 5}},
     "{f}: 'corpus' must name a corpus result's folder"),
    ('corpus.site', {'corpus': {'folder': 'runs/x', 'site': 3}},
     "{f}: corpus 'site' must be a site's name"),
    ('corpus.head', {'corpus': {'folder': 'runs/x', 'head': -1}},
     "{f}: corpus 'head' must be a whole number ≥ 0, not -1"),
    ('corpus.head', {'corpus': {'folder': 'runs/x', 'head': 1.5}},
     "{f}: corpus 'head' must be a whole number ≥ 0, not 1.5"),
    ('corpus.statistic', {'corpus': {'folder': 'runs/x', 'statistic': ['entropy']}},
     "{f}: corpus 'statistic' must be a statistic's name"),
    ('model.source', {'preset': 'gone', 'model': {'source': '/no/such/folder'}},
     '{f}: its model /no/such/folder cannot be opened (/no/such/folder is not a model folder)'),
    ('preset', {'preset': 'gone'},
     "{f} names an unknown preset 'gone' (known: " + ", ".join(PRESETS) + ")"),
    ('input.text', {'input': {'image_png': SEVEN}},
     '{f}: the translate preset needs a text input'),
    ('input.text', {'input': {'text': '  \n'}},
     '{f}: its text is empty'),
    ('input.image_png', {'preset': 'vit-digits', 'selection': {}},
     '{f}: the vit-digits preset needs an embedded image'),
    ('compare.input.text', {'compare': {'input': {'image_png': SEVEN}}},
     '{f}: the translate preset needs a text input B'),
    ('compare.input.image_png', {'preset': 'vit-digits', 'input': {'image_png': SEVEN},
                                 'selection': {}, 'compare': {'input': {'text': 'seven'}}},
     '{f}: the vit-digits preset needs an embedded image B'),
    ('selection.site', {'selection.site': 'decoder.layers.9.cross_attn'},
     "{f} names an attention site 'decoder.layers.9.cross_attn' that translate does not have"),
    ('interventions.heads_off', {'interventions': {'heads_off': [[CROSS, 9]]}},
     "{f}: heads_off names head 9 of 'decoder.layers.1.cross_attn', which translate does not have"),
    ('interventions.heads_off', {'interventions': {'heads_off': [['nope', 0]]}},
     "{f}: heads_off names head 0 of 'nope', which translate does not have"),
    ('interventions.heads_mean', {'interventions': {'heads_mean': [[CROSS, 4]]}},
     "{f}: heads_mean names head 4 of 'decoder.layers.1.cross_attn', which translate does "
     "not have"),
    ('interventions.mlps_off', {'interventions': {'mlps_off': ['decoder.layers.1.cross_attn']}},
     "{f}: mlps_off names an MLP 'decoder.layers.1.cross_attn' that translate does not have"),
]


def edited(changes: dict):
    data = session()
    for key, value in changes.items():
        if key == "":
            return value
        *parents, last = key.split(".")
        holder = data
        for parent in parents:
            holder = holder[parent]
        if value is DROP:
            del holder[last]
        else:
            holder[last] = value
    return data


class Opener:
    """A model folder that cannot be opened; remembers being asked."""

    def __init__(self) -> None:
        self.calls = []

    def __call__(self, source, arch):
        self.calls.append(source)
        raise CheckpointError("{source} is not a model folder", source=source)


def refusal(tmp_path, data, opener=None) -> str:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SessionError) as error:
        read(path, PANEL_NAMES, opener=opener or Opener())
    return str(error.value)


@pytest.mark.parametrize("field, changes, message", CASES,
                         ids=[f"{i}-{case[0] or 'file'}" for i, case in enumerate(CASES)])
def test_each_wrong_value_gets_its_message(tmp_path, field, changes, message):
    assert refusal(tmp_path, edited(changes)) == message.format(f="s.json")


def test_every_field_of_the_schema_has_a_case():
    assert {field.name for field in SCHEMA} == {case[0] for case in CASES}


def test_the_errors_are_user_messages_in_one_module():
    assert issubclass(SessionError, InputError) and issubclass(SessionError, UserMessageError)
    from explorer.tour import TourError
    from models import errors

    assert SessionError is errors.SessionError and TourError is errors.TourError
    assert issubclass(TourError, InputError)


def test_a_good_file_is_read_with_its_value_and_the_tour_language_it_defaults_to(tmp_path):
    data = session()
    data["tour"] = {"step": 3}
    path = tmp_path / "good.json"
    path.write_text(json.dumps(data))
    opener = Opener()
    got = read(path, PANEL_NAMES, opener=opener)
    assert got["value"] == "the cat sleeps" and got["tour"] == {"step": 3, "lang": "en"}
    assert opener.calls == []  # a preset it knows: nothing opened
    data.update(preset="vit-digits", input={"image_png": SEVEN}, selection=None)
    path.write_text(json.dumps(data))
    image = read(path, PANEL_NAMES, opener=opener)["value"]
    assert image.shape == (28, 28) and not image.any()


# the cases refused before the model is needed (the rest are checked against it)
MODEL_FREE = CASES[:next(i for i, case in enumerate(CASES) if "cannot be opened" in case[2])]


def top(changes: dict) -> set:
    return {key.split(".")[0] for key in changes}


def test_one_pass_in_the_tables_order_and_the_model_opened_last(tmp_path):
    """Two faults in different fields: the message of the one whose row comes first; a
    model folder the file names is never opened while any other field is wrong."""
    pairs = 0
    for i, (_, first, message) in enumerate(MODEL_FREE):
        if "" in first:
            continue
        for _, later, _ in CASES[i + 1:]:
            if top(first) & top(later) or "" in later:
                continue
            opener = Opener()
            data = edited({**later, **first})
            for key, value in (("model", {"source": "/no/such/folder"}), ("preset", "gone")):
                if key not in top(first) | top(later):  # a folder to open, if it were asked
                    data[key] = value
            assert refusal(tmp_path, data, opener) == message.format(f="s.json")
            assert opener.calls == []
            pairs += 1
    assert pairs > 1000
