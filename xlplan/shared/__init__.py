"""Helpers several faces share: atomic file writing, the progress bar, sheet styles and
number formats, column labels."""
