"""Which operation attributes each operation of our printer takes, and what becomes of the rest.

RFC 8011 section 4.1.7: an operation attribute the printer does not support is ignored and
told back in the unsupported group, with status successful-ok-ignored-or-substituted-attributes;
an unknown (or unsupported) name with the out-of-band value 'unsupported', a supported one with
the values or syntaxes that are not. ipp-attribute-fidelity concerns Job Template attributes
only, so an ignored operation attribute never refuses a job.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

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


@dataclass(frozen=True)
class Takes:
    """The syntaxes, and values, an operation attribute is taken with; `single`: one value
    only (several are ignored together, as sent). `tags` None: the operation checks the
    attribute itself and refuses one it cannot take, saying why."""

    tags: frozenset[int] | None
    value_ok: Callable[[PyValue], bool] = _any_value
    single: bool = False

    def accepts(self, value: Value) -> bool:
        return self.tags is None or (value.tag in self.tags and self.value_ok(value.value))


def _one_of(*allowed: str) -> Takes:
    return Takes(frozenset({ValueTag.KEYWORD, ValueTag.NAME}), lambda value: value in allowed)


CHECKED = Takes(None)
NAME = Takes(frozenset({ValueTag.NAME, ValueTag.NAME_WITH_LANGUAGE}))
BOOLEAN = Takes(frozenset({ValueTag.BOOLEAN}))
KEYWORDS = Takes(frozenset({ValueTag.KEYWORD}))
MIME_MEDIA_TYPE = Takes(frozenset({ValueTag.MIME_MEDIA_TYPE}), single=True)
POSITIVE = Takes(frozenset({ValueTag.INTEGER}), lambda value: isinstance(value, int) and value >= 1)

#: Taken by every operation, and read by none: who asks is who logged in, which a printer that
#: authenticates its users takes over requesting-user-name (RFC 8011).
_EVERY_OPERATION: Mapping[str, Takes] = {"requesting-user-name": NAME}
_JOB_TARGET: Mapping[str, Takes] = {"job-id": CHECKED}
_DOCUMENT: Mapping[str, Takes] = {
    "document-name": NAME,
    "compression": CHECKED,
    # A format sent with another syntax, or several, is ignored: the document is then
    # detected by its content, as application/octet-stream is.
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
        "job-ids": CHECKED,
        "requested-attributes": KEYWORDS,
    },
    Operation.CANCEL_MY_JOBS: {"job-ids": CHECKED},
    # The answer is the same for every format: any one asked about is answered.
    Operation.GET_PRINTER_ATTRIBUTES: {
        "requested-attributes": KEYWORDS,
        "document-format": MIME_MEDIA_TYPE,
    },
}


def sort_operation_attributes(request: Message) -> tuple[Message, tuple[Attribute, ...]]:
    """The request with only the operation attributes its operation takes, and what was left
    out, as the unsupported group tells it. The first three attributes were checked by
    check_message and stay."""
    operation_group = request.groups[0]
    taken = {**_EVERY_OPERATION, **TAKEN.get(request.operation_id, {})}
    kept = list(operation_group.attributes[:3])
    ignored: list[Attribute] = []
    for attribute in operation_group.attributes[3:]:
        takes = taken.get(attribute.name)
        if takes is None:
            ignored.append(Attribute.out_of_band(attribute.name, ValueTag.UNSUPPORTED))
            continue
        if takes.single and len(attribute.values) > 1:
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
