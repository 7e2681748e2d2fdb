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


ATTEMPTS = ("after %(attempts)s attempt: %(error)s", "after %(attempts)s attempts: %(error)s")
GERMAN_ATTEMPTS = ("nach %(attempts)s Versuch: %(error)s", "nach %(attempts)s Versuchen: %(error)s")


def german_plural(singular: str, plural: str, count: int) -> str:
    assert (singular, plural) == ATTEMPTS
    return GERMAN_ATTEMPTS[0 if count == 1 else 1]


def attempts(count: int) -> Text:
    return Text.counted(ATTEMPTS, "attempts", {"attempts": count, "error": "refused"})


@pytest.mark.parametrize(
    ("count", "english", "in_german"),
    [
        (1, "after 1 attempt: refused", "nach 1 Versuch: refused"),
        (2, "after 2 attempts: refused", "nach 2 Versuchen: refused"),
        (0, "after 0 attempts: refused", "nach 0 Versuchen: refused"),
    ],
)
def test_a_counted_message_takes_the_form_its_count_asks_for_in_each_language(
    count: int, english: str, in_german: str
) -> None:
    assert str(attempts(count)) == english
    assert attempts(count).render(german, german_plural) == in_german


def test_a_counted_message_within_a_message_is_counted_in_the_readers_language() -> None:
    text = Text("%(trouble)s; it will be tried again", {"trouble": attempts(1)})
    assert text.render(german, german_plural) == (
        "nach 1 Versuch: refused; der Auftrag wird erneut versucht"
    )


def test_a_counted_message_is_read_back_as_it_was_stored() -> None:
    text = Text("%(trouble)s; it will be tried again", {"trouble": attempts(1)})
    stored = text.to_json()
    assert stored["params"]["trouble"] == {
        "msgid": ATTEMPTS[0],
        "params": {"attempts": 1, "error": "refused"},
        "plural": ATTEMPTS[1],
        "count": "attempts",
    }
    read = Text.from_json(stored)
    assert read == text
    assert read.render(german, german_plural) == (
        "nach 1 Versuch: refused; der Auftrag wird erneut versucht"
    )


def test_a_message_stored_before_messages_could_count_is_read_and_shown_as_before() -> None:
    stored = {"msgid": "waiting for the printer: %(error)s", "params": {"error": "refused"}}
    text = Text.from_json(stored)
    assert text == Text("waiting for the printer: %(error)s", {"error": "refused"})
    assert text is not None
    assert text.to_json() == stored
    assert text.render(german, german_plural) == "wartet auf den Drucker: refused"


def test_a_counted_message_has_its_plural_and_its_count_or_neither() -> None:
    with pytest.raises(ValueError, match="both"):
        Text(ATTEMPTS[0], {"attempts": 1, "error": "x"}, plural=ATTEMPTS[1])


COUNTED = {"msgid": ATTEMPTS[0], "plural": ATTEMPTS[1], "count": "attempts"}


@pytest.mark.parametrize(
    "stored",
    [
        {**COUNTED, "params": {"error": "refused"}},
        {**COUNTED, "params": {"attempts": "1", "error": "refused"}},
        {**COUNTED, "params": {"attempts": True, "error": "refused"}},
        {**COUNTED, "count": "tries", "params": {"attempts": 1, "error": "refused"}},
        {**COUNTED, "count": None, "params": {"attempts": 1, "error": "refused"}},
        {**COUNTED, "plural": 2, "params": {"attempts": 1, "error": "refused"}},
        {"msgid": ATTEMPTS[0], "plural": ATTEMPTS[1], "params": {"attempts": 1, "error": "x"}},
        {**COUNTED, "params": {"attempts": 2}},
    ],
)
def test_what_is_not_a_whole_counted_message_is_not_read_as_one(stored: object) -> None:
    assert Text.from_json(stored) is None
