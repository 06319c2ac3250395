"""Sub-commands of the ``xlplan`` command line, one module each (see :mod:`xlplan.cli`)."""
