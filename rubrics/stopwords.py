"""The stopwords grading drops, in one place: a shared core and what each user adds.

Two parts of grading drop common words, and they drop different ones on purpose:

* :mod:`rubrics.spoken` (``SPOKEN``): the question's own words an answer may echo without
  being credited for them.  Echoing "not", "no", "on" or "with" from the question is echo too.
* :mod:`rubrics.polarity` (``POLARITY``): the words that are not a claim's content when
  two claims are compared.  Negators ("not", "no", :data:`rubrics.polarity.NEGATORS`) must
  stay (they are what polarity is about), and the fillers, hedges and pronouns of spoken
  answers ("um", "basically", "like", "he", "she") go.

Both lists are what the grader was calibrated on: changing either moves scores
(``tests/test_rubrics.py`` pins them word for word).
"""

from __future__ import annotations

BASE = frozenset({
    "a", "an", "the", "and", "or", "but", "so", "if", "of", "to", "in", "at", "by", "for", "from",
    "is", "are", "was", "were", "be", "been", "it", "its", "it's", "this", "that", "these", "those", "there",
    "what", "why", "how", "when", "which", "who", "does", "do", "did", "you", "your", "i", "we", "they", "them",
    "as", "into", "than", "then", "can", "could", "would", "should", "will", "about", "just",
})

SPOKEN_EXTRA = frozenset({"on", "with", "not", "no"})

POLARITY_EXTRA = frozenset({
    "being", "has", "have", "had", "each", "every", "also",
    "very", "really", "like", "um", "uh", "basically", "actually", "get", "gets", "got", "one", "thing",
    "things", "way", "kind", "sort", "mean", "know", "think", "say", "said", "well", "yeah", "okay", "right",
    "much", "many", "some", "any", "only", "even", "because", "while", "where", "here", "my", "our", "their",
    "his", "her", "he", "she", "me", "us", "own", "make", "makes", "made", "use", "used", "uses", "using",
})

SPOKEN = BASE | SPOKEN_EXTRA
POLARITY = BASE | POLARITY_EXTRA
