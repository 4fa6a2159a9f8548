"""Giving memory back to the operating system after a crowd arrives.

A thousand members arriving at a room make a thousand `hello` frames (the room's whole
presence and latest messages, tens of KB each), built on several threads and freed a moment
later. glibc's allocator keeps what was freed for reuse, in one arena per thread, so the web
process kept that peak as resident memory for good: the room socket bench measured most of
a process's growth per idle socket there, not in live objects. `malloc_trim` hands the free
pages back. Elsewhere (another C library) it does nothing.
"""

import ctypes
import ctypes.util
import logging

logger = logging.getLogger(__name__)

_libc_name = ctypes.util.find_library("c")
_trim = None
if _libc_name:
    try:
        _trim = ctypes.CDLL(_libc_name).malloc_trim
    except (OSError, AttributeError):
        _trim = None


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system; True if it could try. It takes the
    allocator's lock for a few milliseconds: call it off the event loop."""
    if _trim is None:
        return False
    _trim(0)
    return True
