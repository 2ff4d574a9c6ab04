"""The response cache, the verdict cache and the composition memo change no answer: the
same randomized requests (locales, shoppers, read masks, traces, strict, enum values
however spelt, undeclared names) to a server with them on and to one with them off get
byte-identical responses, asked once, asked again, and asked under another product id;
a batch's products likewise, on pages that differ."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earmark.config import BUNDLED_RULES
from earmark.evaluation.evaluator import Evaluator
from earmark.rulepack.model import Attribute, AttrType
from earmark.server.live import LivePack
from earmark.v1 import earmark_pb2 as pb

from helpers import RunningServer, product, serving, struct

EVALUATOR = Evaluator.from_directory(BUNDLED_RULES)  # for its vocabulary only
MASKS = ["", "scores", "scores.score", "scores.explanation", "category,label", "fit.score", "explanation,fit"]


def _spellings(value: str) -> st.SearchStrategy[str]:
    return st.sampled_from([value, value.upper(), value.replace("_", " "), value.replace("_", "-").title()])


def _value(attribute: Attribute) -> st.SearchStrategy[Any]:
    low = attribute.minimum if attribute.minimum is not None else 0
    high = attribute.maximum if attribute.maximum is not None else 1000
    kinds: dict[AttrType, st.SearchStrategy[Any]] = {
        AttrType.ENUM: st.sampled_from(attribute.values or ("x",)).flatmap(_spellings),
        AttrType.ENUM_LIST: st.lists(
            st.sampled_from(attribute.values or ("x",)).flatmap(_spellings), max_size=3
        ),
        AttrType.NUMBER: st.integers(int(low), int(min(high, 10**6))).map(float)
        | st.floats(low, min(high, 10**6), allow_nan=False),
        AttrType.BOOL: st.booleans(),
        AttrType.TEXT: st.sampled_from(["LDAC", "aptX", "ldac", " AAC"]),
        AttrType.TEXT_LIST: st.lists(st.sampled_from(["LDAC", "aptX", "ldac", " AAC"]), max_size=3),
    }
    return kinds[attribute.type]


def _values(attributes: tuple[Attribute, ...], stray: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    declared = {a.name: _value(a) for a in attributes}
    return st.fixed_dictionaries({}, optional={**declared, **{name: st.just("boom") for name in stray}})


SPECS = _values(EVALUATOR.pack.specs, ["micc", "colour"])
SHOPPERS = st.none() | _values(EVALUATOR.pack.shopper, ["budget"])
OPTIONS = st.fixed_dictionaries(
    {
        "locale": st.sampled_from(["", "en", "de", "de-AT", "fr-FR"]),
        "trace": st.booleans(),
        "strict": st.booleans(),
        "mask": st.sampled_from(MASKS),
    }
)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[RunningServer, RunningServer]]:
    """Both on (the defaults), and both off; each over an evaluator of its own."""
    on, off = Evaluator.from_directory(BUNDLED_RULES), Evaluator.from_directory(BUNDLED_RULES)
    with serving(LivePack(on)) as cached, serving(LivePack(off), cache_entries=0, memo_entries=0) as plain:
        yield cached, plain


def _answer(call: Any, request: Any) -> bytes | tuple[str, str]:
    try:
        return call(request, timeout=10).SerializeToString(deterministic=True)  # type: ignore[no-any-return]
    except grpc.RpcError as exc:
        return (exc.code().name, exc.details() or "")


def _options(request: Any, options: dict[str, Any], shopper: dict[str, Any] | None) -> Any:
    request.trace, request.strict, request.locale = options["trace"], options["strict"], options["locale"]
    if options["mask"]:
        request.read_mask.CopyFrom(field_mask_pb2.FieldMask(paths=options["mask"].split(",")))
    if shopper is not None:
        request.shopper.CopyFrom(struct(shopper))
    return request


SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@SETTINGS
@given(specs=SPECS, shopper=SHOPPERS, options=OPTIONS)
def test_evaluate_answers_the_same_with_the_caches_on_or_off(
    servers: tuple[RunningServer, RunningServer],
    specs: dict[str, Any],
    shopper: dict[str, Any] | None,
    options: dict[str, Any],
) -> None:
    cached, plain = servers
    # The second is answered from the response cache, the third from the verdict cache
    # and the memo (another id: other bytes), on `cached`.
    for product_id in ("first", "first", "again"):
        request = _options(pb.EvaluateRequest(product=product(product_id, specs)), options, shopper)
        assert _answer(plain.stub.Evaluate, request) == _answer(cached.stub.Evaluate, request), product_id


@SETTINGS
@given(
    catalog=st.lists(SPECS, min_size=1, max_size=6),
    pages=st.lists(st.tuples(SHOPPERS, OPTIONS), min_size=2, max_size=3),
)
def test_a_batch_answers_the_same_with_the_caches_on_or_off(
    servers: tuple[RunningServer, RunningServer],
    catalog: list[dict[str, Any]],
    pages: list[tuple[dict[str, Any] | None, dict[str, Any]]],
) -> None:
    """The same products, each twice in a page, on pages that differ in shopper, locale,
    trace, strictness or read mask, each page asked twice: on `cached`, a product's
    second slot and the second asking are answered from kept items, and a page that
    differs must never get another page's items."""
    cached, plain = servers
    products = [product(f"p{i}", specs) for i, specs in enumerate(catalog)] * 2
    for shopper, options in pages:
        request = _options(pb.EvaluateBatchRequest(products=products), options, shopper)
        for asking in ("first", "again"):
            assert _answer(plain.stub.EvaluateBatch, request) == _answer(
                cached.stub.EvaluateBatch, request
            ), asking
