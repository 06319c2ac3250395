"""Write a file without ever leaving a half-written one or touching the input.

The content goes to a temporary file in the destination directory, which is
moved into place with :func:`os.replace` (atomic on the same file system), so
a crash or a bad input leaves any earlier output intact.
"""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..engine.errors import InvalidValueError

__all__ = ["atomic_path", "check_not_same"]


def check_not_same(source, destination, argument="-o"):
    """Refuse to write ``destination`` when it is the input file ``source``."""
    source, destination = Path(source), Path(destination)
    if destination.exists() and source.exists() and source.samefile(destination):
        raise InvalidValueError(
            f"output {str(destination)!r} is the input file: refusing to overwrite the input "
            "(xlplan never overwrites its input); write to another file",
            argument=argument,
            value=str(destination),
        )


def _new_file_mode():
    """Permissions a plainly created file gets here: 0o666 less the umask."""
    umask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(umask)
    return 0o666 & ~umask


# Owner-only read and write: what tempfile gives the temporary file.
PRIVATE_MODE = 0o600


def _mode_for(destination, private):
    """The replaced file's permissions, or those of a new file (private: owner only)."""
    try:
        return destination.stat().st_mode & 0o7777
    except FileNotFoundError:
        return PRIVATE_MODE if private else _new_file_mode()


@contextmanager
def atomic_path(destination, private=False):
    """Yield a temporary path beside ``destination``; move it into place on success.

    The file ends up with the permissions of the file it replaces. A new file gets
    those of a plainly created file (0o666 less the umask), or owner-only ones with
    ``private=True`` (for settings that may hold a licence key).
    """
    destination = Path(destination)
    if destination.is_dir():
        raise InvalidValueError(
            f"output {str(destination)!r} is a folder; name a file in it",
            argument="-o",
            value=str(destination),
        )
    if destination.exists() and not destination.is_file():
        # os.replace would put a file in place of a device or pipe (as root, /dev/null).
        raise InvalidValueError(
            f"output {str(destination)!r} is not a regular file (a device or a pipe); name a file",
            argument="-o",
            value=str(destination),
        )
    directory = destination.parent if str(destination.parent) else Path(".")
    if not directory.is_dir():
        raise InvalidValueError(
            f"output directory {str(directory)!r} does not exist",
            argument="-o",
            value=str(destination),
        )
    handle, temporary = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".tmp", dir=directory
    )
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, _mode_for(destination, private))
        os.replace(temporary, destination)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
