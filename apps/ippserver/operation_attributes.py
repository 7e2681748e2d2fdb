"""Which operation attributes each operation of our printer takes, and what becomes of the rest.

RFC 8011 section 4.1.7: an operation attribute the printer does not support is ignored and
told back in the unsupported group, with status successful-ok-ignored-or-substituted-attributes;
an unknown (or unsupported) name with the out-of-band value 'unsupported', a supported one with
the values or syntaxes that are not. ipp-attribute-fidelity concerns Job Template attributes
only, so an ignored operation attribute never refuses a job. One the printer takes that has a
single value but was sent with several is a bad request (RFC 3196 section 3.1.2.1.5), checked
before any document is read.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from apps.ippserver.protocol import IppRefusal
from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    GroupTag,
    Message,
    Operation,
    PyValue,
    Status,
    Value,
    ValueTag,
)


def _any_value(value: PyValue) -> bool:
    return True


class Several(enum.Enum):
    """What becomes of an operation attribute sent with several values."""

    #: A 1setOf: each value is taken or ignored on its own.
    TAKEN = enum.auto()
    #: One value only: which one was meant cannot be told, so the request is a bad one.
    REFUSED = enum.auto()
    #: One value only, and the printer does well without it: several are ignored together,
    #: as sent.
    IGNORED = enum.auto()


@dataclass(frozen=True)
class Takes:
    """The syntaxes, and values, an operation attribute is taken with, and what several
    values of it are. `tags` None: the operation checks the attribute itself and refuses one
    it cannot take, saying why."""

    tags: frozenset[int] | None
    value_ok: Callable[[PyValue], bool] = _any_value
    several: Several = Several.REFUSED

    def accepts(self, value: Value) -> bool:
        return self.tags is None or (value.tag in self.tags and self.value_ok(value.value))


def _one_of(*allowed: str) -> Takes:
    return Takes(frozenset({ValueTag.KEYWORD, ValueTag.NAME}), lambda value: value in allowed)


CHECKED = Takes(None)
CHECKED_SET = Takes(None, several=Several.TAKEN)
NAME = Takes(frozenset({ValueTag.NAME, ValueTag.NAME_WITH_LANGUAGE}))
BOOLEAN = Takes(frozenset({ValueTag.BOOLEAN}))
KEYWORDS = Takes(frozenset({ValueTag.KEYWORD}), several=Several.TAKEN)
# Without it (or with several formats, or another syntax) the document is detected by its
# content, as application/octet-stream is.
MIME_MEDIA_TYPE = Takes(frozenset({ValueTag.MIME_MEDIA_TYPE}), several=Several.IGNORED)
POSITIVE = Takes(frozenset({ValueTag.INTEGER}), lambda value: isinstance(value, int) and value >= 1)

#: Taken by every operation, and read by none: who asks is who logged in, which a printer that
#: authenticates its users takes over requesting-user-name (RFC 8011).
_EVERY_OPERATION: Mapping[str, Takes] = {"requesting-user-name": NAME}
_JOB_TARGET: Mapping[str, Takes] = {"job-id": CHECKED}
_DOCUMENT: Mapping[str, Takes] = {
    "document-name": NAME,
    "compression": CHECKED,
    "document-format": MIME_MEDIA_TYPE,
}
_JOB_CREATION: Mapping[str, Takes] = {
    "job-name": NAME,
    "ipp-attribute-fidelity": BOOLEAN,
    # Sent here by some clients (CUPS' print-job-hold.test) rather than as a job attribute;
    # every job is held, so the two values the printer advertises hold.
    "job-hold-until": _one_of("no-hold", "indefinite"),
    # Create-Job refuses a compression of documents to come, as the other two do.
    "compression": CHECKED,
}

TAKEN: Mapping[int, Mapping[str, Takes]] = {
    Operation.PRINT_JOB: {**_JOB_CREATION, **_DOCUMENT},
    Operation.VALIDATE_JOB: {**_JOB_CREATION, **_DOCUMENT},
    Operation.CREATE_JOB: _JOB_CREATION,
    Operation.SEND_DOCUMENT: {**_JOB_TARGET, **_DOCUMENT, "last-document": CHECKED},
    Operation.CLOSE_JOB: _JOB_TARGET,
    Operation.CANCEL_JOB: _JOB_TARGET,
    Operation.RELEASE_JOB: _JOB_TARGET,
    # A held job stays held until released: "indefinite" is what it gets.
    Operation.HOLD_JOB: {**_JOB_TARGET, "job-hold-until": _one_of("indefinite")},
    Operation.GET_JOB_ATTRIBUTES: {**_JOB_TARGET, "requested-attributes": KEYWORDS},
    Operation.GET_JOBS: {
        "which-jobs": CHECKED,
        "my-jobs": BOOLEAN,
        "limit": POSITIVE,
        "first-index": CHECKED,
        "job-ids": CHECKED_SET,
        "requested-attributes": KEYWORDS,
    },
    Operation.CANCEL_MY_JOBS: {"job-ids": CHECKED_SET},
    # The answer is the same for every format: any one asked about is answered.
    Operation.GET_PRINTER_ATTRIBUTES: {
        "requested-attributes": KEYWORDS,
        "document-format": MIME_MEDIA_TYPE,
    },
}


#: How many attributes every request starts with (attributes-charset,
#: attributes-natural-language, printer-uri or job-uri: check_message): one value each.
_FIRST_ATTRIBUTES = 3
_FIRST = Takes(None)  # their values were checked by check_message; their count is not


def _taken(operation: int) -> Mapping[str, Takes]:
    return {**_EVERY_OPERATION, **TAKEN.get(operation, {})}


def check_value_counts(request: Message) -> None:
    """Refuse a request with several values of an operation attribute its operation takes with
    one (Several.REFUSED), the first three included, as a bad request naming it. Raises
    IppRefusal."""
    taken = _taken(request.operation_id)
    for position, attribute in enumerate(request.groups[0].attributes):
        takes = _FIRST if position < _FIRST_ATTRIBUTES else taken.get(attribute.name)
        if takes is not None and takes.several is Several.REFUSED and len(attribute.values) > 1:
            raise IppRefusal(
                Status.CLIENT_ERROR_BAD_REQUEST,
                f"{attribute.name} takes one value, not {len(attribute.values)}",
            )


def sort_operation_attributes(request: Message) -> tuple[Message, tuple[Attribute, ...]]:
    """The request with only the operation attributes its operation takes, and what was left
    out, as the unsupported group tells it. The first three attributes were checked by
    check_message and stay; so were the counts of values (check_value_counts)."""
    operation_group = request.groups[0]
    taken = _taken(request.operation_id)
    kept = list(operation_group.attributes[:_FIRST_ATTRIBUTES])
    ignored: list[Attribute] = []
    for attribute in operation_group.attributes[_FIRST_ATTRIBUTES:]:
        takes = taken.get(attribute.name)
        if takes is None:
            ignored.append(Attribute.out_of_band(attribute.name, ValueTag.UNSUPPORTED))
            continue
        if takes.several is Several.IGNORED and len(attribute.values) > 1:
            ignored.append(attribute)
            continue
        accepted = tuple(value for value in attribute.values if takes.accepts(value))
        if accepted:
            kept.append(Attribute(attribute.name, accepted))
        if len(accepted) < len(attribute.values):
            refused = tuple(value for value in attribute.values if not takes.accepts(value))
            ignored.append(Attribute(attribute.name, refused))
    if not ignored:
        return request, ()
    groups = (AttributeGroup(GroupTag.OPERATION, tuple(kept)), *request.groups[1:])
    return replace(request, groups=groups), tuple(ignored)


#: The statuses whose unsupported group lists every unsupported attribute of the request (RFC
#: 8011 section 4.1.7), and the status it then has.
_WITH_UNSUPPORTED: dict[int, Status] = {
    Status.SUCCESSFUL_OK: Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES,
    Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES: (
        Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES
    ),
    Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED: (
        Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED
    ),
}


def with_ignored(response: Message, ignored: tuple[Attribute, ...]) -> Message:
    """`response` telling the client which operation attributes were ignored: in the one
    unsupported group, after the operation group (RFC 8010 section 3.1.1)."""
    status = _WITH_UNSUPPORTED.get(response.status_code)
    if not ignored or status is None:
        return response
    operation_group, *rest = response.groups
    unsupported = [a for g in rest if g.tag == GroupTag.UNSUPPORTED for a in g.attributes]
    groups = (
        operation_group,
        AttributeGroup(GroupTag.UNSUPPORTED, (*ignored, *unsupported)),
        *(g for g in rest if g.tag != GroupTag.UNSUPPORTED),
    )
    return replace(response, operation_or_status=status, groups=groups)
