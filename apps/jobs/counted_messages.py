"""The job messages that count something: each a pair of msgids (singular and plural, as
`plural_noop` marks them) and the name of its count parameter, for `Text.counted`.

Until they counted, these messages were stored with their plural msgid alone ("after 1
attempts"), which the catalog no longer has as a msgid of its own: `FORMERLY_UNCOUNTED` reads
such a stored message as the counted one it became (Job.message_shown).
"""

from __future__ import annotations

from printmgmt.translatable import Text, plural_noop

SENDING_GIVEN_UP = (
    plural_noop(
        "sending failed %(failures)s time: the job was given up",
        "sending failed %(failures)s times: the job was given up",
    ),
    "failures",
)
PRINTER_UNREACHABLE = (
    plural_noop(
        "the printer could not be reached after %(attempts)s attempt: %(error)s",
        "the printer could not be reached after %(attempts)s attempts: %(error)s",
    ),
    "attempts",
)
TROUBLE_GIVEN_UP = (
    plural_noop(
        "%(trouble)s; the job was given up after %(attempts)s attempt",
        "%(trouble)s; the job was given up after %(attempts)s attempts",
    ),
    "attempts",
)
PRINTER_SILENT = (
    plural_noop(
        "the printer accepted the job but has not answered about it for %(hours)s hour: it "
        "counts as printed (%(error)s)",
        "the printer accepted the job but has not answered about it for %(hours)s hours: it "
        "counts as printed (%(error)s)",
    ),
    "hours",
)

FORMERLY_UNCOUNTED = {
    msgids[1]: (msgids, count)
    for msgids, count in (SENDING_GIVEN_UP, PRINTER_UNREACHABLE, TROUBLE_GIVEN_UP, PRINTER_SILENT)
}


def as_counted(text: Text) -> Text:
    """`text`, or the counted message it was stored before it counted (FORMERLY_UNCOUNTED)."""
    former = FORMERLY_UNCOUNTED.get(text.msgid) if text.plural is None else None
    if former is None:
        return text
    msgids, count = former
    if not isinstance(text.params.get(count), int):
        return text
    return Text.counted(msgids, count, text.params)
