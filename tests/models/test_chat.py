"""A folder's chat template: the typed text as one user message with the generation prompt,
rendered in Jinja's sandbox; the same ids as transformers' apply_chat_template, the same
greedy continuation as its generate on them; a hostile or broken template is refused with
one line; without a template the chat turn says why."""
import json

import pytest
import torch

from models.chat import find_template, render
from models.errors import InputError
from models.session import load_folder
from tests.models.lm_folders import build

transformers = pytest.importorskip("transformers")
pytest.importorskip("jinja2")

CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
TEXT = "The capital of France is"


def with_template(folder, template, where="tokenizer_config.json"):
    from tokenizers import AddedToken, Tokenizer

    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tok.add_special_tokens([AddedToken("<|im_start|>", special=True, normalized=False),
                            AddedToken("<|im_end|>", special=True, normalized=False)])
    tok.save(str(folder / "tokenizer.json"))
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config.pop("added_tokens_decoder", None)
    if where == "tokenizer_config.json":
        config["chat_template"] = template
    else:
        (folder / "chat_template.jinja").write_text(template)
    (folder / "tokenizer_config.json").write_text(json.dumps(config))


@pytest.fixture(scope="module")
def chat_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chat") / "qwen2"
    model = build("qwen2", folder, vocab_size=302)  # room for the two template tokens
    with_template(folder, CHATML)
    return folder, model


@pytest.mark.parametrize("where", ["tokenizer_config.json", "chat_template.jinja"])
def test_a_chat_turn_gives_the_library_ids_and_continuation(chat_folder, where, tmp_path):
    folder, model = chat_folder
    if where != "tokenizer_config.json":  # the same template as a file of its own
        import shutil
        folder = shutil.copytree(folder, tmp_path / "jinja")
        config = json.loads((folder / "tokenizer_config.json").read_text())
        (folder / "chat_template.jinja").write_text(config.pop("chat_template"))
        (folder / "tokenizer_config.json").write_text(json.dumps(config))
    assert find_template(folder)[0].source == where
    library = transformers.AutoTokenizer.from_pretrained(folder)
    ids = library.apply_chat_template([{"role": "user", "content": TEXT}],
                                      add_generation_prompt=True, tokenize=True)
    ids = list(ids["input_ids"] if hasattr(ids, "keys") else ids)
    with torch.inference_mode():
        expected = model.generate(torch.tensor([ids]), max_new_tokens=6, do_sample=False,
                                  num_beams=1, eos_token_id=None,
                                  pad_token_id=0)[0, len(ids):].tolist()
    session = load_folder(folder)
    session.chat, session.generate = True, 6
    trace = session.run(TEXT)
    assert trace["input/ids"].tolist() == ids
    assert trace["prediction/ids"].tolist() == expected
    chat = trace.meta["chat"]
    assert chat["available"] and chat["used"]
    tokens = trace.meta["tokens"]
    marked = [tokens[i] for i in chat["template_tokens"]]
    assert marked[0] == "<|im_start|>" and marked[-1] == "↵"  # "assistant\n" ends it
    assert "<|im_end|>" in marked and not any("France" in t for t in marked)
    assert set(chat["template_tokens"]) >= set(trace.meta["special"])
    session.chat = False  # the toggle off: the text as typed
    plain = session.run(TEXT)
    assert plain["input/ids"].tolist() == library(TEXT)["input_ids"]
    assert plain.meta["chat"]["template_tokens"] == []


def test_without_a_template_the_turn_says_why(tmp_path):
    build("gpt2", tmp_path / "gpt2")
    session = load_folder(tmp_path / "gpt2")
    meta = session.run(TEXT).meta
    assert meta["chat"] == {"available": False, "why": "this folder has no chat template",
                            "used": False, "template_tokens": []}
    session.chat = True
    with pytest.raises(InputError, match="no chat turn: this folder has no chat template"):
        session.run(TEXT)


HOSTILE = {
    "class": "{{ messages.__class__.__mro__[1].__subclasses__() }}",
    "globals": "{{ raise_exception.__globals__ }}",
    "mutation": "{% set x = messages.append(1) %}{{ messages }}",
    "dict": "{% set x = messages[0].update({'role': 'system'}) %}x",
    "repeat": "{{ 'ab' * 100000000 }}",
    "range": "{% for i in range(10**9) %}{% endfor %}",
    "raises": "{{ raise_exception('only system and user roles') }}",
    "syntax": "{% for m in messages %}{{ m.content }}",
    "format": "{{ '{0.__class__}'.format(messages) }}",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_or_broken_template_is_one_line(name, tmp_path):
    from models.chat import ChatTemplate

    with pytest.raises(InputError) as refused:
        render(ChatTemplate(HOSTILE[name], "chat_template.jinja"), TEXT)
    message = str(refused.value)
    assert message.startswith("the chat template") and "\n" not in message


def test_in_a_session_a_refused_template_keeps_nothing_half_done(tmp_path):
    folder = tmp_path / "qwen2"
    build("qwen2", folder, vocab_size=302)
    with_template(folder, HOSTILE["class"])
    session = load_folder(folder)
    session.chat = True
    with pytest.raises(InputError, match="tried something it must not"):
        session.run(TEXT)
    session.chat = False
    assert session.run(TEXT).meta["chat"]["available"]


def test_the_command_line_takes_a_chat_turn(chat_folder, tmp_path, capsys):
    from main import main
    from models.trace import Trace

    folder, _ = chat_folder
    out = tmp_path / "chat.npz"
    assert main(["trace", "--weights", str(folder), "--input", TEXT, "--chat",
                 "--generate", "3", "-o", str(out)]) == 0
    trace = Trace.load_npz(str(out))
    assert trace.meta["chat"]["used"] and trace.meta["tokens"][0] == "<|im_start|>"
    assert len(trace["prediction/ids"]) == 3
    build("gpt2", tmp_path / "plain")
    capsys.readouterr()  # (what building the folder wrote)
    assert main(["trace", "--weights", str(tmp_path / "plain"), "--input", TEXT, "--chat",
                 "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no chat turn: this folder has no chat template" in err and err.count("\n") == 1
