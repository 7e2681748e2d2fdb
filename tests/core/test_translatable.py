"""Messages kept as msgid and parameters: shown as written or in another language, nested
ones too, and read back only when they are whole."""

from __future__ import annotations

import pytest

from printmgmt.translatable import Text

GERMAN = {
    "waiting for the printer: %(error)s": "wartet auf den Drucker: %(error)s",
    "%(trouble)s; it will be tried again": "%(trouble)s; der Auftrag wird erneut versucht",
    "unknown reason": "unbekannter Grund",
    "the print server could not set up a secure connection to the printer (%(reason)s)": (
        "der Druckserver konnte keine sichere Verbindung zum Drucker aufbauen (%(reason)s)"
    ),
}


def german(msgid: str) -> str:
    return GERMAN.get(msgid, msgid)


def secure_connection(reason: str | Text) -> Text:
    return Text(
        "%(trouble)s; it will be tried again",
        {
            "trouble": Text(
                "the print server could not set up a secure connection to the printer (%(reason)s)",
                {"reason": reason},
            )
        },
    )


def test_a_message_is_written_in_english_and_shown_in_the_language_given() -> None:
    text = Text("waiting for the printer: %(error)s", {"error": "connection refused"})
    assert str(text) == "waiting for the printer: connection refused"
    assert text.render(german) == "wartet auf den Drucker: connection refused"


def test_a_message_within_a_message_is_translated_at_every_level() -> None:
    text = secure_connection(Text("unknown reason"))
    assert str(text) == (
        "the print server could not set up a secure connection to the printer "
        "(unknown reason); it will be tried again"
    )
    assert text.render(german) == (
        "der Druckserver konnte keine sichere Verbindung zum Drucker aufbauen "
        "(unbekannter Grund); der Auftrag wird erneut versucht"
    )


def test_external_words_stay_as_they_are_even_when_they_read_like_a_msgid() -> None:
    # The printer's own words are not looked up, whatever they say.
    text = secure_connection("unknown reason")
    assert "(unknown reason); der Auftrag" in text.render(german)


def test_numbers_and_a_written_percent_sign_render() -> None:
    text = Text("%(done)s of %(all)s pages, 100%% done", {"done": 3, "all": 3})
    assert str(text) == "3 of 3 pages, 100% done"


def test_a_message_is_read_back_as_it_was_stored() -> None:
    text = secure_connection(Text("unknown reason"))
    assert Text.from_json(text.to_json()) == text
    assert Text.from_json(Text("not released in time").to_json()) == Text("not released in time")


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "the printer refused the job",
        [],
        {"msgid": "canceled by %(user)s"},
        {"msgid": "canceled by %(user)s", "params": {"user": "sam"}, "extra": 1},
        {"msgid": 7, "params": {}},
        {"msgid": "canceled by %(user)s", "params": ["sam"]},
        {"msgid": "canceled by %(user)s", "params": {"user": None}},
        {"msgid": "canceled by %(user)s", "params": {"user": True}},
        {"msgid": "canceled by %(user)s", "params": {"user": ["sam"]}},
        {"msgid": "canceled by %(user)s", "params": {}},
        {"msgid": "canceled by %(user)d", "params": {"user": "sam"}},
        {"msgid": "canceled by %(user)", "params": {"user": "sam"}},
        {"msgid": "%(trouble)s; it will be tried again", "params": {"trouble": {"msgid": 1}}},
        {
            "msgid": "%(trouble)s; it will be tried again",
            "params": {"trouble": {"msgid": "(%(reason)s)", "params": {}}},
        },
    ],
)
def test_what_is_not_a_whole_message_is_not_read_as_one(stored: object) -> None:
    assert Text.from_json(stored) is None
