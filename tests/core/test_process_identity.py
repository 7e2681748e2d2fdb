"""Naming a process so that another can tell, later, whether it still runs (printmgmt/
process_identity.py): known only on the same machine, never fooled by a reused process id."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from printmgmt import process_identity
from tests.children import ended_process_name


def test_this_process_is_named_by_host_boot_pid_and_start_and_is_not_gone() -> None:
    name = process_identity.current()
    host, boot, pid, start = name.split("/")
    assert (host, pid) == (socket.gethostname(), str(os.getpid()))
    assert boot == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    assert start.isdigit()
    assert not process_identity.is_gone(name)


def test_an_ended_process_is_gone() -> None:
    assert process_identity.is_gone(ended_process_name())


def test_a_reused_process_id_is_another_process() -> None:
    host, boot, pid, start = process_identity.current().split("/")
    assert process_identity.is_gone(f"{host}/{boot}/{pid}/{int(start) + 1}")


@pytest.mark.parametrize(
    "elsewhere",
    [
        "other-{host}/{boot}",  # another machine
        "{host}/not-this-boot",  # this machine, before it restarted
        "{host}/",  # named where the boot could not be read
    ],
)
def test_a_process_of_another_machine_or_boot_is_never_taken_for_gone(elsewhere: str) -> None:
    host, boot, pid, start = ended_process_name().split("/")
    where = elsewhere.format(host=host, boot=boot)
    assert not process_identity.is_gone(f"{where}/{pid}/{start}")


@pytest.mark.parametrize("name", ["", "garbage", "a/b/c", "a/b/c/d/e", "host/boot/pid/1"])
def test_a_name_that_is_not_one_is_never_taken_for_gone(name: str) -> None:
    assert not process_identity.is_gone(name)


def test_without_proc_a_process_has_no_name_and_nothing_is_gone(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ended = ended_process_name()
    monkeypatch.setattr(process_identity, "PROC", tmp_path)
    assert process_identity.current() == ""
    assert not process_identity.is_gone(ended)
