"""What to sound when the core's view changes: `cue_for(before, after)` -> a tone and a prompt.

The player calls it with each new `View` the runtime publishes (the screens' own input), so no
screen calls sound and the core knows nothing of it. One table per kind of change, each keyed by
the core's own enums, so a test can list what has no cue. Steps are spoken always (identify,
place the books, the receipt's count, a refusal, the countdown, goodbye); the screens' other
introductions only in the accessibility mode. Staff screens are silent. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.core.circulation_view import Line
from kiosk.core.events import Screen
from kiosk.core.outcomes import IdentifyMessage, LineStatus, Step
from kiosk.core.session_view import View
from kiosk.sound.prompts import counted_id
from kiosk.sound.tones import Tone


@dataclass(frozen=True)
class Cue:
    tone: Tone | None = None
    prompt: str | None = None  # a prompt id (kiosk.sound.prompts)
    language: str = "zh_CN"


@dataclass(frozen=True)
class Said:
    """A screen's prompt; `always`: a step every patron hears, else only in the accessibility
    mode."""
    prompt: str
    always: bool = False


# Each screen's prompt on entry; None: nothing (the receipt's words are counted, below).
SCREENS: dict[Screen, Said | None] = {
    Screen.ATTRACT: Said("welcome"),
    Screen.HOME: Said("choose_service"),
    Screen.IDENTIFY: None,  # by step: STEPS
    Screen.BORROW: Said("place_books", always=True),
    Screen.RETURN: Said("place_returns", always=True),
    Screen.ACCOUNT: Said("account"),
    Screen.RECEIPT: None,  # counted: RECEIPTS
    Screen.EBOOKS: Said("ebooks"),
    Screen.EBOOK_SEARCH: Said("ebook_search"),
    Screen.EBOOK_TITLE: Said("ebook_title"),
    Screen.ADMIN_PIN: None,  # staff
    Screen.ADMIN: None,  # staff
    Screen.OUT_OF_SERVICE: Said("out_of_service", always=True),
    Screen.BLOCKED: Said("blocked", always=True),
    Screen.GOODBYE: None,  # said as the session ends: _session_end
}
STEPS: dict[Step, str | None] = {Step.CARD: "scan_card", Step.PIN: "enter_pin",
                                 Step.CHECKING: None}
IDENTIFY_MESSAGES: dict[IdentifyMessage, str] = {
    IdentifyMessage.NOT_SET_UP: "not_set_up",
    IdentifyMessage.UNAVAILABLE: "ils_unavailable",
    IdentifyMessage.ILS_ERROR: "ils_unavailable",
    IdentifyMessage.UNKNOWN_CARD: "unknown_card",
    IdentifyMessage.WRONG_PIN: "wrong_pin",
    IdentifyMessage.PIN_LOCKED: "pin_locked",
    IdentifyMessage.CARD_LENGTH: "card_number_wrong",
    IdentifyMessage.CARD_INVALID: "card_number_wrong",
}
# A book's line reaching a state: its tone, and what is said (the count comes at the receipt).
LINES: dict[LineStatus, Cue | None] = {
    LineStatus.BUSY: None,
    LineStatus.OK: Cue(Tone.SUCCESS),
    LineStatus.OFFLINE: Cue(Tone.SUCCESS),
    LineStatus.REFUSED: Cue(Tone.REFUSAL, "book_refused"),
    LineStatus.STAFF: Cue(Tone.REFUSAL, "book_to_staff"),
    LineStatus.LISTED: None,
}
# The receipt's kind -> the counted sentence; receipt outcomes that count as done.
RECEIPTS = {"borrow": "borrowed", "return": "returned", "renew": "renewed"}
DONE = frozenset({"borrowed", "returned", "renewed", "offline"})
# The notices patrons' screens show (kiosk.ui.app.NOTICES' keys).
NOTICES: dict[str, Cue] = {
    "scan_isbn": Cue(Tone.REFUSAL, "not_library_code"),
    "scan_unknown": Cue(Tone.REFUSAL, "not_library_code"),
    "choose_service": Cue(Tone.ATTENTION, "choose_service"),
    "card_first": Cue(Tone.ATTENTION, "card_first"),
    "no_card_needed": Cue(Tone.ATTENTION),
    "finish_first": Cue(Tone.ATTENTION),
    "tags_seen": Cue(Tone.ATTENTION, "choose_service"),
    "tags_unreadable": Cue(Tone.REFUSAL, "book_to_staff"),
    "tags_incomplete": Cue(Tone.ATTENTION),
}
UNKNOWN_NOTICE = Cue(Tone.ATTENTION)
COUNTDOWN = Cue(Tone.ATTENTION, "still_there")
STAFF_SCREENS = frozenset({Screen.ADMIN_PIN, Screen.ADMIN})
NO_SESSION = frozenset({Screen.ATTRACT, Screen.GOODBYE, Screen.OUT_OF_SERVICE, *STAFF_SCREENS})


def cue_for(before: View, after: View, *, accessible: bool = False) -> Cue | None:
    """The tone and prompt for the change from `before` to `after`: of all that changed, the
    most important tone and the most important prompt (a sound stops the one before it)."""
    found = [cue for cue in (
        _session_end(before, after),
        _countdown(before, after),
        _screen_entry(before, after, accessible),
        _identify_message(before, after),
        _identify_step(before, after),
        _lines(before, after),
        _notice(before, after),
    ) if cue is not None]
    tone = next((cue.tone for cue in found if cue.tone is not None), None)
    said = next((cue for cue in found if cue.prompt is not None), None)
    if tone is None and said is None:
        return None
    return Cue(tone, said.prompt if said else None,
               said.language if said else after.language)


def screen_prompt(view: View, accessible: bool) -> str | None:
    """What is said on the view's screen as it stands: its step, its count or its prompt."""
    if view.screen is Screen.IDENTIFY:
        return STEPS.get(view.circulation.step)
    if view.screen is Screen.RECEIPT:
        return _receipt_prompt(view)
    said = SCREENS.get(view.screen)  # a screen not in the table is silent (a test lists it)
    return said.prompt if said is not None and (said.always or accessible) else None


def _receipt_prompt(view: View) -> str | None:
    shown = view.circulation.receipt
    if shown is None or shown.kind not in RECEIPTS:
        return None
    done = sum(line.outcome in DONE for line in shown.receipt.lines)
    return counted_id(RECEIPTS[shown.kind], done) if done else None


def _session_end(before: View, after: View) -> Cue | None:
    """The goodbye screen thanks (and asks for a physical card back) in the session's language;
    a session that did nothing goes straight to the attract screen with a plain goodbye."""
    if after.screen is Screen.GOODBYE and before.screen is not Screen.GOODBYE:
        take_card = after.farewell is not None and after.farewell.take_card
        return Cue(None, "goodbye_card" if take_card else "goodbye", after.language)
    if after.screen is not Screen.ATTRACT or before.screen in NO_SESSION:
        return None
    return Cue(None, "goodbye", before.language)  # the language resets as the session ends


def _countdown(before: View, after: View) -> Cue | None:
    if after.countdown is None or before.countdown is not None:
        return None
    if after.screen in STAFF_SCREENS:  # staff hear the tone; patrons nearby hear no question
        return Cue(COUNTDOWN.tone, None, after.language)
    return Cue(COUNTDOWN.tone, COUNTDOWN.prompt, after.language)


def _screen_entry(before: View, after: View, accessible: bool) -> Cue | None:
    entered = after.screen is not before.screen
    if not entered and after.language == before.language:
        return None
    if after.screen in STAFF_SCREENS:
        return None
    prompt = screen_prompt(after, accessible)
    if after.screen is Screen.RECEIPT:
        return Cue(Tone.SUCCESS if prompt and entered else None, prompt, after.language)
    tone = Tone.ATTENTION if after.screen is Screen.OUT_OF_SERVICE and entered else None
    return Cue(tone, prompt, after.language) if prompt or tone else None


def _identify_message(before: View, after: View) -> Cue | None:
    now, then = after.circulation, before.circulation
    if now.message is None or after.screen not in (Screen.IDENTIFY, Screen.ACCOUNT):
        return None
    answered = then.step is Step.CHECKING and now.step is not Step.CHECKING
    if now.message == then.message and not answered:
        return None  # the same message still showing
    return Cue(Tone.REFUSAL, IDENTIFY_MESSAGES.get(now.message), after.language)


def _identify_step(before: View, after: View) -> Cue | None:
    if after.screen is not Screen.IDENTIFY or before.screen is not Screen.IDENTIFY:
        return None  # entering the screen is _screen_entry's
    step = after.circulation.step
    if step is before.circulation.step:
        return None
    prompt = STEPS.get(step)
    return Cue(None, prompt, after.language) if prompt else None


def _lines(before: View, after: View) -> Cue | None:
    was: dict[str, Line] = {line.key: line for line in before.circulation.lines}
    reached = []
    for line in after.circulation.lines:
        old = was.get(line.key)
        if old is None or old.status is not line.status or old.renewed != line.renewed:
            cue = LINES.get(line.status)
            if line.renewed and (old is None or not old.renewed):
                cue = Cue(Tone.SUCCESS)
            if cue is not None:
                reached.append(cue)
    if not reached:
        return None
    # A refusal is heard over any number of books done.
    worst = next((cue for cue in reached if cue.tone is Tone.REFUSAL), reached[0])
    return Cue(worst.tone, worst.prompt, after.language)


def _notice(before: View, after: View) -> Cue | None:
    notice = after.notice
    if notice is None or notice == before.notice:
        return None
    cue = NOTICES.get(notice.message, UNKNOWN_NOTICE)
    return Cue(cue.tone, cue.prompt, after.language)
