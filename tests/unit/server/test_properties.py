"""For any Struct of specs (or shopper), the answer is a verdict or INVALID_ARGUMENT:
never INTERNAL, never a crash."""

from __future__ import annotations

import grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earmark.config import BUNDLED_RULES
from earmark.rulepack.loader import load_pack

from helpers import RunningServer, evaluate_request

PACK = load_pack(BUNDLED_RULES)
SPEC_NAMES = [a.name for a in PACK.specs]
SHOPPER_NAMES = [a.name for a in PACK.shopper]
ALLOWED = sorted({v for a in (*PACK.specs, *PACK.shopper) for v in a.values} | {u.id for u in PACK.use_cases})

SCALARS = (
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(min_value=-(2**53), max_value=2**53).map(float)
    | st.sampled_from(ALLOWED)
    | st.text(max_size=30)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


def _structs(names: list[str]) -> st.SearchStrategy[dict]:
    keys = st.sampled_from(names) | st.text(max_size=12)
    return st.dictionaries(keys, VALUES, max_size=10)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(specs=_structs(SPEC_NAMES), shopper=st.none() | _structs(SHOPPER_NAMES))
def test_any_struct_gets_a_verdict_or_invalid_argument(
    running: RunningServer, specs: dict, shopper: dict | None
) -> None:
    try:
        verdict = running.stub.Evaluate(evaluate_request("p", specs, shopper), timeout=10).verdict
    except grpc.RpcError as exc:
        assert grpc.StatusCode.INVALID_ARGUMENT == exc.code(), exc.details()
        assert "=" in exc.details()  # names the field and the value
    else:
        assert len(PACK.use_cases) == len(verdict.scores)
        assert verdict.category in {"headphones", "headset", "unclassified"}
        assert verdict.HasField("fit") == (shopper is not None)
