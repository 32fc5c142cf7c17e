"""core: the ground floor every other package stands on.

Where data and caches live (``core.paths``), the one module that loads models
(``core.models``), the sentence embedder (``core.embedding``), the error type every layer
raises for problems a user can fix (``core.errors``) and the sanitiser for text shown in a
terminal (``core.terminal``).  It imports no other package of viva and nothing heavy at
import time, so ``viva --help`` stays instant.
"""
