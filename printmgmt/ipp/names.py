"""Registered numbers of IPP: operations, status codes, states and finishings.

Sources: RFC 8011, the IANA IPP registry, PWG 5100.1 (finishings), PWG 5100.18 (shared
infrastructure operations) and the CUPS implementation notes (CUPS-* operations).
"""

from __future__ import annotations

from enum import Enum, IntEnum


class Operation(IntEnum):
    PRINT_JOB = 0x0002
    PRINT_URI = 0x0003
    VALIDATE_JOB = 0x0004
    CREATE_JOB = 0x0005
    SEND_DOCUMENT = 0x0006
    SEND_URI = 0x0007
    CANCEL_JOB = 0x0008
    GET_JOB_ATTRIBUTES = 0x0009
    GET_JOBS = 0x000A
    GET_PRINTER_ATTRIBUTES = 0x000B
    HOLD_JOB = 0x000C
    RELEASE_JOB = 0x000D
    RESTART_JOB = 0x000E
    PAUSE_PRINTER = 0x0010
    RESUME_PRINTER = 0x0011
    PURGE_JOBS = 0x0012
    SET_PRINTER_ATTRIBUTES = 0x0013
    SET_JOB_ATTRIBUTES = 0x0014
    GET_PRINTER_SUPPORTED_VALUES = 0x0015
    CREATE_PRINTER_SUBSCRIPTIONS = 0x0016
    CREATE_JOB_SUBSCRIPTIONS = 0x0017
    GET_SUBSCRIPTION_ATTRIBUTES = 0x0018
    GET_SUBSCRIPTIONS = 0x0019
    RENEW_SUBSCRIPTION = 0x001A
    CANCEL_SUBSCRIPTION = 0x001B
    GET_NOTIFICATIONS = 0x001C
    ENABLE_PRINTER = 0x0022
    DISABLE_PRINTER = 0x0023
    PAUSE_PRINTER_AFTER_CURRENT_JOB = 0x0024
    HOLD_NEW_JOBS = 0x0025
    RELEASE_HELD_NEW_JOBS = 0x0026
    DEACTIVATE_PRINTER = 0x0027
    ACTIVATE_PRINTER = 0x0028
    RESTART_PRINTER = 0x0029
    SHUTDOWN_PRINTER = 0x002A
    STARTUP_PRINTER = 0x002B
    REPROCESS_JOB = 0x002C
    CANCEL_CURRENT_JOB = 0x002D
    SUSPEND_CURRENT_JOB = 0x002E
    RESUME_JOB = 0x002F
    PROMOTE_JOB = 0x0030
    SCHEDULE_JOB_AFTER = 0x0031
    CANCEL_DOCUMENT = 0x0033
    GET_DOCUMENT_ATTRIBUTES = 0x0034
    GET_DOCUMENTS = 0x0035
    DELETE_DOCUMENT = 0x0036
    SET_DOCUMENT_ATTRIBUTES = 0x0037
    CANCEL_JOBS = 0x0038
    CANCEL_MY_JOBS = 0x0039
    RESUBMIT_JOB = 0x003A
    CLOSE_JOB = 0x003B
    IDENTIFY_PRINTER = 0x003C
    VALIDATE_DOCUMENT = 0x003D
    # PWG 5100.18 shared infrastructure: an output device pulls jobs from us.
    ACKNOWLEDGE_DOCUMENT = 0x003F
    ACKNOWLEDGE_IDENTIFY_PRINTER = 0x0040
    ACKNOWLEDGE_JOB = 0x0041
    FETCH_DOCUMENT = 0x0042
    FETCH_JOB = 0x0043
    GET_OUTPUT_DEVICE_ATTRIBUTES = 0x0044
    UPDATE_ACTIVE_JOBS = 0x0045
    DEREGISTER_OUTPUT_DEVICE = 0x0046
    UPDATE_DOCUMENT_STATUS = 0x0047
    UPDATE_JOB_STATUS = 0x0048
    UPDATE_OUTPUT_DEVICE_ATTRIBUTES = 0x0049
    GET_NEXT_DOCUMENT_DATA = 0x004A
    # PWG 5100.22 system service.
    GET_PRINTERS = 0x004F
    GET_SYSTEM_ATTRIBUTES = 0x005B
    REGISTER_OUTPUT_DEVICE = 0x005F
    # CUPS extensions.
    CUPS_GET_DEFAULT = 0x4001
    CUPS_GET_PRINTERS = 0x4002
    CUPS_ADD_MODIFY_PRINTER = 0x4003
    CUPS_DELETE_PRINTER = 0x4004
    CUPS_GET_CLASSES = 0x4005
    CUPS_ADD_MODIFY_CLASS = 0x4006
    CUPS_DELETE_CLASS = 0x4007
    CUPS_ACCEPT_JOBS = 0x4008
    CUPS_REJECT_JOBS = 0x4009
    CUPS_SET_DEFAULT = 0x400A
    CUPS_GET_DEVICES = 0x400B
    CUPS_GET_PPDS = 0x400C
    CUPS_MOVE_JOB = 0x400D
    CUPS_AUTHENTICATE_JOB = 0x400E
    CUPS_GET_PPD = 0x400F
    CUPS_GET_DOCUMENT = 0x4027
    CUPS_CREATE_LOCAL_PRINTER = 0x4028


_OPERATION_NAME_EXCEPTIONS = {
    Operation.PRINT_URI: "Print-URI",
    Operation.SEND_URI: "Send-URI",
}


def operation_name(code: int) -> str:
    """``Print-Job``, ``CUPS-Get-Printers``, ... or ``0xNNNN`` for an unregistered id."""
    try:
        operation = Operation(code)
    except ValueError:
        return f"0x{code:04X}"
    if operation in _OPERATION_NAME_EXCEPTIONS:
        return _OPERATION_NAME_EXCEPTIONS[operation]
    words = operation.name.split("_")
    return "-".join(w if w == "CUPS" else w.capitalize() for w in words)


class StatusClass(Enum):
    SUCCESSFUL = "successful"
    INFORMATIONAL = "informational"
    REDIRECTION = "redirection"
    CLIENT_ERROR = "client-error"
    SERVER_ERROR = "server-error"


class Status(IntEnum):
    SUCCESSFUL_OK = 0x0000
    SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES = 0x0001
    SUCCESSFUL_OK_CONFLICTING_ATTRIBUTES = 0x0002
    SUCCESSFUL_OK_IGNORED_SUBSCRIPTIONS = 0x0003
    SUCCESSFUL_OK_TOO_MANY_EVENTS = 0x0005
    SUCCESSFUL_OK_EVENTS_COMPLETE = 0x0007
    INFORMATIONAL = 0x0100
    REDIRECTION_OTHER_SITE = 0x0200
    CLIENT_ERROR_BAD_REQUEST = 0x0400
    CLIENT_ERROR_FORBIDDEN = 0x0401
    CLIENT_ERROR_NOT_AUTHENTICATED = 0x0402
    CLIENT_ERROR_NOT_AUTHORIZED = 0x0403
    CLIENT_ERROR_NOT_POSSIBLE = 0x0404
    CLIENT_ERROR_TIMEOUT = 0x0405
    CLIENT_ERROR_NOT_FOUND = 0x0406
    CLIENT_ERROR_GONE = 0x0407
    CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE = 0x0408
    CLIENT_ERROR_REQUEST_VALUE_TOO_LONG = 0x0409
    CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED = 0x040A
    CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED = 0x040B
    CLIENT_ERROR_URI_SCHEME_NOT_SUPPORTED = 0x040C
    CLIENT_ERROR_CHARSET_NOT_SUPPORTED = 0x040D
    CLIENT_ERROR_CONFLICTING_ATTRIBUTES = 0x040E
    CLIENT_ERROR_COMPRESSION_NOT_SUPPORTED = 0x040F
    CLIENT_ERROR_COMPRESSION_ERROR = 0x0410
    CLIENT_ERROR_DOCUMENT_FORMAT_ERROR = 0x0411
    CLIENT_ERROR_DOCUMENT_ACCESS_ERROR = 0x0412
    CLIENT_ERROR_ATTRIBUTES_NOT_SETTABLE = 0x0413
    CLIENT_ERROR_IGNORED_ALL_SUBSCRIPTIONS = 0x0414
    CLIENT_ERROR_TOO_MANY_SUBSCRIPTIONS = 0x0415
    CLIENT_ERROR_DOCUMENT_PASSWORD_ERROR = 0x0418
    CLIENT_ERROR_DOCUMENT_PERMISSION_ERROR = 0x0419
    CLIENT_ERROR_DOCUMENT_SECURITY_ERROR = 0x041A
    CLIENT_ERROR_DOCUMENT_UNPRINTABLE_ERROR = 0x041B
    CLIENT_ERROR_ACCOUNT_INFO_NEEDED = 0x041C
    CLIENT_ERROR_ACCOUNT_CLOSED = 0x041D
    CLIENT_ERROR_ACCOUNT_LIMIT_REACHED = 0x041E
    CLIENT_ERROR_ACCOUNT_AUTHORIZATION_FAILED = 0x041F
    CLIENT_ERROR_NOT_FETCHABLE = 0x0420
    SERVER_ERROR_INTERNAL_ERROR = 0x0500
    SERVER_ERROR_OPERATION_NOT_SUPPORTED = 0x0501
    SERVER_ERROR_SERVICE_UNAVAILABLE = 0x0502
    SERVER_ERROR_VERSION_NOT_SUPPORTED = 0x0503
    SERVER_ERROR_DEVICE_ERROR = 0x0504
    SERVER_ERROR_TEMPORARY_ERROR = 0x0505
    SERVER_ERROR_NOT_ACCEPTING_JOBS = 0x0506
    SERVER_ERROR_BUSY = 0x0507
    SERVER_ERROR_JOB_CANCELED = 0x0508
    SERVER_ERROR_MULTIPLE_DOCUMENT_JOBS_NOT_SUPPORTED = 0x0509
    SERVER_ERROR_PRINTER_IS_DEACTIVATED = 0x050A
    SERVER_ERROR_TOO_MANY_JOBS = 0x050B
    SERVER_ERROR_TOO_MANY_DOCUMENTS = 0x050C


_CLASS_BY_HIGH_BYTE = {
    0x00: StatusClass.SUCCESSFUL,
    0x01: StatusClass.INFORMATIONAL,
    0x02: StatusClass.REDIRECTION,
    0x04: StatusClass.CLIENT_ERROR,
    0x05: StatusClass.SERVER_ERROR,
}

_CLASS_BASE = {
    StatusClass.SUCCESSFUL: Status.SUCCESSFUL_OK,
    StatusClass.INFORMATIONAL: Status.INFORMATIONAL,
    StatusClass.REDIRECTION: Status.REDIRECTION_OTHER_SITE,
    StatusClass.CLIENT_ERROR: Status.CLIENT_ERROR_BAD_REQUEST,
    StatusClass.SERVER_ERROR: Status.SERVER_ERROR_INTERNAL_ERROR,
}

#: Statuses that say "not now" rather than "no": the same request can succeed later.
RETRYABLE_STATUSES = frozenset(
    {
        Status.SERVER_ERROR_SERVICE_UNAVAILABLE,
        Status.SERVER_ERROR_TEMPORARY_ERROR,
        Status.SERVER_ERROR_BUSY,
        Status.SERVER_ERROR_NOT_ACCEPTING_JOBS,
        Status.SERVER_ERROR_TOO_MANY_JOBS,
    }
)

#: Statuses that say the printer failed, not that it refused the request: the same request
#: may succeed once the printer is mended, but not by itself (so not retryable).
PRINTER_FAILURE_STATUSES = frozenset(
    {Status.SERVER_ERROR_INTERNAL_ERROR, Status.SERVER_ERROR_DEVICE_ERROR}
)


def status_class(code: int) -> StatusClass:
    """The class of a status code from its high byte. Ranges without a class (0x03xx and
    0x06xx upwards) count as server errors: something went wrong that we cannot fix."""
    return _CLASS_BY_HIGH_BYTE.get(code >> 8, StatusClass.SERVER_ERROR)


def effective_status(code: int) -> Status:
    """The registered status a code stands for; an unknown code behaves as the x00 code
    of its class (RFC 8011 section 4.1.6)."""
    try:
        return Status(code)
    except ValueError:
        return _CLASS_BASE[status_class(code)]


def status_name(code: int) -> str:
    """``client-error-not-found``; for an unknown code ``0xNNNN`` and its class."""
    try:
        return Status(code).name.lower().replace("_", "-")
    except ValueError:
        return f"0x{code:04X} ({status_class(code).value})"


def is_successful(code: int) -> bool:
    return status_class(code) is StatusClass.SUCCESSFUL


_SENTENCES: dict[int, str] = {
    Status.SUCCESSFUL_OK: "Successful.",
    Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES: (
        "Successful, but the printer ignored or substituted some attributes."
    ),
    Status.CLIENT_ERROR_BAD_REQUEST: "The printer could not understand the request.",
    Status.CLIENT_ERROR_FORBIDDEN: "The printer refuses this request.",
    Status.CLIENT_ERROR_NOT_AUTHENTICATED: "The printer wants a user name and password.",
    Status.CLIENT_ERROR_NOT_AUTHORIZED: "This user may not do this on the printer.",
    Status.CLIENT_ERROR_NOT_POSSIBLE: "The request is not possible in the current state.",
    Status.CLIENT_ERROR_NOT_FOUND: "The printer or job does not exist.",
    Status.CLIENT_ERROR_GONE: "The printer or job is gone.",
    Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED: (
        "The printer does not support this document format."
    ),
    Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED: (
        "The printer does not support some requested attributes or values."
    ),
    Status.CLIENT_ERROR_CONFLICTING_ATTRIBUTES: "Some requested attributes conflict.",
    Status.SERVER_ERROR_INTERNAL_ERROR: "The printer failed with an internal error.",
    Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED: "The printer does not support this operation.",
    Status.SERVER_ERROR_SERVICE_UNAVAILABLE: "The printer is temporarily unavailable.",
    Status.SERVER_ERROR_VERSION_NOT_SUPPORTED: "The printer does not support this IPP version.",
    Status.SERVER_ERROR_DEVICE_ERROR: "The printer reports a device error.",
    Status.SERVER_ERROR_TEMPORARY_ERROR: "The printer reports a temporary error.",
    Status.SERVER_ERROR_NOT_ACCEPTING_JOBS: "The printer is not accepting jobs.",
    Status.SERVER_ERROR_BUSY: "The printer is busy.",
    Status.SERVER_ERROR_JOB_CANCELED: "The job was canceled.",
}


def status_sentence(code: int) -> str:
    """A human description of a status, like cupsLastErrorString() without a message."""
    known = _SENTENCES.get(code)
    if known is not None:
        return known
    return f"The printer answered {status_name(code)}."


class JobState(IntEnum):
    PENDING = 3
    PENDING_HELD = 4
    PROCESSING = 5
    PROCESSING_STOPPED = 6
    CANCELED = 7
    ABORTED = 8
    COMPLETED = 9

    @property
    def keyword(self) -> str:
        return self.name.lower().replace("_", "-")

    @property
    def is_terminal(self) -> bool:
        return self >= JobState.CANCELED


class PrinterState(IntEnum):
    IDLE = 3
    PROCESSING = 4
    STOPPED = 5

    @property
    def keyword(self) -> str:
        return self.name.lower()


class Finishing(IntEnum):
    """PWG 5100.1 ``finishings`` enum values."""

    NONE = 3
    STAPLE = 4
    PUNCH = 5
    COVER = 6
    BIND = 7
    SADDLE_STITCH = 8
    EDGE_STITCH = 9
    FOLD = 10
    TRIM = 11
    BALE = 12
    BOOKLET_MAKER = 13
    JOG_OFFSET = 14
    COAT = 15
    LAMINATE = 16
    STAPLE_TOP_LEFT = 20
    STAPLE_BOTTOM_LEFT = 21
    STAPLE_TOP_RIGHT = 22
    STAPLE_BOTTOM_RIGHT = 23
    EDGE_STITCH_LEFT = 24
    EDGE_STITCH_TOP = 25
    EDGE_STITCH_RIGHT = 26
    EDGE_STITCH_BOTTOM = 27
    STAPLE_DUAL_LEFT = 28
    STAPLE_DUAL_TOP = 29
    STAPLE_DUAL_RIGHT = 30
    STAPLE_DUAL_BOTTOM = 31
    STAPLE_TRIPLE_LEFT = 32
    STAPLE_TRIPLE_TOP = 33
    STAPLE_TRIPLE_RIGHT = 34
    STAPLE_TRIPLE_BOTTOM = 35
    BIND_LEFT = 50
    BIND_TOP = 51
    BIND_RIGHT = 52
    BIND_BOTTOM = 53
    TRIM_AFTER_PAGES = 60
    TRIM_AFTER_DOCUMENTS = 61
    TRIM_AFTER_COPIES = 62
    TRIM_AFTER_JOB = 63
    PUNCH_TOP_LEFT = 70
    PUNCH_BOTTOM_LEFT = 71
    PUNCH_TOP_RIGHT = 72
    PUNCH_BOTTOM_RIGHT = 73
    PUNCH_DUAL_LEFT = 74
    PUNCH_DUAL_TOP = 75
    PUNCH_DUAL_RIGHT = 76
    PUNCH_DUAL_BOTTOM = 77
    PUNCH_TRIPLE_LEFT = 78
    PUNCH_TRIPLE_TOP = 79
    PUNCH_TRIPLE_RIGHT = 80
    PUNCH_TRIPLE_BOTTOM = 81
    PUNCH_QUAD_LEFT = 82
    PUNCH_QUAD_TOP = 83
    PUNCH_QUAD_RIGHT = 84
    PUNCH_QUAD_BOTTOM = 85
    PUNCH_MULTIPLE_LEFT = 86
    PUNCH_MULTIPLE_TOP = 87
    PUNCH_MULTIPLE_RIGHT = 88
    PUNCH_MULTIPLE_BOTTOM = 89
    FOLD_ACCORDION = 90
    FOLD_DOUBLE_GATE = 91
    FOLD_GATE = 92
    FOLD_HALF = 93
    FOLD_HALF_Z = 94
    FOLD_LEFT_GATE = 95
    FOLD_LETTER = 96
    FOLD_PARALLEL = 97
    FOLD_POSTER = 98
    FOLD_RIGHT_GATE = 99
    FOLD_Z = 100
    FOLD_ENGINEERING_Z = 101

    @property
    def keyword(self) -> str:
        return self.name.lower().replace("_", "-")

    @classmethod
    def from_keyword(cls, keyword: str) -> Finishing:
        """``staple-top-left`` → Finishing.STAPLE_TOP_LEFT; KeyError if not registered."""
        return cls[keyword.upper().replace("-", "_")]


#: Enum attributes whose values have keywords, for display.
_ENUM_KEYWORDS: dict[str, type[IntEnum]] = {
    "finishings": Finishing,
    "finishings-default": Finishing,
    "finishings-supported": Finishing,
    "finishings-ready": Finishing,
    "job-state": JobState,
    "printer-state": PrinterState,
    "operations-supported": Operation,
}


def enum_keyword(attribute_name: str, value: int) -> str | None:
    """The keyword of an enum value of a known attribute (``finishings`` 20 →
    ``staple-top-left``), or None."""
    enum_type = _ENUM_KEYWORDS.get(attribute_name)
    if enum_type is None:
        return None
    try:
        member = enum_type(value)
    except ValueError:
        return None
    if isinstance(member, Operation):
        return operation_name(value)
    return member.name.lower().replace("_", "-")
