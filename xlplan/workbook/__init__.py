"""The workbook layer: evaluate formulas without Excel and write workbooks safely.

A thin adapter: every number comes from :mod:`xlplan.udfs` (and so from the
engine) or from the handful of plain Excel functions in :mod:`.functions`.
"""
