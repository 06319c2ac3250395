"""Data limits: repeated data (Muennighoff et al. 2023) and sizing under a unique-token cap."""
