"""AppState: values enter through one checked door."""
import pytest

from models.errors import InputError
from models.runs.lm import MAX_GENERATE, check_generate


def test_a_continuation_count_outside_its_bounds_is_refused_and_changes_nothing(make_explorer):
    explorer = make_explorer("induction")
    state = explorer.state
    state.set_generate(3)
    for wrong in (MAX_GENERATE + 1, 250, -1, 2.5, "7"):
        with pytest.raises(InputError, match=f"choose 0 to {MAX_GENERATE}"):
            state.set_generate(wrong)
        assert state.generate == 3
    state.set_generate(MAX_GENERATE)
    assert state.generate == MAX_GENERATE
    state.set_generate(0)
    assert state.generate == 0


def test_the_bound_is_the_one_the_runs_use():
    assert check_generate(0) == 0 and check_generate(MAX_GENERATE) == MAX_GENERATE
    with pytest.raises(InputError):
        check_generate(MAX_GENERATE + 1)
