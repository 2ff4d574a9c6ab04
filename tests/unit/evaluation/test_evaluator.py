"""One loaded pack ready to evaluate (evaluation/evaluator.py): plain data validated as a
request would be, the shopper's language chosen, words composed only when asked for, and
a pack the engine refuses reported like any other pack problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from earmark.errors import EngineFailure, InvalidArgument, PackError
from earmark.evaluation import evaluator as evaluator_module
from earmark.evaluation.evaluator import Evaluator
from earmark.evaluation.validation import Subject

from helpers import BOOM_GAMING_HEADSET


def test_plain_data_is_validated_as_a_request_is(evaluator: Evaluator) -> None:
    with pytest.raises(InvalidArgument) as refused:
        evaluator.verdict_for("p", {"weight_g": "heavy"})
    assert "specs.weight_g='heavy'" in refused.value.message
    with pytest.raises(InvalidArgument) as refused:
        evaluator.verdict_for("p", {}, locale="not a tag")
    assert "locale='not a tag'" in refused.value.message


def test_the_shoppers_language_picks_the_words_and_an_unknown_one_gets_the_default(
    evaluator: Evaluator,
) -> None:
    german = evaluator.verdict_for("p", BOOM_GAMING_HEADSET, locale="de-AT")
    english = evaluator.verdict_for("p", BOOM_GAMING_HEADSET, locale="fr-FR")
    assert german.scores[0].explanation.startswith(("Hervorragend", "Gut", "Zur Not", "Nicht"))
    assert (
        english.scores[0].explanation == evaluator.verdict_for("p", BOOM_GAMING_HEADSET).scores[0].explanation
    )
    assert [s.value for s in german.scores] == [s.value for s in english.scores]


def test_without_words_the_scores_are_the_same_and_nothing_is_composed(evaluator: Evaluator) -> None:
    subject = Subject("p", evaluator.validator.specs(BOOM_GAMING_HEADSET), None, None)
    worded = evaluator.evaluate(subject)
    bare = evaluator.evaluate(subject, words=False)
    assert [(s.use_case.id, s.value) for s in worded.scores] == [
        (s.use_case.id, s.value) for s in bare.scores
    ]
    assert worded.category == bare.category
    assert all(s.explanation for s in worded.scores)
    assert not any(s.explanation for s in bare.scores)


def test_a_pack_the_engine_refuses_is_a_pack_problem_at_its_manifest(
    pack_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit checks keep known failures from the engine; one they miss must still
    reach the author as a problem, not as a crash of the command or the server."""

    def refuse(pack: object) -> None:
        raise EngineFailure("durable_rules returned error 12")

    monkeypatch.setattr(evaluator_module, "CompiledRules", refuse)
    with pytest.raises(PackError) as refused:
        Evaluator.from_directory(pack_copy)
    assert ["engine-refused"] == [p.code for p in refused.value.problems]
    assert refused.value.problems[0].path.endswith("pack.yaml")
    assert "error 12" in refused.value.problems[0].message
