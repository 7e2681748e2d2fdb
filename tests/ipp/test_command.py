"""`manage.py ipp ...` through call_command (no database needed)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.printers.management.commands.ipp import _job_state
from printmgmt.ipp import (
    Attribute,
    AttributeGroup,
    DateTime,
    GroupTag,
    Message,
    RangeOfInteger,
    RawValue,
    Resolution,
    TextWithLanguage,
    ValueTag,
    encode,
)
from printmgmt.ipp.client import IppClient, SubmittedJob
from tests.peers import Cupsd, IppEvePrinter, free_port

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[int, str, str]:
    """Run the command; returns (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    status: object = 0
    try:
        call_command("ipp", *args, stdout=out, stderr=err)
    except SystemExit as leaving:
        status = leaving.code
    assert isinstance(status, int)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def saved_response(tmp_path: Path) -> Path:
    printer = AttributeGroup(
        GroupTag.PRINTER,
        (
            Attribute.keyword("printer-name", "office"),
            Attribute.enum("finishings-supported", 3, 20, 74),
            Attribute.enum("orientation-requested-supported", 3, 4),
            Attribute.collection(
                "media-col-default",
                [
                    Attribute.collection(
                        "media-size",
                        [
                            Attribute.integer("x-dimension", 21000),
                            Attribute.integer("y-dimension", 29700),
                        ],
                    ),
                    Attribute.keyword("media-source", "main"),
                ],
            ),
            Attribute.boolean("color-supported", False),
            Attribute.octet_string("vendor-blob", b"\x01\x02"),
            Attribute.of("com.vendor-tag", 0x60, RawValue(b"\xff")),
            Attribute.of(
                "printer-info", ValueTag.TEXT_WITH_LANGUAGE, TextWithLanguage("Büro", "de")
            ),
            Attribute.resolution("printer-resolution-default", Resolution(600, 600, 3)),
            Attribute.range_of_integer("copies-supported", RangeOfInteger(1, 99)),
            Attribute.date_time(
                "printer-current-time", DateTime(2026, 1, 2, 3, 4, 5, 0, "+", 0, 0)
            ),
            Attribute.out_of_band("printer-alert", ValueTag.UNKNOWN),
        ),
    )
    path = tmp_path / "answer.ipp"
    path.write_bytes(encode(Message.response(0, 9, groups=[printer])))
    return path


def test_decode_prints_one_line_per_attribute(saved_response: Path) -> None:
    status, out, err = run("decode", str(saved_response), "--response")
    assert status == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == "version 2.0  successful-ok  request-id 9"
    assert "---- printer-attributes-tag ----" in lines
    assert "finishings-supported (1setOf enum) = none,staple-top-left,punch-dual-left" in lines
    assert (
        "media-col-default (collection) = "
        "{media-size={x-dimension=21000 y-dimension=29700} media-source=main}"
    ) in lines
    assert "color-supported (boolean) = false" in lines
    assert "orientation-requested-supported (1setOf enum) = 3,4" in lines
    assert "printer-alert (unknown) = unknown" in lines


def test_decode_names_the_operation_of_a_request(tmp_path: Path) -> None:
    path = tmp_path / "request.ipp"
    path.write_bytes(encode(Message.request(0x4002, 1)))
    status, out, _ = run("decode", str(path))
    assert status == 0
    assert out.splitlines()[0] == "version 2.0  CUPS-Get-Printers  request-id 1"


def test_decode_json(saved_response: Path) -> None:
    status, out, _ = run("decode", str(saved_response), "--json")
    assert status == 0
    data = json.loads(out)
    assert data["version"] == "2.0"
    assert data["data-offset"] == saved_response.stat().st_size
    operation, printer = data["groups"]
    assert operation["tag"] == "operation-attributes-tag"
    assert [a["name"] for a in operation["attributes"]] == [
        "attributes-charset",
        "attributes-natural-language",
    ]
    by_name = {a["name"]: a for a in printer["attributes"]}
    assert by_name["finishings-supported"] == {
        "name": "finishings-supported",
        "syntax": "1setOf enum",
        "values": [3, 20, 74],
    }
    media = by_name["media-col-default"]["values"][0]
    assert media["media-size"]["values"][0]["x-dimension"]["values"] == [21000]
    assert media["media-source"] == {
        "name": "media-source",
        "syntax": "keyword",
        "values": ["main"],
    }
    assert by_name["vendor-blob"]["values"] == [{"hex": "0102"}]
    assert by_name["com.vendor-tag"]["values"] == [{"hex": "ff"}]
    assert by_name["printer-info"]["values"] == [{"text": "Büro", "language": "de"}]
    assert by_name["printer-resolution-default"]["values"] == [
        {"cross-feed": 600, "feed": 600, "units": 3}
    ]
    assert by_name["copies-supported"]["values"] == [{"lower": 1, "upper": 99}]
    assert by_name["printer-current-time"]["values"] == ["2026-01-02T03:04:05.0+0000"]
    assert by_name["printer-alert"]["syntax"] == "unknown"
    assert by_name["printer-alert"]["values"] == [None]


def test_decode_of_a_malformed_file_says_where(tmp_path: Path) -> None:
    path = tmp_path / "bad.ipp"
    path.write_bytes(b"\x02\x00\x00\x0b\x00\x00\x00\x01\x01\x44\x00\x01a\x00\x09abc")
    status, out, err = run("decode", str(path))
    assert status == 2
    assert out == ""
    assert err == "offset 13: value length 9 runs past the end of the message\n"


def test_decode_of_a_missing_file(tmp_path: Path) -> None:
    status, _, err = run("decode", str(tmp_path / "nothing.ipp"))
    assert status == 2
    assert err.strip() == f"{tmp_path / 'nothing.ipp'}: No such file or directory"


def test_unreachable_printer_is_one_line_and_status_1() -> None:
    status, out, err = run("attrs", f"ipp://127.0.0.1:{free_port()}/ipp/print", "--timeout", "5")
    assert status == 1
    assert out == ""
    assert err.startswith("error: ipp://127.0.0.1:")
    assert "cannot connect" in err
    assert err.count("\n") == 1


def test_wrong_uri_is_bad_input() -> None:
    status, _, err = run("jobs", "lpd://printer/queue")
    assert status == 2
    assert "not an IPP printer URI" in err


def test_print_refuses_bad_options_and_missing_files(tmp_path: Path) -> None:
    document = tmp_path / "doc.pdf"
    document.write_bytes(b"%PDF")
    uri = f"ipp://127.0.0.1:{free_port()}/ipp/print"
    status, _, err = run("print", uri, str(document), "-o", "finishings=staple-everywhere")
    assert (status, err.strip()) == (2, "error: finishings: unknown value 'staple-everywhere'")
    status, _, err = run("print", uri, str(tmp_path / "missing.pdf"))
    assert status == 2
    assert "no such file" in err


def test_command_line_exit_status_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.ipp"
    path.write_bytes(b"\x02\x00")
    result = subprocess.run(
        [sys.executable, "manage.py", "ipp", "decode", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "offset 0: 8-byte header runs past the end of the message"
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------- against the peers


@pytest.mark.peers
def test_attrs_against_ippeveprinter(ippeveprinter: IppEvePrinter) -> None:
    status, out, _ = run("attrs", ippeveprinter.uri, "-a", "finishings-supported")
    assert status == 0
    assert out.splitlines() == [
        "finishings-supported (1setOf enum) = none,staple,booklet-maker,jog-offset,"
        "staple-top-left,staple-bottom-left,staple-top-right,staple-bottom-right,"
        "staple-dual-left,punch-dual-left,punch-dual-top,fold-half"
    ]
    status, out, _ = run("attrs", ippeveprinter.uri, "--json", "-a", "printer-state")
    assert json.loads(out) == [{"name": "printer-state", "syntax": "enum", "values": [3]}]


@pytest.mark.peers
def test_print_jobs_and_cancel(ippeveprinter: IppEvePrinter, pdf_file: Path) -> None:
    status, out, err = run(
        "print",
        ippeveprinter.uri,
        str(pdf_file),
        "-o",
        "finishings=staple-top-left,punch-dual-left",
        "-o",
        "cover-front={cover-type=print-front media-col={media-source=by-pass-tray}}",
        "--job-name",
        "from the command",
    )
    assert status == 0, err
    job_id = int(out.split()[1])
    status, out, _ = run("jobs", ippeveprinter.uri, "--all")
    assert status == 0
    assert f"{job_id}\t" in out
    assert "from the command" in out
    # Printed jobs finish at once (the print command is /bin/true): cancel a created one.
    with IppClient(ippeveprinter.uri) as client:
        waiting = client.create_job(job_name="waits for its document")
    status, out, _ = run("cancel", ippeveprinter.uri, str(waiting.job_id))
    assert (status, out) == (0, f"job {waiting.job_id} canceled\n")
    status, _, err = run("cancel", ippeveprinter.uri, "99999")
    assert status == 1
    assert "[client-error-not-found]" in err


@pytest.mark.peers
def test_printers_of_cupsd(cupsd: Cupsd, ippeveprinter: IppEvePrinter) -> None:
    cupsd.add_queue("listed", ippeveprinter.uri)
    status, out, _ = run("printers", cupsd.uri)
    assert status == 0
    assert any(line.startswith("listed\tidle\tipp://") for line in out.splitlines())


@pytest.mark.peers
def test_print_refused_by_the_printer(ippeveprinter: IppEvePrinter, pdf_file: Path) -> None:
    status, out, err = run("print", ippeveprinter.uri, str(pdf_file), "-o", "sides=sideways")
    assert (status, out) == (1, "")
    assert err == (
        "error: Print-Job: Unsupported sides keyword value. "
        "[client-error-attributes-or-values-not-supported] (unsupported: sides)\n"
    )


def test_print_warns_about_ignored_attributes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # No peer answers successful-ok-ignored-or-substituted-attributes on demand.
    def accept_but_ignore(client: IppClient, *args: object, **kwargs: object) -> SubmittedJob:
        return SubmittedJob(7, None, None, 1, ("com.example-x",))

    monkeypatch.setattr(IppClient, "print_job", accept_but_ignore)
    document = tmp_path / "doc.pdf"
    document.write_bytes(b"%PDF")
    status, out, err = run("print", "ipp://printer.test/", str(document), "-o", "com.example-x=1")
    assert (status, out) == (0, "job-id 7 (state unknown)\n")
    assert err == "warning: the printer ignored or changed: com.example-x\n"


@pytest.mark.peers
def test_basic_auth_options(cupsd: Cupsd, ippeveprinter: IppEvePrinter) -> None:
    if cupsd.auth_user is None or cupsd.auth_password is None:
        pytest.skip("no mount namespace here, so no private PAM configuration for cupsd")
    secure = cupsd.add_queue("command-secure", ippeveprinter.uri, requires_auth=True)
    status, _, err = run("attrs", secure, "-a", "printer-state")
    assert status == 1
    assert "[client-error-not-authenticated]" in err
    status, out, _ = run(
        "attrs",
        secure,
        "-a",
        "printer-state",
        "--user",
        cupsd.auth_user,
        "--password",
        cupsd.auth_password,
    )
    assert (status, out) == (0, "printer-state (enum) = idle\n")


@pytest.mark.parametrize(
    ("state", "text"), [(None, "state unknown"), (5, "processing"), (42, "42")]
)
def test_job_state_text(state: int | None, text: str) -> None:
    assert _job_state(state) == text
