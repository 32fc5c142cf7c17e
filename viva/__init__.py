"""viva: a local mock interviewer for the deep-learning part of data-science interviews.

This package is the application shell: the command line (``viva.cli``), where data and
caches live (``viva.paths``), the one module that loads models (``viva.models``) and the
error type every layer raises for problems a user can fix (``viva.errors``).  It imports
nothing heavy at import time so that ``viva --help`` stays instant.
"""

__version__ = "0.1.0"
