"""Grader v2: direction (negation, antonyms, numbers), follow-ups graded for what they asked,
long answers keep their credit, and ``viva grade --batch``."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence

import numpy as np
import pytest
from conftest import venv_bin
from fakes import BagOfWordsEncoder

from rubrics import polarity, quantities
from rubrics.bank import load_bank
from rubrics.grade import MAX_GRADED_CHARS
from rubrics.grader import RUNG, Focus, Grade, Grader
from rubrics.schema import adhoc_rung

# --- polarity and quantities: pure functions ------------------------------------------------


@pytest.mark.parametrize(
    ("window", "statement", "opposite"),
    [
        ("dropout doesn't remove neurons permanently", "Dropout removes neurons from the network permanently.", True),
        ("dropout removes neurons for good so the model shrinks", "Dropout removes neurons from the network permanently.", False),
        ("the loss can't go down at all", "The loss goes down.", True),
        ("validation loss and accuracy don't always move together", "The loss and the metric sometimes move apart.", False),
        ("a bigger batch gives you more updates per epoch", "A bigger batch means fewer updates per epoch.", True),
        ("a bigger batch means fewer updates per epoch", "A bigger batch means fewer updates per epoch.", False),
        # A restrictive "only" makes a negation on the other side compatible.
        ("dropout is not used at inference", "Dropout is used only during training.", False),
        # ... also after its phrase ("on the training split only, then ..."), but not as "only X".
        ("don't fit it on the test rows", "Fit preprocessing statistics on the training split only, then apply them.", False),
        ("don't fit it on the test rows", "Fit preprocessing statistics only on the training split.", False),
        ("you don't fit the scaler", "You fit the scaler only once.", True),
        # Rejecting what the statement contrasts itself with agrees with it ...
        (
            "i'd fine-tune a pretrained encoder, not an lstm from scratch",
            "Attention links distant words in one step, while an LSTM relays information through many sequential updates.",
            False,
        ),
        ("a cnn is not what i'd use here", "Unlike a CNN, a transformer attends to every token.", False),
        ("an lstm, not a transformer, forgets the start of a long text", "An LSTM forgets the start of a long text.", False),
        ("dropout is not a permanent removal of neurons", "Dropout is a permanent removal of neurons.", True),
        # ... but "while" as time is no contrast.
        ("you don't keep it on while training", "Dropout stays on while training.", True),
        # "no X" denies X, not the rest of its sentence.
        (
            "the gpus don't train on their own and average the weights at the end",
            "Each GPU trains its own copy with no communication, and the weights are averaged at the end.",
            True,
        ),
        # A clause that ends on its negation denies what came before it.
        ("neural nets need it, trees don't.", "Gradient-boosted trees need scaled features.", True),
        # "can only help" restricts nothing: the negation still counts ...
        ("bigger isn't the safe choice", "A bigger model is the safe choice because it can only help.", True),
        # ... and "nothing like" compares, it denies nothing.
        (
            "i wouldn't train from scratch even if the photos look nothing like imagenet",
            "Train from scratch on new images.",
            True,
        ),
        # "on" as a preposition is no claim word: the belief's "not training on it" does not
        # cancel the answer's "never" (seen in use: a right answer flagged as the belief) ...
        (
            "you never early stop on the test set",
            "It's fine to early stop on the test set, since we are not training on it.",
            True,
        ),
        # ... while "on" as a state still is one.
        ("dropout stays on at inference", "At inference dropout is off.", True),
        ("keep it on during training", "Dropout is on during training.", False),
        # A negation inside a condition ends at its comma.
        ("if that isn't enough, use class weights in the loss", "Class weights increase the loss on rare-class errors.", False),
        ("if you ask me, class weights don't increase the loss", "Class weights increase the loss on rare-class errors.", True),
    ],
)
def test_polarity(window: str, statement: str, opposite: bool) -> None:
    assert polarity.compare(window, statement, disavowal=False).opposite is opposite


@pytest.mark.slow
def test_turning_down_the_foil_a_key_point_contrasts_with_is_no_contradiction(grader, bank) -> None:
    """Seen in the TUI: "not an LSTM from scratch" was read as denying "..., while an LSTM relays ..."."""
    _, rung = bank.rung("transformer-families:pick-for-task")
    g = grader.grade(
        rung,
        "um so I'd start with a pretrained encoder like BERT and fine-tune it, not an LSTM from scratch, because 20k "
        "tickets is not much data and the pretrained model already knows language.",
    )
    assert not g.contradictions, g.contradictions
    assert "pretraining-transfer" in {p.id for p in g.hits}


def test_a_negation_that_words_another_credited_point_denies_nothing(grader, bank) -> None:
    """Seen in the TUI: "you only augment the training split, never validation or test" is the
    train-only point; it was read as denying "keep each transform only if a *validation*
    ablation shows a gain" (shared: augment, only, validation), a false contradiction that
    cost the answer half a point."""
    _, rung = bank.rung("data-augmentation:safe-choices")
    g = grader.grade(
        rung,
        "um so basically you only apply transforms that keep the label the same, like a horizontal flip is fine for "
        "cats but not for digits like six and nine, and you only augment the training split, never validation or test",
    )
    assert "train-only" in {p.id for p in g.hits}
    assert not g.contradictions and "contradiction" not in g.flags, g.contradictions


@pytest.mark.slow
def test_a_right_answer_that_says_never_is_not_the_belief_it_rejects(grader, bank) -> None:
    """Tried as a user: "you never early stop on the test set" was flagged as the belief
    "it's fine to early stop on the test set, since we are not training on it" (its "not
    training on it" cancelled the answer's "never" through the preposition "on"), capped
    at 1.5; and "if that isn't enough, use class weights" was read as denying class weights."""
    _, rung = bank.rung("early-stopping:setting-it-up")
    g = grader.grade(
        rung,
        "you never early stop on the test set, you hold out a validation split and stop when the validation loss "
        "hasn't improved for some patience, like five epochs, and you restore the best weights, and the test set is "
        "only touched once at the end",
    )
    assert not g.misconceptions and g.score >= 3.0, (g.misconceptions, g.score)
    _, rung = bank.rung("class-imbalance:training-options")
    g = grader.grade(
        rung,
        "i wouldn't rebalance the data to fifty fifty by default. first just train on the natural distribution and "
        "move the threshold on validation. if that isn't enough, use class weights in the loss or oversample the "
        "minority with augmentation, or undersample the majority if you have tons of data",
    )
    assert not g.contradictions and "contradiction" not in g.flags and g.score >= 3.0, (g.contradictions, g.score)


@pytest.mark.slow
def test_one_shared_word_and_an_antonym_is_no_contradiction(grader, bank) -> None:
    """Held-out answer: "grabbing a row is the *same* as multiplying the one-hot" was read as
    denying "with one-hot, every pair of values is equally *different*" (they share only "one-hot")."""
    _, rung = bank.rung("embeddings-recsys:id-embeddings")
    g = grader.grade(
        rung,
        "embeddings aren't fixed random codes, they're parameters, a short dense vector per id that backprop updates "
        "like any other weight, which is exactly why products bought by the same kind of people drift close together "
        "after training. and mathematically grabbing a row of the table is the same as multiplying the one-hot vector "
        "by a weight matrix, you just skip all the multiplications by zero",
    )
    assert not g.contradictions and "contradiction" not in g.flags


@pytest.mark.slow
def test_a_rejection_at_the_front_of_a_long_sentence_is_no_misconception(grader, bank) -> None:
    """Held-out answer: the window that matched "PyTorch is only for research" starts after the
    "it's just not true anymore that" which rejects it, fifteen words back in the sentence."""
    _, rung = bank.rung("frameworks:framework-choice")
    g = grader.grade(
        rung,
        "pytorch, no question, it's what the papers and the checkpoints come in. and it's just not true anymore that "
        "pytorch is only for research and anything in production has to get ported to tensorflow, people serve "
        "pytorch all the time through torchserve or onnx runtime or triton.",
    )
    assert "pytorch-research-only" not in {m.id for m in g.misconceptions}


def test_disavowal_turns_a_named_belief_around_only_when_asked() -> None:
    belief = "Applying softmax before CrossEntropyLoss is harmless."
    said = "a classic bug is putting a softmax before CrossEntropyLoss"
    assert polarity.compare(said, belief, disavowal=True).opposite
    assert "names it to reject it" in polarity.compare(said, belief, disavowal=True).reasons
    # Against a true statement of the consequence, naming the bug is agreement.
    assert not polarity.compare(said, "A softmax before CrossEntropyLoss is applied twice.", disavowal=False).opposite


@pytest.mark.parametrize(
    ("window", "belief"),
    [
        # The disavowal's own "not" is the rejection, counted once, not a second flip.
        ("a really high training accuracy on its own doesn't mean the model is any good",
         "A high training accuracy shows the model is excellent."),
        ("it isn't true that a bigger network always wins", "A bigger network always wins."),
        # ... and so is an elliptical denial after it.
        ("i'd push back on the idea that each node sees the whole graph in a layer, it doesn't",
         "Every node sees the entire graph in a layer."),
        ("the argument that the weights learn to compensate is true on paper but not in practice",
         "The weights learn to compensate for the units."),
    ],
)
def test_a_spoken_disavowal_turns_the_belief_around_once(window: str, belief: str) -> None:
    assert polarity.compare(window, belief, disavowal=True).opposite


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sixteen bytes a param", [(16.0, "byte")]),
        ("about a hundred and twelve gigs", [(112e9, "byte")]),
        ("maybe like 7 gigabytes, one byte per parameter", [(7e9, "byte"), (1.0, "byte")]),
        # "fp16" and "3x3" are names, and "a 7B model" counts a scenario's noun: none is compared.
        ("a 7B model in fp16 with 3x3 convs", []),
        ("7 billion parameters", [(7e9, "parameter")]),
        ("50% of the units", [(50.0, "percent")]),
        ("we stacked 12 layers", [(12.0, "layer")]),
        # A hyphenated model name is a name: GPT-3 states no 3, ResNet-50 no 50.
        ("0.1 for GPT-3 and a ResNet-50 backbone", []),
        # Exponents written and spoken, fractions, and idioms that only look like amounts.
        ("a learning rate of 1e-5", [(1e-5, quantities.SCIENTIFIC)]),
        ("um, one e minus four", [(1e-4, quantities.SCIENTIFIC)]),
        ("ten to the minus three", [(1e-3, quantities.SCIENTIFIC)]),
        ("three quarters of the compute", []),  # 0.75, of a scenario's noun: not compared
        ("one and a half epochs", [(1.5, "epoch")]),
        ("a bit less than a word", []),
        ("add a third layer, the 2nd one is too narrow", []),
    ],
)
def test_quantities_are_read_as_people_say_them(text: str, expected: list[tuple[float, str]]) -> None:
    assert [(q.value, q.unit) for q in quantities.extract(text) if q.unit != "?"] == expected


def test_a_different_number_of_the_same_unit_is_a_mismatch() -> None:
    ref = "About 16 bytes per parameter, so roughly 112 GB for a 7B model."
    wrong = quantities.mismatch("maybe 7 gigabytes, one byte per parameter", ref)
    assert wrong is not None and "7 GB" in wrong.describe() and "112 GB" in wrong.describe()
    assert quantities.mismatch("sixteen bytes a param, so like a hundred and twelve gigs", ref) is None
    # Saying the parts and the total: the total agrees, so no mismatch.
    assert quantities.mismatch("2 bytes of weights, 2 of grads, 12 of optimizer state, 16 bytes in all", ref) is None
    # Ranges and bounds: "up to a million rows" admits two hundred thousand.
    assert quantities.mismatch("a couple hundred thousand rows", "boosting wins on tables up to about a million rows") is None
    assert quantities.mismatch("ten epochs of patience", "a patience of 5 to 10 epochs") is None
    assert quantities.mismatch("seven epochs of patience", "a patience of 5 to 10 epochs") is None
    assert quantities.mismatch("fifty epochs of patience", "a patience of 5 to 10 epochs") is not None
    assert quantities.mismatch("with adamw i'd start at 0.5", "A typical value is 0.01 to 0.1, as for GPT-3.") is not None
    # A number the statement does not speak about never counts.
    assert quantities.mismatch("we had about eight thousand photos", "one filter is shared across the image") is None
    # A ratio is not a count: "four tokens for every three words" says "three quarters of a word".
    tokens = "Prices are counted in tokens, about three quarters of an English word each."
    assert quantities.mismatch("roughly four tokens for every three words", tokens) is None
    assert quantities.mismatch("with sgd it's more like five e minus four", "SGD recipes use 5e-4 or 1e-4.") is None
    # ... nor does the digit of a model's name.
    assert quantities.mismatch("with adamw i'd start at 0.05", "A typical value is 0.01 to 0.1, as for GPT-3.") is None


# --- the grader with the real models ---------------------------------------------------------


@pytest.fixture(scope="module")
def bank():
    return load_bank()


@pytest.mark.slow
def test_a_probe_is_graded_for_the_point_it_asked(grader, bank) -> None:
    _, rung = bank.rung("dropout:what-it-does")
    answer = "so at inference you switch dropout off, model.eval, and every neuron is used when it serves"
    probe = grader.grade(rung, answer, focus=Focus("key-point", "off-at-inference"))
    whole = grader.grade(rung, answer, focus=RUNG)
    assert probe.score >= 3.0, probe
    assert whole.score < probe.score  # against the whole rung it covers one point of four
    by_id = {p.id: p for p in probe.points}
    # Credited, though just under the hit threshold since the refit with clause-level belief
    # checks (0.55 against 0.575 after the latest refit): the judge reads "switch dropout off" as only 0.31 for
    # "at inference all units are kept".  README "Known weak spots".
    assert by_id["off-at-inference"].credit >= 0.5 and by_id["off-at-inference"].asked
    assert not any(p.asked for p in probe.points if p.id != "off-at-inference")
    assert "the point asked about" in probe.judged_on
    # The rung's score takes the best of each point across its answers.
    first = grader.grade(rung, "it randomly zeroes a fraction of the neurons on every training step so they can't co-adapt")
    assert grader.combine(rung, [first, probe]) > first.score


@pytest.mark.slow
def test_a_challenge_answer_that_takes_the_belief_back_scores_and_lifts_the_cap(grader, bank) -> None:
    _, rung = bank.rung("dropout:what-it-does")
    wrong = grader.grade(rung, "dropout basically deletes neurons for good, so the final model is smaller and faster")
    assert wrong.misconceptions, wrong
    challenge = Focus("misconception", wrong.misconceptions[0].id)
    back = grader.grade(
        rung,
        "no, you're right, nothing is removed, all the neurons are still there at test time, the mask changes every step",
        focus=challenge,
    )
    assert back.score > grader.params.mis_cap and not back.misconceptions, back
    assert grader.combine(rung, [wrong, back]) >= wrong.score


@pytest.mark.slow
@pytest.mark.parametrize(
    "answer",
    [
        "i don't know", "honestly no idea, sorry", "i'm not sure, i haven't worked with that",
        "i honestly couldn't tell you, sorry", "um, pass.", "i'll skip this one", "sorry, my mind just went blank",
        "sorry, i know the name, but i don't really know how it works",
    ],
)
def test_i_dont_know_is_its_own_flag_not_restating(grader, bank, answer: str) -> None:
    _, rung = bank.rung("optimizers:sgd-vs-adam")
    g = grader.grade(rung, answer)
    assert "dont-know" in g.flags and "restates-question" not in g.flags and g.score == 0.0


@pytest.mark.slow
@pytest.mark.parametrize(
    "answer",
    [
        "i'd skip adam entirely, plain sgd without momentum always converges faster and generalizes better",
        "you pass the gradient through the same update for every weight, adam just adds a blank momentum term",
    ],
)
def test_a_wrong_answer_that_says_skip_or_pass_is_not_i_dont_know(grader, bank, answer: str) -> None:
    _, rung = bank.rung("optimizers:sgd-vs-adam")
    assert "dont-know" not in grader.grade(rung, answer).flags


@pytest.mark.slow
def test_i_already_said_that_is_flagged(grader, bank) -> None:
    _, rung = bank.rung("dropout:what-it-does")
    g = grader.grade(rung, "i already said that, like i mentioned earlier", focus=Focus("key-point", "off-at-inference"))
    assert "already-said" in g.flags


LONG_ANSWER = (
    "okay so, um, product id, right. so the first thing people reach for is one-hot encoding, and i did that "
    "once at my last job, we had this catalogue, i think it was something like three hundred thousand products, "
    "maybe more after the merger, and the thing is you end up with a vector that is as wide as the whole catalogue, "
    "three hundred thousand columns and every one of them zero except a single one, which is just a huge sparse "
    "thing to push through the first layer. and worse, and this took me a while to appreciate, every product is "
    "exactly the same distance from every other product in that encoding, so a phone is as far from another phone "
    "as it is from a sofa, and nothing the network learns about one item carries over to a similar one. we had a "
    "long discussion in the team about whether to hash the ids instead, and, you know, hashing helps with the width "
    "but collisions are annoying and it still does not give you similarity. so what we ended up doing, and what i "
    "would do again, is an embedding layer: each product id gets a short dense vector, we used sixty four numbers, "
    "and those numbers are parameters, they are trained with backprop along with the rest of the model, so after "
    "training the products that the same people buy end up close together. the lookup is literally picking a row "
    "of a table, which is the same as multiplying the one-hot vector by the table, just much cheaper. and then, "
    "this is the part that bit us in production, new products show up every day that the table has never seen, so "
    "we kept one extra row, an unknown or out-of-vocabulary bucket, that every unseen id maps to until the next "
    "retrain, and we also fed some content features like the category and the price so a brand new item is not "
    "completely blind. i think that is roughly it, the embedding is the standard answer, one-hot is what you avoid."
)


@pytest.mark.slow
def test_a_long_answer_keeps_its_points(grader, bank) -> None:
    _, rung = bank.rung("embeddings-recsys:id-embeddings")
    assert 300 <= len(LONG_ANSWER.split()) <= 360
    g = grader.grade(rung, LONG_ANSWER)
    hits = {p.id for p in g.hits}
    assert {"onehot-wide-sparse", "onehot-no-similarity", "dense-learned-vector"} <= hits, g
    assert g.score >= 3.5
    for p in g.hits:
        assert p.evidence and g.answer[p.span[0] : p.span[1]] == p.evidence


def _salad(words: int) -> str:
    """The rubric's words in a fixed shuffled order (no randomness: the same every run)."""
    vocab = "so the gradient um basically vanishes when the sigmoid saturates and relu keeps a slope of one".split()
    return " ".join(vocab[(i * 7 + i // len(vocab)) % len(vocab)] for i in range(words))


@pytest.mark.slow
@pytest.mark.parametrize("words", [300, 3000])
def test_a_long_salad_of_the_rubric_s_words_earns_nothing_for_its_volume(grader, bank, words: int) -> None:
    """Each key point takes its best window, so without this a salad of the right words
    scored more the longer it was (3.8 at 1,000 words)."""
    _, rung = bank.rung("activations:sigmoid-tanh-hidden")
    g = grader.grade(rung, _salad(words))
    assert "repetitive" in g.flags
    assert g.score <= 1.0


def test_real_answers_are_never_taken_for_a_salad() -> None:
    """Every labelled answer (rambles of 300 words included) and every SemEval answer keeps its variety;
    the same good answer pasted over and over does not."""
    from evaluation import public
    from evaluation.calibrate import load_labelled
    from rubrics.spoken import repetitive

    answers = [i.answer for i in load_labelled()]
    answers += [g.answer for ds, splits in public.SPLITS.items() for sp in (*splits, "train") for g in public.load(ds, sp)]
    assert len(answers) > 13_000
    assert not [a for a in answers if repetitive(a)]
    assert repetitive(" ".join([LONG_ANSWER] * 30))
    assert not repetitive(LONG_ANSWER)


@pytest.mark.slow
def test_a_wrong_number_in_the_right_words_scores_low(grader) -> None:
    rung = adhoc_rung(
        "Training with Adam in mixed precision needs about 16 bytes per parameter, so a 7B model needs roughly 112 GB "
        "of memory before activations, more than one GPU holds.",
        "How much GPU memory does training a 7B model with Adam take?",
    )
    wrong = grader.grade(rung, "maybe like 7 gigabytes, one byte per parameter, it fits on a single consumer GPU easily")
    right = grader.grade(
        rung,
        "so it's sixteen bytes a parameter with the adam states and master weights, "
        "so a hundred and twelve gigs, more than one gpu",
    )
    assert wrong.score <= 1.5, wrong
    assert right.score >= wrong.score + 0.5, right
    assert wrong.contradictions and "7 GB" in wrong.contradictions[0].reason


@pytest.mark.slow
def test_a_reference_only_rung_credits_a_terse_right_answer_and_nothing_else(grader) -> None:
    """Against a bare reference (SemEval's kind of item) a few right words can be the whole
    answer: not held down as too short; reading the question back and an unrelated answer are."""
    rung = adhoc_rung(
        "Bulb A stays on because it is still in a closed path with the battery.",
        "Why does bulb A stay on when switch Y is opened?",
    )
    terse = grader.grade(rung, "it is still in a closed path with the battery")
    wrong = grader.grade(rung, "because switch y is the one that controls bulb b, not bulb a")
    readback = grader.grade(rung, "why does bulb a stay on when switch y is opened")
    unrelated = grader.grade(rung, "i really like pizza with extra cheese on fridays")
    assert terse.score >= 3.0, terse
    assert terse.score > wrong.score, (terse, wrong)
    assert readback.score <= 0.5 and "restates-question" in readback.flags, readback
    assert unrelated.score == 0.0 and "off-topic" in unrelated.flags, unrelated


@pytest.mark.slow
def test_naming_a_bug_to_reject_it_is_not_the_misconception(grader, bank) -> None:
    _, rung = bank.rung("activations:output-heads")
    said = (
        "for multi-class you output raw logits and use CrossEntropyLoss, a classic bug is putting a softmax "
        "before CrossEntropyLoss, then you end up applying softmax twice and the gradients get squashed"
    )
    g = grader.grade(rung, said)
    assert not g.misconceptions, g.misconceptions


@pytest.mark.slow
def test_a_belief_rejected_later_in_its_sentence_is_not_stated(grader, bank) -> None:
    """The window that matches the belief can end before the words that reject it."""
    _, rung = bank.rung("overfitting:recognize")
    rejected = grader.grade(
        rung,
        "near perfect accuracy on the training rows by itself doesn't mean the model is any good, a lookup table gets "
        "that too. you compare with a held out validation set, and if validation loss turns up while training loss "
        "keeps falling, it's memorizing noise",
    )
    stated = grader.grade(
        rung,
        "if training accuracy is near perfect that's a great sign, it shows the model is excellent and has really "
        "captured the data, so i wouldn't worry about overfitting there",
    )
    assert "high-train-good" not in {m.id for m in rejected.misconceptions}, rejected.misconceptions
    assert "high-train-good" in {m.id for m in stated.misconceptions}, stated
    # Not capped as a misconception (a right answer phrased this way still scores below 3
    # too often: README "Known weak spots").
    assert rejected.score > grader.params.mis_cap >= stated.score, (rejected.score, stated.score)


def test_grades_round_trip_through_their_dict() -> None:
    from rubrics.grader import ContradictionResult, MisconceptionResult, PointResult

    g = Grade(
        3.2,
        0.61,
        [
            PointResult("a", "A.", 2.0, 0.7, 0.8, True, "said a", (0, 6), True),
            PointResult("b", "B.", 1.0, 0.1, 0.0, False, asked=False),
        ],
        [MisconceptionResult("m", "M.", "C.", 0.8, "said m", (7, 13))],
        ["misconception"],
        "said a said m",
        [ContradictionResult("b", "B.", "says the opposite", "not b", (0, 5))],
        0.55,
        Focus("key-point", "a"),
        "the point asked about: A.",
    )
    back = Grade.from_dict(json.loads(json.dumps(g.to_dict())), g.answer)
    assert back.to_dict() == g.to_dict()
    # Records written before v2 (no focus, no contradictions, no "asked") still read.
    old = {
        "score": 2.0,
        "raw": 0.4,
        "flags": [],
        "key_points": [{"id": "a", "text": "A.", "weight": 1, "similarity": 0.5, "credit": 0.4, "hit": False}],
        "misconceptions": [],
    }
    legacy = Grade.from_dict(old, "x")
    assert legacy.focus == RUNG and legacy.points[0].asked and legacy.contradictions == []


# --- viva grade --batch -------------------------------------------------------------------------


@pytest.mark.slow
def test_grade_batch_keeps_order_and_reports_bad_lines() -> None:
    lines = [
        json.dumps(
            {
                "rubric": "dropout:what-it-does",
                "answer": "it randomly zeroes units during training and is off at inference",
                "id": "s1",
                "extra": 1,
            }
        ),
        "this is not json",
        json.dumps(
            {
                "question": "What is dropout?",
                "reference": "Dropout randomly zeroes units during training. It is switched off at inference.",
                "answer": "uh it randomly turns off neurons while training, and at test time it's switched off",
            }
        ),
        "",
        json.dumps({"reference": "a", "answer": "x"}),
        json.dumps({"rubric": "no-such-topic:x", "answer": "x"}),
        json.dumps({"rubric": "dropout:what-it-does"}),
        json.dumps(
            {
                "question": "What is dropout?",
                "reference": "Dropout randomly zeroes units during training.",
                "answer": "\x1b[31m[bold]no idea[/bold]",
            }
        ),
    ]
    out = subprocess.run([venv_bin("viva"), "grade", "--batch", "-"], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, timeout=600)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["line"] for r in rows] == list(range(1, len(lines) + 1))
    assert out.returncode == 1 and "could not be graded" in out.stderr
    ok = [r for r in rows if "error" not in r]
    assert [r["line"] for r in ok] == [1, 3, 8]
    for r in ok:
        assert 0.0 <= r["score"] <= 5.0 and isinstance(r["flags"], list)
        assert {"hits", "missed", "key_points", "misconceptions", "contradictions"} <= set(r)
    assert rows[0]["id"] == "s1" and rows[0]["rubric"] == "dropout:what-it-does" and "extra" not in rows[0]
    assert rows[2]["rubric"] == "ad-hoc" and rows[2]["score"] >= 2.5
    assert "dont-know" in rows[7]["flags"]
    errors = {r["line"]: r["error"] for r in rows if "error" in r}
    assert "not JSON" in errors[2] and errors[4] == "empty line" and "too short" in errors[5]
    assert "unknown topic" in errors[6] and 'no "answer"' in errors[7]


def test_grade_batch_on_a_missing_file_says_so(tmp_path) -> None:
    out = subprocess.run(
        [venv_bin("viva"), "grade", "--batch", str(tmp_path / "nope.jsonl")], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 2 and "cannot read" in out.stderr and "Traceback" not in out.stderr


def test_too_short_question_or_reference_is_a_clear_error() -> None:
    for args in (["--question", "Q", "--reference", "Dropout zeroes units while training."], ["--reference", "a"]):
        out = subprocess.run([venv_bin("viva"), "grade", *args, "answer"], capture_output=True, text=True, timeout=120)
        assert out.returncode == 2, out
        assert "too short" in out.stderr and "Traceback" not in out.stderr and "pydantic" not in out.stderr


# --- huge answers: a limit before any work, the answer kept whole -------------------------------


class _RecordingEncoder(BagOfWordsEncoder):
    """The fake encoder, keeping every text it was asked to encode."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return super().encode(texts)


def test_an_answer_past_the_limit_is_graded_on_its_head_flagged_and_kept_whole(bank) -> None:
    from agent.verdict import FLAG_TEXT

    _, rung = bank.rung("dropout:what-it-does")
    head = "during training dropout zeroes a random subset of units on every step. " * (MAX_GRADED_CHARS // 70 + 10)
    answer = head[: MAX_GRADED_CHARS - 1] + " zzzpastthelimit " * 5_000  # about 1 MB in all
    assert len(answer) > MAX_GRADED_CHARS
    enc = _RecordingEncoder()
    grader = Grader(enc)
    grader.prepare(rung)
    enc.seen.clear()
    g = grader.grade(rung, answer)
    assert "truncated" in g.flags and "truncated" in FLAG_TEXT
    assert g.answer == answer  # the grade (and so the store) keeps every character
    assert enc.seen and not any("zzzpastthelimit" in t for t in enc.seen)  # nothing past the limit was read
    assert sum(len(t) for t in enc.seen) < 2 * MAX_GRADED_CHARS
    under = grader.grade(rung, head[: MAX_GRADED_CHARS])
    assert "truncated" not in under.flags


def test_the_direction_checks_read_the_sentence_about_the_belief() -> None:
    """A window can run across a sentence end; a negation in one sentence does not turn the next,
    and the rejection at the front of a long sentence is read with the belief said after it."""
    from rubrics.grader import _belief_clause

    text = "i don't think it's complicated. dropout stays on at inference and you keep it active"
    start = text.index("complicated")
    assert _belief_clause(text, start, len(text), "Dropout stays active at inference.") == (
        "dropout stays on at inference and you keep it active"
    )
    # The window runs on into the next sentence, which shares one word: its own sentence is read.
    text = "adam does not mean you get to skip tuning it. adam rescales each parameter, sure, but the rate decides"
    end = text.index("each")
    belief = "Adam adapts the learning rate itself, so with Adam you do not need to tune it."
    assert _belief_clause(text, 0, end, belief) == "adam does not mean you get to skip tuning it."
    # The words that reject the belief come fifteen words before the window that matched it.
    text = ("and it's just not true anymore that pytorch is only for research and anything in production "
            "has to get ported to tensorflow, people serve pytorch all the time")
    start = text.index("in production")
    clause = _belief_clause(text, start, start + 40, "PyTorch is only for research.")
    assert clause.startswith("and it's just not true anymore") and clause.endswith("all the time")
    assert _belief_clause("no sentence end here", 3, 10, "anything") == "no sentence end here"


@pytest.mark.slow
def test_an_outright_negation_of_a_belief_does_not_state_it(grader, bank) -> None:
    """Shared vocabulary does not outvote an explicit "isn't" (the learned model alone sometimes let it)."""
    _, rung = bank.rung("dl-interviews:before-choosing-dl")
    denied = grader.grade(
        rung,
        "a bigger network isn't the safe option here. with a few thousand rows it mostly memorizes unless i start from a "
        "pretrained model, and i'd ask about latency and whether decisions have to be explained",
    )
    stated = grader.grade(
        rung, "a bigger model is the safe choice, more parameters can only help accuracy, so i'd go as big as i can"
    )
    assert "more-params-more-accuracy" not in {m.id for m in denied.misconceptions}, denied.misconceptions
    assert "more-params-more-accuracy" in {m.id for m in stated.misconceptions}, stated.misconceptions


@pytest.mark.slow
def test_a_negation_in_the_previous_sentence_does_not_hide_a_belief(grader, bank) -> None:
    _, rung = bank.rung("dropout:what-it-does")
    g = grader.grade(
        rung,
        "i don't think it's complicated. dropout removes neurons from the network permanently, so the model you "
        "ship ends up smaller",
    )
    assert "permanent-pruning" in {m.id for m in g.misconceptions}, g.misconceptions


@pytest.mark.slow
@pytest.mark.parametrize(
    ("ref", "plain", "rejection"),
    [
        (
            "dropout:what-it-does",
            "during training it zeroes a random fraction of the units on every step, with a fresh mask each time, which "
            "is like training lots of thinned networks that share weights",
            "dropout doesn't remove any neurons for good. ",
        ),
        (
            "weight-decay:values-and-exclusions",
            "with adamw something like 0.01 to 0.1 is typical, bert used 0.01",
            "one e minus four isn't a universal default that carries over from sgd. ",
        ),
        (
            "overfitting:recognize",
            "the model memorizes noise in the training set, so validation performance falls well behind training",
            "near perfect training accuracy on its own doesn't mean the model is good. ",
        ),
    ],
)
def test_naming_a_pitfall_to_reject_it_earns_credit(grader, bank, ref: str, plain: str, rejection: str) -> None:
    """The same right answer, with and without a rubric misconception rejected in front of it."""
    _, rung = bank.rung(ref)
    a, b = grader.grade(rung, plain), grader.grade(rung, rejection + plain)
    assert not b.misconceptions, b.misconceptions
    assert b.raw >= a.raw + grader.params.reject_bonus / 2 and b.score > a.score, (a.raw, b.raw, a.score, b.score)


@pytest.mark.slow
def test_a_point_is_read_from_its_best_reading_not_only_its_closest_window(grader, bank) -> None:
    """A rejection sentence sits closest in cosine to "exclude biases and norms from decay";
    the sentence that names them must still earn the point."""
    _, rung = bank.rung("weight-decay:values-and-exclusions")
    g = grader.grade(
        rung,
        "you shouldn't decay every parameter equally. biases and the layernorm gains and shifts go in a separate "
        "parameter group without decay",
    )
    assert next(p for p in g.points if p.id == "exclude-bias-norm").hit, g.points
