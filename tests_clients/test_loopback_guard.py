"""The loopback guard itself: a lookup or a connection off loopback fails and is recorded;
loopback goes through (every other test talks to the emulator on 127.0.0.1)."""

from __future__ import annotations

import socket

import loopback_guard
import pytest


def test_a_lookup_off_loopback_fails_and_is_recorded() -> None:
    with pytest.raises(socket.gaierror, match="no network"):
        socket.getaddrinfo("api.kimi.invalid", 443)  # .invalid: never resolves anyway
    assert loopback_guard.take_attempts() == ["lookup 'api.kimi.invalid'"]


def test_a_connection_off_loopback_fails_and_is_recorded() -> None:
    # 0.0.0.0 is not a loopback address to the guard, and would reach only this machine
    # were the guard broken: no packet can leave it.
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock,
        pytest.raises(loopback_guard.NetworkAttemptError),
    ):
        sock.connect(("0.0.0.0", 9))
    assert loopback_guard.take_attempts() == ["connect ('0.0.0.0', 9)"]


def test_loopback_goes_through() -> None:
    assert socket.getaddrinfo("127.0.0.1", 80)
    assert socket.getaddrinfo("localhost", 80)
    assert loopback_guard.take_attempts() == []
