"""A one-line progress bar on stderr for long command-line work (shown on a terminal only)."""

import sys

__all__ = ["Progress"]

WIDTH = 30


class Progress:
    """``with Progress(total, "report") as bar: ... bar.step("sweep")``.

    Work that reports its own count (e.g. ``bootstrap_law(progress=...)``, called
    as ``progress(done, total)``) passes ``bar.show`` instead of calling ``step``.
    """

    def __init__(self, total, label, stream=None, enabled=None):
        self.total, self.label, self.done = total, label, 0
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.drawn = False  # end the bar's line only if one was drawn

    def step(self, what=""):
        self.show(self.done + 1, what=what)

    def show(self, done, total=None, what=""):
        """Draw the bar at ``done`` of the total (``total``, if given, replaces it)."""
        self.done, self.total = done, total or self.total
        if self.enabled:
            filled = WIDTH * self.done // self.total
            self.stream.write(
                f"\r{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] "
                f"{self.done}/{self.total} {what:<24}"
            )
            self.stream.flush()
            self.drawn = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
