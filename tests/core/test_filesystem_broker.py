"""The embedded default's broker (printmgmt/filesystem_broker.py): a consumer never reads a
message or an exchange table half written, and a file that is no message is set aside.

kombu's own file-system channel created a message's file before writing it, and a worker that
listed the queue folder in between read it empty: it died of the JSONDecodeError (seen 0.05 s
after celery beat queued a heartbeat, which ended `make run`) and the message was lost.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from queue import Empty

import pytest
from kombu import Connection, Exchange
from kombu.transport import filesystem

from tests.children import ROOT

TRANSPORT = "printmgmt.filesystem_broker:Transport"


def broker(folder: Path) -> Connection:
    """A connection to the embedded broker whose folders are under `folder`."""
    for name in ("queue", "processed", "control"):
        (folder / name).mkdir(parents=True, exist_ok=True)
    return Connection(
        "filesystem://localhost/",
        transport=TRANSPORT,
        transport_options={
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "unreadable_folder": str(folder / "unreadable"),
        },
    )


def channel_of(connection: Connection) -> filesystem.Channel:
    channel = connection.default_channel
    assert isinstance(channel, filesystem.Channel)
    return channel


def test_a_message_is_not_found_while_it_is_being_written(tmp_path: Path) -> None:
    with broker(tmp_path) as producer, broker(tmp_path) as consumer:
        found_meanwhile: list[object] = []

        class LooksForItsOwnMessage:
            """Part of the message: the consumer looks for it while it is written out."""

            def __json__(self) -> str:
                try:
                    found_meanwhile.append(channel_of(consumer)._get("jobs"))
                except Empty:
                    found_meanwhile.append(None)
                return "whole"

        channel_of(producer)._put("jobs", {"body": LooksForItsOwnMessage()})

        assert found_meanwhile == [None]
        assert channel_of(consumer)._get("jobs") == {"body": "whole"}


@pytest.mark.parametrize(
    "content",
    [b"", b'{"body": "cut sh', b"\xff\xfe", b"[1, 2]"],
    ids=["empty", "cut short", "not UTF-8", "JSON but no message"],
)
def test_a_file_that_is_no_message_is_moved_aside_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    with broker(tmp_path) as connection:
        channel = channel_of(connection)
        # Sorted before the message put after it ("0" comes before any clock reading).
        (tmp_path / "queue" / "0_unreadable.jobs.msg").write_bytes(content)
        channel._put("jobs", {"body": "whole"})

        with caplog.at_level(logging.WARNING, logger="printmgmt.filesystem_broker"):
            assert channel._get("jobs") == {"body": "whole"}

        assert (tmp_path / "unreadable" / "0_unreadable.jobs.msg").read_bytes() == content
        assert "0_unreadable.jobs.msg is unreadable" in caplog.text
        with pytest.raises(Empty):
            channel._get("jobs")
        assert os.listdir(tmp_path / "queue") == []
        assert os.listdir(tmp_path / "processed") == []


PRODUCERS = 4
MESSAGES_EACH = 200


def start_at_once(
    code: str, *arguments: str, count: int, environment: dict[str, str] | None = None
) -> list[subprocess.Popen[str]]:
    """`count` processes running `code` with `arguments`, then their number and a moment a
    few seconds ahead, when they are all running, at which each is to begin."""
    start = str(time.time() + 3)
    return [
        subprocess.Popen(
            [sys.executable, "-c", code, *arguments, str(number), start],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for number in range(count)
    ]


PRODUCE = """
import sys, time
from pathlib import Path
from kombu import Exchange, Queue
from tests.core.test_filesystem_broker import broker

folder, count, number, start = sys.argv[1:]
with broker(Path(folder)) as connection:
    while time.time() < float(start):
        time.sleep(0.001)
    # Every producer binds a queue of its own to one fanout exchange at the same moment, as
    # workers bind theirs to celery.pidbox, then publishes to the queue they share.
    Queue(f"listener-{number}", Exchange("broadcast", type="fanout")).bind(
        connection.default_channel
    ).declare()
    jobs = connection.SimpleQueue("jobs")
    for index in range(int(count)):
        jobs.put({"producer": int(number), "index": index, "padding": "x" * 4000})
"""


def test_messages_from_several_processes_are_each_read_once_and_whole(tmp_path: Path) -> None:
    producers = start_at_once(PRODUCE, str(tmp_path), str(MESSAGES_EACH), count=PRODUCERS)
    received: Counter[tuple[int, int]] = Counter()
    with broker(tmp_path) as connection:
        jobs = connection.SimpleQueue("jobs")
        deadline = time.monotonic() + 90
        while sum(received.values()) < PRODUCERS * MESSAGES_EACH and time.monotonic() < deadline:
            try:
                message = jobs.get(timeout=0.005)
            except jobs.Empty:
                if all(producer.poll() is not None for producer in producers) and not any(
                    name.endswith(".jobs.msg") for name in os.listdir(tmp_path / "queue")
                ):
                    break
                continue
            received[message.payload["producer"], message.payload["index"]] += 1
            assert len(message.payload["padding"]) == 4000
            message.ack()
        for producer in producers:
            _, errors = producer.communicate(timeout=60)
            assert producer.returncode == 0, errors[-3000:]

        assert received == Counter(
            {(number, index): 1 for number in range(PRODUCERS) for index in range(MESSAGES_EACH)}
        )

        # No binding was lost to another process's: a broadcast reaches every listener.
        channel = connection.default_channel
        connection.Producer(channel).publish(
            {"to": "all"}, exchange=Exchange("broadcast", type="fanout"), declare=[]
        )
        for number in range(PRODUCERS):
            listener = connection.SimpleQueue(f"listener-{number}")
            assert listener.get(timeout=1).payload == {"to": "all"}


PUBLISH_TASKS = """
import sys, time
import django

django.setup()
from tests.core.broker_tasks import record_mark

path, count, number, start = sys.argv[1:]
while time.time() < float(start):
    time.sleep(0.001)
for index in range(int(count)):
    record_mark.delay(path, f"{number}-{index}")
"""

TASKS_EACH = 20
#: As `make run` starts it (scripts/run.sh), with the test's task.
WORKER_OPTIONS = ["--loglevel=INFO", "--concurrency=2", "--include=tests.core.broker_tasks"]


def test_a_real_worker_runs_every_task_once_while_several_processes_publish(
    tmp_path: Path,
) -> None:
    """The product's own settings (no CELERY_BROKER_URL: the embedded default) and worker."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("CELERY_BROKER_URL", "DATABASE_URL", "CACHE_URL")
    }
    environment["PRINTMGMT_DATA_DIR"] = str(tmp_path / "var")
    environment["DJANGO_SETTINGS_MODULE"] = "printmgmt.settings"
    marks = tmp_path / "marks.txt"
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "printmgmt", "worker", *WORKER_OPTIONS],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while " ready." not in log_path.read_text() and time.monotonic() < deadline:
            assert worker.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.2)
        assert " ready." in log_path.read_text(), log_path.read_text()[-3000:]

        publishers = start_at_once(
            PUBLISH_TASKS, str(marks), str(TASKS_EACH), count=PRODUCERS, environment=environment
        )
        for publisher in publishers:
            _, errors = publisher.communicate(timeout=120)
            assert publisher.returncode == 0, errors[-3000:]
        expected = Counter(
            f"{number}-{index}" for number in range(PRODUCERS) for index in range(TASKS_EACH)
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            not marks.exists() or len(marks.read_text().splitlines()) < expected.total()
        ):
            assert worker.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.2)
        time.sleep(1)  # a task run twice would show by now

        assert Counter(marks.read_text().splitlines()) == expected
        assert worker.poll() is None, log_path.read_text()[-3000:]
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=30)
    log_text = log_path.read_text()
    assert "Unrecoverable error" not in log_text, log_text[-3000:]
    assert "is unreadable" not in log_text, log_text[-3000:]
