"""Giving freed memory back to the system (core.memory), as the rooms' sweep does after a
crowd arrives."""

import platform

import pytest


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_the_allocator_can_give_memory_back_on_this_system() -> None:
    """The sweep's trim after a crowd arrives (core.memory) reaches glibc here, as in the
    production image (Debian's Python); elsewhere it does nothing."""
    from core.memory import release_free_memory

    assert release_free_memory() is True
