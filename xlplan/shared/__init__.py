"""Helpers several faces share: atomic file writing, the progress bar, sheet styles and
number formats, column labels, the Checks sheet, numbers written into text."""
