"""The template workbooks: built by code, every computed cell a formula.

``xlplan workbooks build`` writes them (see :mod:`.build`); the committed copies
in ``workbooks/`` are checked by a test to match this code.
"""
