"""Mutated real requests: the server answers every one properly and keeps serving."""

from __future__ import annotations

import random
import time
from pathlib import Path

import httpx
import pytest

from apps.jobs.choices import TERMINAL_STATES
from apps.jobs.models import Job
from printmgmt.ipp import (
    Attribute,
    Collection,
    IppDecodeError,
    Operation,
    RangeOfInteger,
    Status,
    decode,
    encode,
)
from tests.ippserver.conftest import IppTester, Printing, spool_entries
from tests.pdfs import make_pdf

MUTATIONS = 1000
TIME_LIMIT_S = 120.0


def _seeds(ipp: IppTester, pdf: bytes) -> list[bytes]:
    """Real requests as clients send them, documents included."""
    media_col = Collection(
        (
            Attribute.collection(
                "media-size",
                Collection(
                    (
                        Attribute.integer("x-dimension", 21000),
                        Attribute.integer("y-dimension", 29700),
                    )
                ),
            ),
        )
    )
    print_job = ipp.request(
        Operation.PRINT_JOB,
        operation_attributes=[
            Attribute.name_("job-name", "fuzz"),
            Attribute.mime_media_type("document-format", "application/pdf"),
        ],
        job_attributes=[
            Attribute.integer("copies", 2),
            Attribute.enum("finishings", 3),
            Attribute.range_of_integer("page-ranges", RangeOfInteger(1, 1)),
            Attribute.collection("media-col", media_col),
        ],
    )
    return [
        encode(print_job) + pdf,
        encode(ipp.request(Operation.GET_PRINTER_ATTRIBUTES)),
        encode(
            ipp.request(
                Operation.GET_JOBS,
                operation_attributes=[Attribute.keyword("requested-attributes", "all")],
            )
        ),
        encode(ipp.request(Operation.CREATE_JOB)),
        encode(ipp.request(Operation.GET_JOB_ATTRIBUTES, job_id=1)),
        encode(ipp.request(Operation.CLOSE_JOB, job_id=2)),
        encode(
            ipp.request(
                Operation.GET_JOBS, operation_attributes=[Attribute.integer("job-ids", 1, 3)]
            )
        ),
        encode(
            ipp.request(
                Operation.CANCEL_MY_JOBS, operation_attributes=[Attribute.integer("job-ids", 4, 5)]
            )
        ),
    ]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    mutated = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        # Most of the interest is in the header and attributes, so aim there.
        limit = min(len(mutated), 400) or 1
        where = rng.randrange(limit)
        kind = rng.choice(("flip", "byte", "insert", "delete", "truncate", "duplicate"))
        if kind == "flip" and mutated:
            mutated[where] ^= 1 << rng.randrange(8)
        elif kind == "byte" and mutated:
            mutated[where] = rng.choice((0x00, 0x01, 0x03, 0x10, 0x34, 0x37, 0x4A, 0x7F, 0xFF))
        elif kind == "insert":
            mutated[where:where] = rng.randbytes(rng.randint(1, 8))
        elif kind == "delete":
            del mutated[where : where + rng.randint(1, 8)]
        elif kind == "truncate":
            del mutated[where:]
        else:
            mutated[where:where] = mutated[where : where + rng.randint(1, 40)]
    return bytes(mutated)


def test_mutated_requests_get_answers_and_the_server_keeps_serving(
    ipp: IppTester, printing: Printing, tmp_path: Path
) -> None:
    pdf = make_pdf(tmp_path / "doc.pdf", 1).read_bytes()
    seeds = _seeds(ipp, pdf)
    rng = random.Random(20261122)
    before = spool_entries()
    auth = (printing.username, printing.password)
    started = time.monotonic()
    statuses: dict[int, int] = {}
    with httpx.Client(timeout=30) as client:
        for number in range(MUTATIONS):
            if time.monotonic() - started > TIME_LIMIT_S:
                pytest.fail(f"only {number} mutated requests in {TIME_LIMIT_S}s")
            body = _mutate(rng, rng.choice(seeds))
            response = client.post(
                ipp.url,
                content=body,
                headers={"content-type": "application/ipp"},
                auth=auth,
            )
            assert response.status_code in (200, 400, 413), (number, body[:80])
            if response.status_code != 200:
                continue
            try:
                answer = decode(response.content)
            except IppDecodeError as error:
                pytest.fail(f"undecodable answer to mutation {number}: {error}")
            assert answer.status_code != Status.SERVER_ERROR_INTERNAL_ERROR, (number, body[:200])
            statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
    # The mutations reached past the parser: some were refused, some still worked.
    assert statuses.get(Status.CLIENT_ERROR_BAD_REQUEST, 0) > 0
    assert statuses.get(Status.SUCCESSFUL_OK, 0) > 0
    assert ipp.print_job(auth, pdf).status_code == Status.SUCCESSFUL_OK
    # Every document in the spool is a job's that has not ended (an ended job's is deleted).
    kept = {job.document_name for job in Job.objects.exclude(state__in=TERMINAL_STATES)}
    assert spool_entries() - before == kept
