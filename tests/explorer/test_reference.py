"""The grammar's own translation beside the model's (issue 10): why a sentence is outside
what the model learned, and where the model differs from the rule-based reference."""
import re
from html import unescape

from models.tasks.translation import reference_translation


def typed(window, qtbot, text):
    line = window.text_input.line
    line.clear()
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        qtbot.keyClicks(line, text)
    return window.panels["prediction"].reference


def plain(label) -> str:
    return unescape(re.sub(r"<[^>]+>", "", label.text()))


def test_typing_outside_the_grammar_shows_the_reason_next_to_the_output(make_window, qtbot):
    window = make_window("translate")
    for text, reason in (("the king and the queen sleeps",
                          "'sleeps' does not agree with its plural subject"),
                         ("the purple cat sleeps", "unknown word: 'purple'"),
                         ("a old tree falls", "write 'an' before 'old'")):
        label = typed(window, qtbot, text)
        meta = window.state.trace.meta
        assert meta["input"] == text and meta["reference"] is None
        assert meta["outside"] == reference_translation(text.split()).outside
        assert label.isVisible() and reason in plain(label)
        assert "Outside what the model learned" in plain(label)


def test_inside_the_grammar_the_model_agrees_and_says_so(make_window, qtbot):
    window = make_window("translate")
    label = typed(window, qtbot, "the cats and the old dog do not see the red apples")
    meta = window.state.trace.meta
    assert meta["outside"] is None
    assert meta["reference"] == "les chats et le chien vieux les pommes rouges ne voient pas"
    assert meta["prediction"] == meta["reference"] and meta["matches_reference"]
    assert label.isVisible() and "same as the grammar" in plain(label)


def test_a_disagreement_is_shown_with_the_differing_words_marked(make_window, qtbot):
    """The bottleneck makes the model fail on a long sentence: the panel shows the grammar's
    translation under the model's, with the words that differ in red on both lines."""
    window = make_window("translate")
    sentence = ("the small cat in front of the old house does not see the dog and the "
                "happy girls sing quietly")
    typed(window, qtbot, sentence)
    with qtbot.waitSignal(window.state.trace_changed, timeout=30_000):
        window.state.set_interventions({"bottleneck": True})
    meta = window.state.trace.meta
    model, grammar = meta["prediction"].split(), meta["reference_tokens"]
    assert meta["outside"] is None and not meta["matches_reference"] and model != grammar
    html = window.panels["prediction"].reference.text()
    red = re.findall(r"<b style='color:#c00000'>([^<]+)</b>", html)
    assert red and all(word in model + grammar for word in red)
    text = plain(window.panels["prediction"].reference)
    assert "model:" in text and "grammar:" in text and " ".join(grammar) in text
    # a word the model left out is marked on the grammar's line
    missing = [w for w in grammar if w not in model]
    assert not missing or any(w in red for w in missing)
