"""viva: a local mock interviewer for the deep-learning part of data-science interviews.

This package is the command line only (``viva.cli`` and ``viva.commands``): the top of the
house, which wires ``tui``, ``agent``, ``knowledge`` and ``rubrics`` together.  Nothing
below it imports it; the shared foundation (paths, model loading, errors) is ``core``.
It imports nothing heavy at import time so that ``viva --help`` stays instant.
"""

__version__ = "0.1.0"
