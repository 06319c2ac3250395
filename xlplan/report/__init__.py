"""``xlplan report``: a workbook of plans, the paper's tables and demand sweeps, from a scenario."""
