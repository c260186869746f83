"""Worded answers with units in five languages, options written with their text, whole solutions as
the gold, and letters inside expressions that are not options. Inputs written here."""

from __future__ import annotations

import pytest

from synth.verify import check
from synth.verify.choice import find_choice, gold_option
from synth.verify.decide import read_gold
from synth.verify.extract import value_in_phrase


@pytest.mark.parametrize(
    ("gold", "pred", "status"),
    [
        # French, German, Spanish, Chinese, English: the value a marked sentence states, with its unit
        ("240", "Calculons : 8 × 30 = 240.\nRéponse : Le loyer revient à 240 € par mois.", "correct"),
        ("240", "Réponse : Le loyer revient à 420 € par mois.", "incorrect"),
        ("7.5", "Also 15 / 2 = 7,5.\nAntwort: Jede Hälfte ist 7,5 m lang.", "correct"),
        ("7.5", "Antwort: Jede Hälfte ist 75 m lang.", "incorrect"),
        ("36", "La respuesta es: en total caben 36 litros.", "correct"),
        ("36", "La respuesta es: en total caben 63 litros.", "incorrect"),
        ("2/5", "答案：每人分到 (\\frac{2}{5}) 千克。", "correct"),
        ("2/5", "答案：每人分到 (\\frac{5}{2}) 千克。", "incorrect"),
        ("0.4", "答案是：每人分到 \\frac{2}{5} 千克。", "correct"),
        ("19", "The final answer is: she needs 19 more stickers.", "correct"),
        ("19", "The final answer is: she needs 91 more stickers.", "incorrect"),
        ("12", "Answer: 3 boxes of 4 make 3 * 4 = 12 pens.", "correct"),  # a written sum: its result
        # several values in a sentence commit to none of them
        ("5", "Answer: between 5 and 8 people came.", "incorrect"),
        # a ruled-out value inside the phrase
        ("12", "Réponse : il en reste 12, et non 21.", "correct"),
    ],
)
def test_worded_answers_with_units(gold, pred, status):
    verdict = check(gold, pred)
    assert verdict.status == status, verdict


def test_value_in_phrase():
    assert value_in_phrase("Le loyer revient à 240 € par mois") == "240 €"
    assert value_in_phrase("x^2 + 3 for all x > 1") is None  # maths, not a sentence
    assert value_in_phrase("between 5 and 8 people came") is None
    assert value_in_phrase("she walked 3 + 4 = 7 km") == "7 km"


@pytest.mark.parametrize(
    ("gold", "pred", "status"),
    [
        # option letter and text as the gold, a bare letter as the prediction, and the other way round
        ("D Marie Curie", "D", "correct"),
        ("D Marie Curie", "The answer is (d).", "correct"),
        ("D Marie Curie", "B", "incorrect"),
        ("D Marie Curie", "Marie Curie", "correct"),
        ("C) 2.75", "C", "correct"),
        ("C) 2.75", "11/4", "correct"),
        ("C", "C) 2.75", "correct"),
        ("C", "C. 3+\\mathrm{i}", "correct"),  # the i of the option's text is not a second letter
        ("C", "B) 2.75", "incorrect"),
        ("C", "C. No wait, the answer is D", "incorrect"),  # an option written out, then another letter chosen
        ("B", "(B) 12 cm", "correct"),
        # a letter inside an expression is a variable, never a chosen option
        ("D", "\\mathrm{D}*3", "incorrect"),
        ("D", "2D", "incorrect"),
        ("D", "D^{2}", "incorrect"),
        ("B", "x = B - 1", "incorrect"),
    ],
)
def test_options_with_text(gold, pred, status):
    verdict = check(gold, pred)
    assert verdict.status == status, verdict


def test_gold_options_and_words():
    assert gold_option("D Marie Curie") == ("D", "Marie Curie")
    assert gold_option("F Paris") == ("F", "Paris")
    # "A" and "I" are English words: a title or a sentence, never an option with its text
    assert gold_option("A Tale of Two Cities") is None and gold_option("I Robot") is None
    assert gold_option("A triangle") is None
    assert gold_option("D*3") is None and gold_option("B = 4") is None
    assert find_choice("\\mathrm{D}*3") is None
    assert find_choice("B) 0.5") == "B"


@pytest.mark.parametrize(
    ("gold", "pred", "status"),
    [
        # a GSM8K-style reference solution as the gold: its last value, without a marker
        ("Each box holds 6, so 4 boxes hold 4 * 6 = 24 eggs.\nShe used 5, so 24 - 5 = 19 are left.\nA: 19",
         "4 * 6 = 24 and 24 - 5 = 19.\n#### 19", "correct"),
        ("Each box holds 6, so 4 boxes hold 4 * 6 = 24 eggs.\nShe used 5, so 24 - 5 = 19 are left.\nA: 19",
         "4 * 6 = 24 eggs in all.\n#### 24", "incorrect"),
        # a MATH-style solution with a box, and one whose answer is a run of boxes
        (r"Factor: $(x-2)(x+5)=0$, so $x=\boxed{2}$ or $x=\boxed{-5}$.", r"x \in \{-5, 2\}", "correct"),
        (r"Factor: $(x-2)(x+5)=0$, so $x=\boxed{2}$ or $x=\boxed{-5}$.", r"\boxed{2}", "incorrect"),
        (r"Factor: $(x-2)(x+5)=0$, so the roots are $\boxed{2}$ and $\boxed{-5}$.", "-5, 2", "correct"),
        (r"The area is $\frac{1}{2} \cdot 6 \cdot 4 = \boxed{12}$.", "The area is 12 square units.", "correct"),
    ],
)
def test_solution_as_gold(gold, pred, status):
    verdict = check(gold, pred)
    assert verdict.status == status, verdict


def test_read_gold():
    assert tuple(read_gold("So 6 * 7 = 42 apples in all.\nShe gives 2 away, 42 - 2 = 40.\nA: 40")) == ("40", "last_number", None)
    # a long worded gold whose last number is met along the way is kept whole, not read as that number
    gold = "The least value is 3, reached when x = 2 and y is 1 on the edge of the square region"
    assert read_gold(gold)[0] == gold
    assert check(gold, "1").status != "correct"
    assert read_gold("The midpoints form a regular hexagon")[0] == "The midpoints form a regular hexagon"
    assert read_gold("12")[0] == "12"
