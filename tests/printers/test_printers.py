"""Printers added by URI (probed), refreshed, imported from CUPS; the `printer` command."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import override_settings
from django.utils import translation

from apps.accounts.roles import STAFF
from apps.accounts.services import user_create
from apps.ippserver.models import PrintingProfile
from apps.ippserver.services import default_printer_set
from apps.jobs import pipeline
from apps.jobs.choices import JobSource, JobState
from apps.jobs.services import job_create_held, job_transition
from apps.printers.choices import PrinterKind, PrinterState
from apps.printers.cups_sync import (
    CupsSyncReport,
    RenamedQueue,
    cups_server_key,
    printer_import_cups,
)
from apps.printers.editing import SidePriceRow, printer_disable, printer_update
from apps.printers.groups import printer_group_create
from apps.printers.models import Printer, PrinterGroup
from apps.printers.services import (
    PrinterError,
    guess_kind,
    printer_add,
    printer_refresh,
    probe,
)
from apps.printers.tasks import refresh_printers
from apps.rules.models import RuleFile
from apps.rules.services import rule_file_activate, rule_file_save
from printmgmt.ipp import Message, Status, encode
from tests.pdfs import make_pdf
from tests.peers import (
    OFFICE_FINISHER_ATTRIBUTES,
    Cupsd,
    IppEvePrinter,
    IppEvePrinterFactory,
    free_port,
    run_cupsd,
    send_ipp_answer,
)

pytestmark = [pytest.mark.django_db, pytest.mark.peers]
ROOT = Path(__file__).resolve().parents[2]


def test_a_printer_is_probed_when_added(ippeveprinter: IppEvePrinter) -> None:
    printer = printer_add("hall", ippeveprinter.uri, location="Hall 1")
    assert printer.kind == PrinterKind.DRIVERLESS
    assert printer.state == PrinterState.IDLE
    assert printer.last_contact is not None
    assert 20 in printer.capabilities["finishings-supported"]
    assert printer.capabilities["printer-make-and-model"] == ["Example Finisher 9000"]
    assert printer.location == "Hall 1"


def test_a_probe_keeps_what_libcups_leaves_out_of_all_with_media_col_database(
    ippeveprinter_factory: IppEvePrinterFactory,
) -> None:
    """libcups (CUPS, ippeveprinter) answers "all" asked together with another name from its
    own list of names, which lacks cover-type-supported and number-up-layout-supported."""
    peer = ippeveprinter_factory(attributes=OFFICE_FINISHER_ATTRIBUTES)
    capabilities = probe(peer.uri).capabilities
    assert capabilities["cover-type-supported"] == [
        "no-cover", "print-none", "print-front", "print-back", "print-both"
    ]  # fmt: skip
    assert "lrtb" in capabilities["number-up-layout-supported"]


def test_a_bad_name_is_refused() -> None:
    with pytest.raises(PrinterError, match="is not a usable printer name"):
        printer_add("bad name!", "ipp://127.0.0.1/ipp/print")
    assert not Printer.objects.exists()


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("http://127.0.0.1/ipp/print", "is not a printer URI"),
        ("ipp:///no-host", "is not a printer URI"),
        ("ipp://127.0.0.1:99999/ipp/print", "the port must be a number from 1 to 65535"),
        ("ipp://127.0.0.1:abc/x", "the port must be a number from 1 to 65535"),
        ("ipp://127.0.0.1:0/x", "the port must be a number from 1 to 65535"),
        ("ipp://[bad/ipp/print", r"its host is not valid \(Invalid IPv6 URL\)"),
        ("ipp://printer example/x", "contains a space or a control character"),
        ("ipp://xn--zz/ipp/print", "is not a printer URI"),
    ],
)
def test_bad_uris_are_refused_when_adding_and_probing(uri: str, message: str) -> None:
    with pytest.raises(PrinterError, match=message):
        printer_add("ok", uri)
    with pytest.raises(PrinterError, match=message):
        probe(uri)
    assert not Printer.objects.exists()


@pytest.mark.parametrize(
    "uri", ["ipp://127.0.0.1:99999/ipp/print", "ipp://127.0.0.1:abc/x", "ipp://[bad/ipp/print"]
)
def test_malformed_uris_are_one_line_errors_of_the_command_and_the_cups_import(uri: str) -> None:
    with pytest.raises(CommandError, match="is not a printer URI"):
        call_command("printer", "add", "hall", "--uri", uri)
    with pytest.raises(CommandError, match="is not a printer URI"):
        call_command("printer", "import-cups", uri)
    assert not Printer.objects.exists()


def test_a_printer_that_is_down_is_not_added_and_says_why() -> None:
    uri = f"ipp://127.0.0.1:{free_port()}/ipp/print"
    with pytest.raises(PrinterError, match="cannot connect") as refused:
        printer_add("down", uri)
    assert str(refused.value).count(uri) == 1  # named once, not "URI: URI: cannot connect"
    server = f"ipp://127.0.0.1:{free_port()}/"
    with pytest.raises(CommandError, match="cannot connect") as not_imported:
        call_command("printer", "import-cups", server)
    assert str(not_imported.value).count(server.rstrip("/")) == 1
    assert not Printer.objects.exists()


class _OkWithNothingHandler(http.server.BaseHTTPRequestHandler):
    """An IPP service that is no printer: every request gets successful-ok and no attributes
    (as a misconfigured proxy or another kind of IPP service answers)."""

    def do_POST(self) -> None:
        # Our client streams its requests in chunks: the first holds the request id.
        self.rfile.readline()
        request_id = int.from_bytes(self.rfile.read(8)[4:8], "big")
        body = encode(Message.response(Status.SUCCESSFUL_OK, request_id))
        self.close_connection = True
        send_ipp_answer(self, body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextmanager
def _serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """A device on a free port answering with `handler`; its URI."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"ipp://127.0.0.1:{server.server_address[1]}/ipp/print"
    finally:
        server.shutdown()
        server.server_close()


def test_a_uri_that_answers_without_printer_attributes_is_not_added() -> None:
    with _serving(_OkWithNothingHandler) as uri:
        with pytest.raises(PrinterError, match="holds no printer attributes"):
            printer_add("not-a-printer", uri)
        with pytest.raises(CommandError, match=r"no printer-state\): check that the URI"):
            call_command("printer", "add", "not-a-printer", "--uri", uri)
    assert not Printer.objects.exists()


def test_a_location_too_long_is_refused_with_why(ippeveprinter: IppEvePrinter) -> None:
    # It was a database error (value too long) with a stack trace.
    with pytest.raises(CommandError, match=r"the location is longer than 200 characters \(201\)"):
        call_command("printer", "add", "hall", "--uri", ippeveprinter.uri, "--location", "x" * 201)
    assert not Printer.objects.exists()


def test_names_are_unique(ippeveprinter: IppEvePrinter) -> None:
    printer_add("hall", ippeveprinter.uri)
    with pytest.raises(PrinterError, match="exists already"):
        printer_add("hall", ippeveprinter.uri)


CASE_CLASH = (
    "a printer called 'Hall' exists already, and names that differ only in case are one "
    "printer's, as in CUPS"
)


def test_names_that_differ_only_in_case_are_one_printers(
    ippeveprinter: IppEvePrinter, cupsd: Cupsd
) -> None:
    hall = printer_add("Hall", ippeveprinter.uri)
    with pytest.raises(PrinterError) as refused:
        printer_add("hall", ippeveprinter.uri)
    assert (str(refused.value), refused.value.about) == (CASE_CLASH, PrinterError.NAME)
    with translation.override("de"), pytest.raises(PrinterError, match="nur in Groß- und Klein"):
        printer_add("HALL", ippeveprinter.uri)
    # Nor can two adds at the same moment make both: the database refuses the second.
    with pytest.raises(IntegrityError), transaction.atomic():
        Printer.objects.create(name="hALL", uri=ippeveprinter.uri, kind=PrinterKind.DRIVERLESS)
    with pytest.raises(PrinterError, match="a printer is called 'hall'"):
        printer_group_create("hall", [hall])
    # A CUPS queue of that name is the same queue to CUPS: not a second printer here.
    cupsd.add_queue("hall", ippeveprinter.uri)
    skipped = {queue.name: queue.reason for queue in printer_import_cups(cupsd.uri).skipped}
    assert skipped["hall"] == f"{CASE_CLASH.replace('already', 'already (added by hand)')}: " + (
        "rename one of them"
    )
    assert list(Printer.objects.filter(name__iexact="hall").values_list("name", flat=True)) == [
        "Hall"
    ]
    _remove_queue(cupsd, "hall")
    # Commands find it by the name in any case, as `lp -d` does.
    out = StringIO()
    call_command("printer", "refresh", "HALL", stdout=out)
    assert out.getvalue() == "Hall: idle\n"
    call_command("printer", "group", "add", "floor-1", "hall", stdout=out)
    assert list(PrinterGroup.objects.get(name="floor-1").printers.all()) == [hall]
    sam = user_create("sam", "pw-not-used-1", role=STAFF)
    call_command("printing", "sam", "--default-printer", "hALL", stdout=out)
    assert PrintingProfile.objects.get(user=sam).default_printer == hall


GROUP_CASE_CLASH = (
    "a printer group called 'Floor1' exists already, and names that differ only in case are "
    "one group's, as printers' are"
)


def test_printer_group_names_that_differ_only_in_case_are_one_groups() -> None:
    """ "Floor1" and "floor1" could both be made, while `lp -d` and the release page name either
    in one namespace with the printers, whose case does not count."""
    hall, lobby = (
        Printer.objects.create(name=name, uri="ipp://127.0.0.1:9/ipp/print") for name in "ab"
    )
    floor = printer_group_create("Floor1", [hall])
    with pytest.raises(PrinterError) as refused:
        printer_group_create("floor1", [lobby])
    assert (str(refused.value), refused.value.about) == (GROUP_CASE_CLASH, PrinterError.NAME)
    with translation.override("de"), pytest.raises(PrinterError) as refused:
        printer_group_create("FLOOR1", [lobby])
    assert str(refused.value) == (
        "eine Druckergruppe namens 'Floor1' gibt es bereits, und Namen, die sich nur in Groß- "
        "und Kleinschreibung unterscheiden, gehören wie bei Druckern zu einer Gruppe"
    )
    # Nor can two made at the same moment both be: the database refuses the second.
    with pytest.raises(IntegrityError), transaction.atomic():
        PrinterGroup.objects.create(name="fLOOR1")
    # The command finds it by the name in any case.
    out = StringIO()
    call_command("printer", "group", "add", "floor1", "b", stdout=out)
    assert out.getvalue() == "printer group Floor1: a, b\n"
    assert list(PrinterGroup.objects.values_list("name", flat=True)) == ["Floor1"]
    out = StringIO()
    call_command("printer", "group", "remove", "FLOOR1", stdout=out)
    assert out.getvalue() == "printer group Floor1 removed\n"
    assert not PrinterGroup.objects.filter(pk=floor.pk).exists()


def test_refresh_marks_an_unreachable_printer(ippeveprinter: IppEvePrinter) -> None:
    printer = printer_add("hall", ippeveprinter.uri)
    Printer.objects.filter(pk=printer.pk).update(uri=f"ipp://127.0.0.1:{free_port()}/ipp/print")
    refreshed = printer_refresh(printer.pk)
    assert refreshed.state == PrinterState.UNREACHABLE
    down = Printer.objects.get(pk=printer.pk).uri
    assert refreshed.state_message.startswith(f"{down}: cannot connect: ")
    assert refreshed.state_message.count(down) == 1
    Printer.objects.filter(pk=printer.pk).update(uri=ippeveprinter.uri)
    assert printer_refresh(printer.pk).state == PrinterState.IDLE


def test_a_printer_enabled_again_is_asked_for_its_state_at_once(
    ippeveprinter: IppEvePrinter,
) -> None:
    printer = printer_add("hall", ippeveprinter.uri)
    # Unreachable when it was disabled for repair; the refresh does not ask disabled printers.
    Printer.objects.filter(pk=printer.pk).update(
        state=PrinterState.UNREACHABLE, state_message="cannot connect"
    )
    printer_disable(printer.pk)

    def enable(uri: str) -> Printer:
        Printer.objects.filter(pk=printer.pk).update(uri=uri)
        return printer_update(
            printer.pk,
            location="",
            allowed_groups=None,
            rule_file=None,
            enabled=True,
            side_prices=[],
            trusted_certificate="",
        )

    repaired = enable(ippeveprinter.uri)
    assert (repaired.state, repaired.enabled) == (PrinterState.IDLE, True)
    assert Printer.objects.get(pk=printer.pk).state == PrinterState.IDLE
    # And one that went away while it was disabled is not shown as idle.
    printer_disable(printer.pk)
    gone_away = enable(f"ipp://127.0.0.1:{free_port()}/ipp/print")
    assert gone_away.state == PrinterState.UNREACHABLE
    assert "cannot connect" in gone_away.state_message


def test_cups_uris_are_queues() -> None:
    assert guess_kind("ipp://cups:631/printers/hall") == PrinterKind.CUPS_QUEUE
    assert guess_kind("ipp://cups:631/classes/all") == PrinterKind.CUPS_QUEUE
    assert guess_kind("ipps://printer.example/ipp/print") == PrinterKind.DRIVERLESS


def test_cups_import_keeps_the_list_in_sync(cupsd: Cupsd, ippeveprinter: IppEvePrinter) -> None:
    cupsd.add_queue("sync-a", ippeveprinter.uri)
    cupsd.add_queue("sync-b", ippeveprinter.uri)
    first = printer_import_cups(cupsd.uri)
    assert {"sync-a", "sync-b"} <= set(first.added)
    _remove_queue(cupsd, "sync-b")
    second = printer_import_cups(cupsd.uri)
    assert second.gone == ["sync-b"]
    assert "sync-a" in second.unchanged
    assert not Printer.objects.get(name="sync-b").enabled
    assert Printer.objects.get(name="sync-a").kind == PrinterKind.CUPS_QUEUE


def test_the_last_queue_removed_from_a_cups_server_is_gone_too(
    ippeveprinter: IppEvePrinter,
) -> None:
    with run_cupsd(with_auth=False) as cupsd:  # its own: no other test's queue left on it
        cupsd.add_queue("last-one", ippeveprinter.uri)
        assert printer_import_cups(cupsd.uri).added == ["last-one"]
        # CUPS answers CUPS-Get-Printers with not-found from now on.
        _remove_queue(cupsd, "last-one")
        out = StringIO()
        call_command("printer", "import-cups", cupsd.uri, stdout=out)
        assert out.getvalue() == "gone (disabled): last-one\n"
        printer = Printer.objects.get(name="last-one")
        assert (printer.enabled, printer.gone_from_cups_server) == (False, True)
        again = StringIO()
        call_command("printer", "import-cups", cupsd.uri, stdout=again)
        assert again.getvalue() == "the CUPS server has no queues\n"


def test_a_cups_sync_enables_again_only_the_queues_it_disabled_as_gone(
    cupsd: Cupsd, ippeveprinter: IppEvePrinter
) -> None:
    cupsd.add_queue("kept-off", ippeveprinter.uri)
    cupsd.add_queue("comes-back", ippeveprinter.uri)
    printer_import_cups(cupsd.uri)
    printer_disable(Printer.objects.get(name="kept-off").pk)
    _remove_queue(cupsd, "comes-back")
    assert printer_import_cups(cupsd.uri).gone == ["comes-back"]
    cupsd.add_queue("comes-back", ippeveprinter.uri)
    again = printer_import_cups(cupsd.uri)
    assert "comes-back" in again.changed
    assert "kept-off" in again.unchanged
    assert Printer.objects.get(name="comes-back").enabled
    assert not Printer.objects.get(name="kept-off").enabled
    # Gone and disabled by the administrator meanwhile: theirs to enable again.
    _remove_queue(cupsd, "comes-back")
    printer_import_cups(cupsd.uri)
    comes_back = Printer.objects.get(name="comes-back")
    printer_update(
        comes_back.pk,
        location="moved",
        allowed_groups=None,
        rule_file=None,
        enabled=False,
        side_prices=[],
        trusted_certificate="",
    )
    assert Printer.objects.get(name="comes-back").gone_from_cups_server  # location only
    printer_update(
        comes_back.pk,
        location="",
        allowed_groups=None,
        rule_file=None,
        enabled=True,
        side_prices=[],
        trusted_certificate="",
    )
    printer_disable(comes_back.pk)
    cupsd.add_queue("comes-back", ippeveprinter.uri)
    printer_import_cups(cupsd.uri)
    assert not Printer.objects.get(name="comes-back").enabled


def test_a_queue_an_administrator_disabled_is_marked_gone_and_stays_disabled_when_back(
    cupsd: Cupsd, ippeveprinter: IppEvePrinter
) -> None:
    cupsd.add_queue("switched-off", ippeveprinter.uri)
    cupsd.add_queue("synced-off", ippeveprinter.uri)
    printer_import_cups(cupsd.uri)
    printer_disable(Printer.objects.get(name="switched-off").pk)

    def flags(name: str) -> tuple[bool, bool, bool]:
        printer = Printer.objects.get(name=name)
        return printer.enabled, printer.gone_from_cups_server, printer.disabled_by_cups_sync

    _remove_queue(cupsd, "switched-off")
    _remove_queue(cupsd, "synced-off")
    assert printer_import_cups(cupsd.uri).gone == ["switched-off", "synced-off"]
    assert flags("switched-off") == (False, True, False)
    assert flags("synced-off") == (False, True, True)
    switched_off = Printer.objects.get(name="switched-off")
    # Shown as gone, not in the state it had while it existed.
    assert (switched_off.state, switched_off.state_message) == (
        PrinterState.UNREACHABLE,
        "the queue no longer exists on its CUPS server",
    )
    plain = StringIO()
    call_command("printer", "list", stdout=plain)
    (line,) = [line for line in plain.getvalue().splitlines() if line.startswith("switched-off")]
    assert line.endswith("(disabled: gone from its CUPS server)")
    assert printer_import_cups(cupsd.uri).gone == []  # said once
    cupsd.add_queue("switched-off", ippeveprinter.uri)
    cupsd.add_queue("synced-off", ippeveprinter.uri)
    back = printer_import_cups(cupsd.uri)
    assert {"switched-off", "synced-off"} <= set(back.changed)
    assert flags("switched-off") == (False, False, False)  # the administrator's choice
    assert flags("synced-off") == (True, False, False)
    assert Printer.objects.get(name="switched-off").state == PrinterState.IDLE


def _remove_queue(cupsd: Cupsd, name: str) -> None:
    subprocess.run(["lpadmin", "-h", cupsd.host_port, "-x", name], check=True, timeout=30)
    cupsd.queues.remove(name)


def test_import_cups_from_a_printer_says_it_is_not_a_cups_server(
    ippeveprinter: IppEvePrinter,
) -> None:
    with pytest.raises(PrinterError) as refused:
        printer_import_cups(ippeveprinter.uri)
    assert str(refused.value).startswith(
        f"{ippeveprinter.uri} is not a CUPS server: it does not list print queues ("
    )
    assert str(refused.value).endswith(
        "A printer is added by its own address with Add a printer (`printer add`)"
    )
    assert not Printer.objects.exists()


def test_a_cups_server_written_differently_is_the_same_server(
    cupsd: Cupsd, ippeveprinter: IppEvePrinter
) -> None:
    cupsd.add_queue("spelled", ippeveprinter.uri)
    assert "spelled" in printer_import_cups(cupsd.uri).added
    count = Printer.objects.count()
    for spelling in (
        f"ipp://127.0.0.1:{cupsd.port}",
        f"ipp://localhost:{cupsd.port}/",
        f"IPP://LOCALHOST:{cupsd.port}/printers/",
    ):
        report = printer_import_cups(spelling)
        assert "spelled" in report.changed + report.unchanged, spelling
        assert (report.added, report.skipped) == ([], [])
    assert Printer.objects.count() == count
    # The periodic sync asks the server as it was written last.
    assert Printer.objects.get(name="spelled").cups_server == f"ipp://LOCALHOST:{cupsd.port}/"
    _remove_queue(cupsd, "spelled")


RENAME_RULES = "*Staple org.savapage-finishings-staple\n*Staple *None 3\n*Staple TopLeft 20\n"


def test_a_queue_renamed_on_its_cups_server_keeps_its_printer_settings_and_jobs(
    ippeveprinter: IppEvePrinter, tmp_path: Path
) -> None:
    version = rule_file_save("hall-rules", RENAME_RULES)
    rule_file_activate(version.pk)
    staff = Group.objects.create(name="hall-staff")
    sam = user_create("sam", "pw-not-used-1", role=STAFF)
    with run_cupsd(with_auth=False) as cupsd:  # its own: one queue per device on it
        cupsd.add_queue("hall", ippeveprinter.uri)
        printer_import_cups(cupsd.uri, rule_file=version.rule_file)
        hall = Printer.objects.get(name="hall")
        printer_update(
            hall.pk,
            location="",
            allowed_groups=[staff],
            rule_file=version.rule_file,
            enabled=True,
            side_prices=[SidePriceRow("iso_a4_210x297mm", False, "", Decimal("0.1"), Decimal(0))],
            trusted_certificate="",
        )
        printer_group_create("floor-1", [hall])
        default_printer_set(sam, hall)
        # A job released to it that waits for its next attempt.
        job = job_create_held(
            sam, make_pdf(tmp_path / "memo.pdf", 1), title="memo", source=JobSource.WEB
        )
        job_transition(job.pk, JobState.RELEASED, reason="test", printer=hall)

        # Renamed there: CUPS has no rename, so the queue is removed and made anew (with a
        # new printer-uuid), on the same device.
        _remove_queue(cupsd, "hall")
        cupsd.add_queue("hall-east", ippeveprinter.uri)
        out = StringIO()
        call_command("printer", "import-cups", cupsd.uri, stdout=out)
        assert out.getvalue() == "renamed (settings kept): hall → hall-east\n"
        renamed = Printer.objects.get(pk=hall.pk)
        assert (renamed.name, renamed.uri, renamed.enabled) == (
            "hall-east",
            cupsd.queue_uri("hall-east"),
            True,
        )
        assert renamed.rule_file == version.rule_file
        assert list(renamed.allowed_groups.all()) == [staff]
        assert renamed.side_prices.get().one_sided == Decimal("0.1")
        assert list(renamed.groups.values_list("name", flat=True)) == ["floor-1"]
        assert PrintingProfile.objects.get(user=sam).default_printer == renamed
        assert Printer.objects.count() == 1
        assert pipeline.send(job.pk, task_id="t").at_printer

        # Removed, synced (gone), then made anew under another name: the gone one is taken
        # back under it, enabled again.
        _remove_queue(cupsd, "hall-east")
        assert printer_import_cups(cupsd.uri).gone == ["hall-east"]
        cupsd.add_queue("hall-west", ippeveprinter.uri)
        report = printer_import_cups(cupsd.uri)
        assert (report.renamed, report.added) == ([RenamedQueue("hall-east", "hall-west")], [])
        assert Printer.objects.get(pk=hall.pk).enabled

        # Two new queues of the same device: which one it became is not evident.
        _remove_queue(cupsd, "hall-west")
        cupsd.add_queue("hall-a", ippeveprinter.uri)
        cupsd.add_queue("hall-b", ippeveprinter.uri)
        report = printer_import_cups(cupsd.uri)
        assert (report.renamed, report.added, report.gone) == (
            [],
            ["hall-a", "hall-b"],
            ["hall-west"],
        )
        assert not Printer.objects.get(pk=hall.pk).enabled
        # Nor of two vanished ones, for one new queue of their device.
        _remove_queue(cupsd, "hall-a")
        _remove_queue(cupsd, "hall-b")
        cupsd.add_queue("hall-c", ippeveprinter.uri)
        report = printer_import_cups(cupsd.uri)
        assert (report.renamed, report.added, report.gone) == ([], ["hall-c"], ["hall-a", "hall-b"])
        # Made anew in another case: the same queue to CUPS, and here.
        _remove_queue(cupsd, "hall-c")
        cupsd.add_queue("Hall-C", ippeveprinter.uri)
        assert printer_import_cups(cupsd.uri).changed == ["Hall-C"]
        assert Printer.objects.filter(name__iexact="hall-c").get().name == "Hall-C"


def test_cups_server_keys() -> None:
    loopback = ("localhost", 631)
    assert cups_server_key("ipp://[::1]/") == cups_server_key("ipps://127.0.0.2:631") == loopback
    assert cups_server_key("ipp://Cups.Example.:8631/x") == ("cups.example", 8631)
    assert cups_server_key("ipp://cups.example/") != cups_server_key("ipp://cups.example:632/")


def test_a_cups_import_skips_the_queues_it_cannot_take_and_says_why(
    cupsd: Cupsd, ippeveprinter: IppEvePrinter
) -> None:
    by_hand = printer_add("lab-7", ippeveprinter.uri)
    too_long = "q" * 70
    for name in ("lab-7", "floor.2", too_long, "plain"):
        cupsd.add_queue(name, ippeveprinter.uri)
    out = StringIO()
    call_command("printer", "import-cups", cupsd.uri, stdout=out)
    lines = out.getvalue().splitlines()
    assert (
        "skipped lab-7: a printer called 'lab-7' exists already (added by hand): "
        "rename one of them" in lines
    )
    assert (
        f"skipped {too_long}: {too_long!r} is not a usable printer name: at most 64 "
        "characters, no spaces, control characters or any of /\\?'\"#@, and not starting "
        "with '-'" in lines
    )
    assert Printer.objects.get(name="floor.2").kind == PrinterKind.CUPS_QUEUE
    assert Printer.objects.get(name="plain").enabled
    assert not Printer.objects.filter(name=too_long[:64]).exists()
    kept = Printer.objects.get(name="lab-7")
    assert (kept.uri, kept.cups_server) == (by_hand.uri, "")
    for name in ("lab-7", "floor.2", too_long, "plain"):
        _remove_queue(cupsd, name)


def test_printer_command(ippeveprinter: IppEvePrinter, tmp_path: Path) -> None:
    out = StringIO()
    rules = ROOT / "ppdrules" / "driverless-ipp-everywhere.ppde"
    call_command(
        "printer", "add", "hall", "--uri", ippeveprinter.uri, "--rules", str(rules), stdout=out
    )
    assert out.getvalue().startswith("printer hall added: ipp://")
    listing = StringIO()
    call_command("printer", "list", "--json", stdout=listing)
    (row,) = json.loads(listing.getvalue())
    assert (row["name"], row["state"], row["rules"]) == (
        "hall",
        "idle",
        "driverless-ipp-everywhere",
    )
    plain = StringIO()
    call_command("printer", "list", stdout=plain)
    assert plain.getvalue().split()[:3] == ["hall", "idle", "ipp"]
    refreshed = StringIO()
    call_command("printer", "refresh", "hall", stdout=refreshed)
    assert refreshed.getvalue().strip() == "hall: idle"
    with pytest.raises(CommandError, match="there is no printer called 'nope'"):
        call_command("printer", "refresh", "nope")
    down = f"ipp://127.0.0.1:{free_port()}/ipp/print"
    Printer.objects.filter(name="hall").update(uri=down)
    unreachable = StringIO()
    call_command("printer", "refresh", "hall", stdout=unreachable)
    assert unreachable.getvalue().startswith(f"hall: unreachable ({down}: cannot connect: ")
    Printer.objects.filter(name="hall").update(uri=ippeveprinter.uri)
    with pytest.raises(CommandError, match="exists already"):
        call_command("printer", "add", "hall", "--uri", ippeveprinter.uri)


def test_printer_list_says_what_an_admin_needs_to_know_of_each_printer(
    cupsd: Cupsd, ippeveprinter: IppEvePrinter
) -> None:
    cupsd.add_queue("listed-gone", ippeveprinter.uri)
    cupsd.add_queue("listed-kept", ippeveprinter.uri)
    printer_import_cups(cupsd.uri)
    _remove_queue(cupsd, "listed-gone")
    printer_import_cups(cupsd.uri)
    _remove_queue(cupsd, "listed-kept")
    office = printer_add("Büro-2", ippeveprinter.uri)
    printer_update(
        office.pk,
        location="Zimmer 2",
        allowed_groups=[Group.objects.create(name="staff-a")],
        rule_file=None,
        enabled=True,
        side_prices=[],
        trusted_certificate="",
    )
    printer_group_create("floor-9", [office])
    Printer.objects.filter(pk=office.pk).update(uri=f"ipp://127.0.0.1:{free_port()}/ipp/print")
    printer_refresh(office.pk)
    out = StringIO()
    call_command("printer", "list", "--json", stdout=out)
    assert '"name": "Büro-2"' in out.getvalue()  # as it is written, not \u-escaped
    rows = {row["name"]: row for row in json.loads(out.getvalue())}
    office.refresh_from_db()
    assert rows["Büro-2"] == {
        "name": "Büro-2",
        "uri": office.uri,
        "kind": "ipp",
        "enabled": True,
        "gone_from_cups_server": False,
        "disabled_by_cups_sync": False,
        "state": "unreachable",
        "state_reasons": [],
        "state_message": office.state_message,
        "location": "Zimmer 2",
        "rules": None,
        "cups_server": None,
        "allowed_groups": ["staff-a"],
        "printer_groups": ["floor-9"],
        "last_contact": office.last_contact.isoformat() if office.last_contact else None,
    }
    assert "cannot connect" in office.state_message
    gone = rows["listed-gone"]
    assert (gone["enabled"], gone["gone_from_cups_server"], gone["allowed_groups"]) == (
        False,
        True,
        None,
    )
    assert gone["state_message"] == "the queue no longer exists on its CUPS server"
    assert (gone["state"], gone["state_reasons"]) == ("unreachable", [])  # not "idle" as it was
    assert gone["cups_server"] == f"{cupsd.uri.rstrip('/')}/"
    plain = StringIO()
    call_command("printer", "list", stdout=plain)
    (line,) = [line for line in plain.getvalue().splitlines() if line.startswith("listed-gone")]
    assert line.endswith("(disabled: gone from its CUPS server)")


def test_the_periodic_refresh_syncs_cups_servers_and_reads_printers_again(
    cupsd: Cupsd, ippeveprinter: IppEvePrinter
) -> None:
    cupsd.add_queue("periodic", ippeveprinter.uri)
    printer_import_cups(cupsd.uri)
    hall = printer_add("hall", ippeveprinter.uri)
    Printer.objects.filter(pk=hall.pk).update(state=PrinterState.UNKNOWN)
    _remove_queue(cupsd, "periodic")
    assert refresh_printers() >= 1
    assert not Printer.objects.get(name="periodic").enabled
    assert Printer.objects.get(pk=hall.pk).state == PrinterState.IDLE


@contextmanager
def _silent_device() -> Iterator[tuple[str, list[socket.socket]]]:
    """A host that takes connections and never answers (a printer hung, a CUPS server behind
    a firewall that drops): its ipp:// URI, and the connections it was given."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    taken: list[socket.socket] = []

    def take() -> None:
        while True:
            try:
                taken.append(listener.accept()[0])
            except OSError:  # closed: the test is over
                return

    threading.Thread(target=take, daemon=True).start()
    try:
        yield f"ipp://127.0.0.1:{listener.getsockname()[1]}", taken
    finally:
        listener.close()
        for connection_taken in taken:
            connection_taken.close()


@override_settings(IPP_TIMEOUT_SECONDS=1)
def test_the_periodic_refresh_asks_a_cups_server_that_does_not_answer_once(
    cupsd: Cupsd, ippeveprinter: IppEvePrinter
) -> None:
    names = ("far-a", "far-b", "far-c")
    for name in names:
        cupsd.add_queue(name, ippeveprinter.uri)
    printer_import_cups(cupsd.uri)
    hall = printer_add("hall", ippeveprinter.uri)
    contact = {p.name: p.last_contact for p in Printer.objects.filter(name__in=names)}
    assert all(contact.values())
    with _silent_device() as (silent, taken):
        # The CUPS server moved behind a firewall that drops what is sent to it.
        for name in names:
            Printer.objects.filter(name=name).update(
                cups_server=f"{silent}/", uri=f"{silent}/printers/{name}"
            )
        Printer.objects.filter(pk=hall.pk).update(state=PrinterState.UNKNOWN)
        refresh_printers()
        assert len(taken) == 1  # CUPS-Get-Printers; not once more for each of its queues
    for printer in Printer.objects.filter(name__in=names):
        assert printer.state == PrinterState.UNREACHABLE
        assert printer.state_message.startswith("its CUPS server cannot be reached: ipp://")
        assert "did not answer within" in printer.state_message
        assert printer.state_reasons == []
        assert printer.last_contact == contact[printer.name]
        assert printer.enabled
    assert Printer.objects.get(pk=hall.pk).state == PrinterState.IDLE
    for name in names:
        _remove_queue(cupsd, name)


@override_settings(IPP_TIMEOUT_SECONDS=2)
def test_printers_that_do_not_answer_are_asked_at_once_and_their_state_says_why(
    ippeveprinter: IppEvePrinter,
) -> None:
    printers = [printer_add(f"night-{n}", ippeveprinter.uri) for n in range(6)]
    with _silent_device() as (silent, _):
        Printer.objects.update(uri=f"{silent}/ipp/print")
        started = time.monotonic()
        assert refresh_printers() == 6
        # One after the other they would take 6 timeouts (12 s); at once, about one.
        assert time.monotonic() - started < 6
    for printer in printers:
        refreshed = Printer.objects.get(pk=printer.pk)
        assert refreshed.state == PrinterState.UNREACHABLE
        assert "did not answer within 2 s" in refreshed.state_message
        assert refreshed.state_reasons == []
        assert refreshed.last_contact == printer.last_contact


def test_a_refused_printer_add_or_cups_import_activates_no_rule_file_version(
    ippeveprinter: IppEvePrinter, tmp_path: Path
) -> None:
    rules = ROOT / "ppdrules" / "driverless-ipp-everywhere.ppde"
    call_command("printer", "add", "hall", "--uri", ippeveprinter.uri, "--rules", str(rules))
    rule_file = RuleFile.objects.get(name="driverless-ipp-everywhere")
    active = rule_file.active_version_id
    down = f"ipp://127.0.0.1:{free_port()}/ipp/print"
    for arguments, refusal in (
        (["add", "bad name", "--uri", ippeveprinter.uri], "is not a usable printer name"),
        (["add", "lobby", "--uri", "ipp://127.0.0.1:99999/x"], "is not a printer URI"),
        (["add", "lobby", "--uri", down], "cannot connect"),
        (["add", "hall", "--uri", ippeveprinter.uri], "exists already"),
        (["import-cups", f"ipp://127.0.0.1:{free_port()}/"], "cannot connect"),
    ):
        with pytest.raises(CommandError, match=refusal):
            call_command("printer", *arguments, "--rules", str(rules))
    rule_file.refresh_from_db()
    assert rule_file.active_version_id == active
    assert rule_file.versions.count() == 1
    assert list(Printer.objects.values_list("name", flat=True)) == ["hall"]
    # A broken rule file is refused after the printer answered: neither is kept.
    broken = tmp_path / "broken.ppde"
    broken.write_text("*SPConstraint: broken org.savapage-finishings-staple/!3\n")
    with pytest.raises(CommandError, match="fix the file"):
        call_command("printer", "add", "lobby", "--uri", ippeveprinter.uri, "--rules", str(broken))
    assert not RuleFile.objects.filter(name="broken").exists()
    assert list(Printer.objects.values_list("name", flat=True)) == ["hall"]


def test_an_ipps_printer_with_a_self_signed_certificate_is_added_trusting_it(
    ippeveprinter_factory: IppEvePrinterFactory, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    secure = ippeveprinter_factory(extra_args=["-K", str(keys)])
    uri = f"ipps://localhost:{secure.port}/ipp/print"
    with pytest.raises(CommandError, match="its certificate is not trusted"):
        call_command("printer", "add", "secure", "--uri", uri)
    # ippeveprinter made its self-signed certificate on that first TLS connection.
    certificate = keys / "localhost.crt"
    pem = certificate.read_text()
    notes = tmp_path / "notes.txt"
    notes.write_text("the printer's certificate is on the printer's web page\n")
    damaged = tmp_path / "damaged.pem"
    body = pem.splitlines()
    damaged.write_text("\n".join([body[0], body[1][::-1], *body[2:]]) + "\n")
    with_key = tmp_path / "with-key.pem"
    with_key.write_text(pem + "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
    for file, refusal in (
        (notes, "the trusted certificate is not a PEM certificate"),
        (damaged, "is not a certificate OpenSSL can read"),
        (with_key, "holds a private key: give only the printer's certificate"),
        (tmp_path / "missing.pem", "missing.pem: cannot be read as a PEM certificate"),
    ):
        with pytest.raises(CommandError, match=refusal):
            call_command("printer", "add", "secure", "--uri", uri, "--trust-certificate", file)
    assert not Printer.objects.exists()
    out = StringIO()
    call_command(
        "printer", "add", "secure", "--uri", uri, "--trust-certificate", certificate, stdout=out
    )
    assert out.getvalue().startswith("printer secure added: ipps://")
    printer = Printer.objects.get(name="secure")
    assert printer.trusted_certificate == pem.strip() + "\n"
    assert printer_refresh(printer.pk).state == PrinterState.IDLE


def test_an_ipps_cups_server_with_a_self_signed_certificate_is_imported_trusting_it(
    ippeveprinter: IppEvePrinter,
) -> None:
    with run_cupsd(with_auth=False) as cupsd:
        cupsd.add_queue("secure-hall", ippeveprinter.uri)
        uri = f"ipps://localhost:{cupsd.port}/"
        with pytest.raises(CommandError, match="its certificate is not trusted"):
            call_command("printer", "import-cups", uri)
        # cupsd made its self-signed certificate on that first TLS connection.
        (certificate,) = (cupsd.directory / "ssl").glob("*.crt")
        out = StringIO()
        call_command("printer", "import-cups", uri, "--trust-certificate", certificate, stdout=out)
        assert out.getvalue() == "added: secure-hall\n"
        hall = Printer.objects.get(name="secure-hall")
        assert hall.trusted_certificate == certificate.read_text().strip() + "\n"
        assert (hall.uri, hall.state) == (f"{uri}printers/secure-hall", PrinterState.IDLE)
        # The periodic sync asks it trusting the same certificate, for new queues too.
        cupsd.add_queue("secure-annex", ippeveprinter.uri)
        refresh_printers()
        annex = Printer.objects.get(name="secure-annex")
        assert (annex.trusted_certificate, annex.state) == (
            hall.trusted_certificate,
            PrinterState.IDLE,
        )


def test_printer_group_command(ippeveprinter: IppEvePrinter) -> None:
    hall = printer_add("hall", ippeveprinter.uri)
    printer_add("lobby", ippeveprinter.uri)
    printer_disable(hall.pk)

    def run(*arguments: str) -> str:
        out = StringIO()
        call_command("printer", "group", *arguments, stdout=out)
        return out.getvalue()

    assert run("list") == "there are no printer groups\n"
    assert run("add", "floor-2", "lobby") == "printer group floor-2: lobby\n"
    assert run("add", "floor-2", "hall") == "printer group floor-2: hall (disabled), lobby\n"
    for arguments, refusal in (
        (["add", "floor-3", "lobby", "nope", "gone"], "there is no printer called 'gone', 'nope'"),
        (["add", "floor 3", "lobby"], "'floor 3' is not a usable printer group name"),
        (["add", "hall", "lobby"], "a printer is called 'hall': a printer group needs another"),
        (["remove", "floor-3"], "there is no printer group called 'floor-3'"),
    ):
        with pytest.raises(CommandError, match=refusal):
            run(*arguments)
    with pytest.raises(CommandError, match="a printer group is called 'floor-2'"):
        call_command("printer", "add", "floor-2", "--uri", ippeveprinter.uri)
    assert run("list") == "floor-2: hall (disabled), lobby\n"
    assert run("remove", "floor-2") == "printer group floor-2 removed\n"
    assert not PrinterGroup.objects.exists()
    assert Printer.objects.count() == 2


#: How long calls run at once may take together: each of them asks printers (a CUPS import its
#: server, then its queues), each request bounded by IPP_TIMEOUT_SECONDS (15), on a machine
#: that may be loaded.
AT_ONCE_SECONDS = 120


def _at_once(count: int, work: Callable[[], object]) -> list[object]:
    """Run `work` in `count` threads started together (a double click, two admins); what each
    returned or raised, once all have ended. One still running after AT_ONCE_SECONDS fails the
    test saying so: left out, it made the outcomes look like a call that was never made."""
    start = threading.Barrier(count)
    outcomes: list[object] = []

    def run() -> None:
        start.wait()
        try:
            outcomes.append(work())
        except Exception as error:  # what each raised is what the test looks at
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + AT_ONCE_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    running = sum(thread.is_alive() for thread in threads)
    assert not running, f"{running} of {count} still running after {AT_ONCE_SECONDS} s: {outcomes}"
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_adding_or_importing_the_same_printers_twice_at_once_adds_them_once(
    cupsd: Cupsd, ippeveprinter: IppEvePrinter
) -> None:
    added = _at_once(2, lambda: printer_add("twin", ippeveprinter.uri))
    assert sum(isinstance(outcome, Printer) for outcome in added) == 1, added
    (refused,) = [outcome for outcome in added if not isinstance(outcome, Printer)]
    assert isinstance(refused, PrinterError), added
    assert str(refused) == "a printer called 'twin' exists already"

    cupsd.add_queue("twin-queue", ippeveprinter.uri)
    imports = _at_once(3, lambda: printer_import_cups(cupsd.uri))
    assert all(isinstance(report, CupsSyncReport) for report in imports), imports
    assert Printer.objects.filter(name="twin-queue").count() == 1
    _remove_queue(cupsd, "twin-queue")


@pytest.mark.django_db
def test_printer_list_says_why_a_printer_cannot_print_under_it() -> None:
    plain = StringIO()
    call_command("printer", "list", stdout=plain)
    assert plain.getvalue() == "there are no printers\n"
    why = "ipp://127.0.0.1:9/ipp/print: cannot connect: the connection was refused"
    Printer.objects.create(
        name="hall", uri="ipp://127.0.0.1:9/ipp/print", kind=PrinterKind.DRIVERLESS,
        state=PrinterState.UNREACHABLE,
        state_message=why,
    )  # fmt: skip
    Printer.objects.create(
        name="lobby", uri="ipp://127.0.0.1:10/ipp/print", kind=PrinterKind.DRIVERLESS,
        state=PrinterState.IDLE,
        state_message="Ready to print.",
    )  # fmt: skip
    plain = StringIO()
    call_command("printer", "list", stdout=plain)
    assert plain.getvalue().splitlines() == [
        "hall                 unreachable  ipp   ipp://127.0.0.1:9/ipp/print",
        f"    {why}",
        "lobby                idle         ipp   ipp://127.0.0.1:10/ipp/print",
    ]
