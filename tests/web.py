"""Asking a web server a test started whether it serves, without taking a slow answer for none:
on a loaded machine (load 8 on two cores) a freshly started server took seconds to answer."""

from __future__ import annotations

import socket

import httpx

#: How long one request may take to be answered on a loaded machine.
REQUEST_SECONDS = 60.0


def login_page_served(base_url: str) -> bool:
    """Whether `base_url` (ending in /) answers its login page with 200; False when nothing
    answers, or not in time."""
    try:
        return httpx.get(f"{base_url}login/", timeout=REQUEST_SECONDS).status_code == 200
    except httpx.TransportError:
        return False


def refuses_connections(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:`port`: the connection is refused at once, however
    busy the machine, where a server that is only slow to answer still accepts it."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=REQUEST_SECONDS):
            return False
    except ConnectionRefusedError:
        return True
