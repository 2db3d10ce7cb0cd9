"""Every error whose message is meant for the user, in one module: a template and values.

`InputError("the input has {n} tokens; this model takes at most {limit}", n=60, limit=47)`
reads as the English sentence (`str(error)`), and keeps `.template` and `.params` so that the
window can show the same sentence in another language: it translates the template and
formats it with the same values. A message without values is its own template.
"""
from __future__ import annotations


class UserMessageError(ValueError):
    def __init__(self, template: str, /, **params) -> None:
        self.template, self.params = template, params
        super().__init__(template.format(**params) if params else template)

    def __reduce__(self):  # pickled (a worker process) with its template and values
        return _rebuild, (type(self), self.template, self.params)


def _rebuild(cls, template: str, params: dict):
    return cls(template, **params)


class UsageError(UserMessageError):
    """A request the command line cannot carry out as given (options that do not go
    together, an unknown name): printed as one line, exit code 2."""


class InputError(UserMessageError):
    """Input the model cannot take (empty, too long, unknown words, an odd image)."""


class CheckpointError(UserMessageError):
    """A weights file or model folder that cannot be used, and why."""


class SessionError(InputError):
    """A session file that cannot be opened (explorer/session.py), and why."""


class TourError(InputError):
    """A tour file that cannot be used (explorer/tour.py), and why."""


def message(template: str, /, **params) -> str:
    """A sentence for the user that is not an error (a notice, a reason kept in a trace's
    meta): the English text, made from a template as an error's is. The window says it in
    another language by finding the template again (explorer.i18n.translate_message); the
    tests check that every template given here has its translation."""
    return template.format(**params) if params else template
