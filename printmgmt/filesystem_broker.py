"""The embedded default's broker: kombu's file-system transport, with message files and
exchange tables that a reader finds whole or not at all.

kombu 5.x's Channel._put creates `<time>_<uuid>.<queue>.msg` and only then locks and writes
it, while Channel._get renames and reads every `*.<queue>.msg` without waiting for that lock.
A worker that lists the folder in between reads an empty or partial file, dies of the
JSONDecodeError and the message is lost (kombu issue #1551). Exchange tables (the bindings in
the control folder that fanout and topic exchanges, so `celery inspect` and remote control,
are routed by) are created the same way, and a reader or a second binder then fails alike.

Here a message is written and flushed under a name no reader takes (`….msg.<hex>.part`) and
then published with one rename. A consumer claims it with one rename into the processed folder
(kombu moves it to the temporary directory, maybe another file system, where the move is a
copy that two consumers can make at once). A claimed file that still is no message (left by a
crash or an older version) is moved to the unreadable folder with a warning, and the next one
is taken. Tables are changed under an exclusive lock of a lock file beside them and replaced
whole, so readers take no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, virtual
from kombu.transport.filesystem import exchange_queue_t
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

Table = list[exchange_queue_t]

#: The transport options naming the folders the channel writes in, each with its default (the
#: first four are kombu's) and what it holds.
FOLDER_OPTIONS = {
    "data_folder_in": ("data_in", "messages waiting for a worker"),
    "data_folder_out": ("data_out", "messages being written (.part files) and sent"),
    "processed_folder": ("processed", "messages a worker has claimed"),
    "control_folder": ("control", "exchange tables, their lock files and .part files"),
    "unreadable_folder": ("unreadable", "claimed files that were no message"),
}


@dataclass(frozen=True)
class Folder:
    option: str
    path: Path
    holds: str


def folders(transport_options: Mapping[str, object]) -> list[Folder]:
    """Every folder the channel writes in, as the transport options name them."""
    return [
        Folder(option, Path(str(transport_options.get(option, default))), holds)
        for option, (default, holds) in FOLDER_OPTIONS.items()
    ]


class Channel(filesystem.Channel):
    # The signatures are kombu's filesystem channel's, which its stubs mark as overriding the
    # virtual channel's incompatibly, hence the ignores.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        # The same name as kombu's, so kombu's own readers (_size, _purge) see it too.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        try:
            _write_whole(path, dumps(payload).encode())
        except OSError as error:
            raise ChannelError(f"Cannot add file {path!r} to directory") from error

    def _get(self, queue: str) -> dict[str, Any]:  # type: ignore[override]
        wanted = f"{queue}.msg"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.partition(".")[2] != wanted:
                continue
            claimed = os.path.join(self.processed_folder, name)
            try:
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except OSError:
                continue  # another consumer claimed it first
            try:
                with open(claimed, "rb") as file:
                    data = file.read()
            except OSError as error:
                raise ChannelError(f"Cannot read file {claimed!r} from queue.") from error
            try:
                payload = loads(data)
            except ValueError as error:  # not UTF-8 or not JSON
                self._set_aside(claimed, str(error))
                continue
            if not isinstance(payload, dict):
                self._set_aside(claimed, f"a JSON {type(payload).__name__}, not a message")
                continue
            if not self.store_processed:
                os.remove(claimed)
            return payload
        raise Empty()

    def _set_aside(self, path: str, reason: str) -> None:
        folder = Path(
            self.transport_options.get("unreadable_folder", FOLDER_OPTIONS["unreadable_folder"][0])
        )
        folder.mkdir(parents=True, exist_ok=True)
        shutil.move(path, folder / os.path.basename(path))
        logger.warning(
            "broker message file %s is unreadable (%s): moved to %s",
            os.path.basename(path),
            reason,
            folder,
        )

    def get_table(self, exchange: str) -> Table:  # type: ignore[override]
        table_file = self._table_file(exchange)
        try:
            data = table_file.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as error:
            raise ChannelError(f"Cannot open {table_file}") from error
        return [exchange_queue_t(*binding) for binding in loads(data)]

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str | None, queue: str) -> None:
        binding = exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._change_table(exchange, lambda table: table if binding in table else [binding, *table])

    def _delete(
        self,
        queue: str,
        exchange: str,
        routing_key: str,
        pattern: str | None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        # The virtual channel's part (purging the queue); kombu's table rewrite is replaced.
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        binding = exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._change_table(exchange, lambda table: [kept for kept in table if kept != binding])

    def _change_table(self, exchange: str, change: Callable[[Table], Table]) -> None:
        table_file = self._table_file(exchange)
        try:
            self.control_folder.mkdir(exist_ok=True)
            # The table itself is replaced, so writers lock a file that stays.
            with open(f"{table_file}.lock", "ab") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)  # released by closing
                table = self.get_table(exchange)
                changed = change(table)
                if changed != table:
                    _write_whole(str(table_file), dumps(changed).encode())
        except OSError as error:
            raise ChannelError(f"Cannot open {table_file}") from error

    def _table_file(self, exchange: str) -> Path:
        # kombu's check that the exchange's name is a safe file name (the stubs omit it).
        table_file: Path = self._exchange_file(exchange)  # type: ignore[attr-defined]
        return table_file


class Transport(filesystem.Transport):
    Channel = Channel
    # kombu then keeps the URL whole and shows it as given (`filesystem://localhost/`), not as
    # this class's import path; no part of it is read: the folders are transport options.
    can_parse_url = True


def _write_whole(path: str, data: bytes) -> None:
    """Put data at path in one rename, so a reader finds all of it or nothing. The data is on
    disk before the name is: after a power cut the name never stands for an empty file."""
    partial = f"{path}.{uuid.uuid4().hex}.part"
    try:
        with open(partial, "xb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
