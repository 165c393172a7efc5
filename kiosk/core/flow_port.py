"""What a flow (the e-book screens, circulation) is given by the session, and what it gives back.

A flow is an object that keeps its own state. The session hands it a `SessionPort`: the
settings, the one shared `View` (which the flow may replace), and the few session moves a flow
may make (open the session, close it, put a notice up). The flow gives back `handlers()`: the
event types it handles, each with its handler; the session puts every flow's into one table, so
that each event type has exactly one handler (tests/test_core_session.py checks that every
event the core can receive has one). Pure, like the whole core: no I/O, no threads.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Protocol

from kiosk.core.session_view import Settings, View

Effects = list[object]
# (event, now, effects): the handler appends what the outside must do to `effects`.
Handler = Callable[[Any, float, Effects], None]
Handlers = Mapping[type, Handler]


class SessionPort(Protocol):
    """The session as a flow sees it."""

    @property
    def settings(self) -> Settings: ...

    @property
    def view(self) -> View: ...

    @view.setter
    def view(self, view: View) -> None: ...

    def open_session(self, now: float) -> None:
        """A patron's session begins (from the attract screen) on the home screen."""

    def close(self, now: float, outcome: str, effects: Effects) -> None:
        """Back to the attract screen, forgetting everything about the patron."""

    def acknowledge(self, now: float, message: str, args: Mapping[str, str]) -> None:
        """A short notice on the patron's screen (opening a session from the attract screen)."""


class Flow:
    """A flow's base: the session port, and the shared view read and replaced through it."""

    def __init__(self, session: SessionPort) -> None:
        self._session = session

    @property
    def view(self) -> View:
        return self._session.view

    @view.setter
    def view(self, view: View) -> None:
        self._session.view = view

    @property
    def settings(self) -> Settings:
        return self._session.settings

    def handlers(self) -> Handlers:
        """The event types this flow handles, each with its handler."""
        raise NotImplementedError


def handler_table(*parts: Handlers) -> dict[type, Handler]:
    """One table from the session's and the flows' handlers; an event type twice is a bug."""
    table: dict[type, Handler] = {}
    for part in parts:
        twice = table.keys() & part.keys()
        if twice:
            raise ValueError(f"events handled twice: {sorted(t.__name__ for t in twice)}")
        table.update(part)
    return table
