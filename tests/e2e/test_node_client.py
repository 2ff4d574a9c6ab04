"""A client in another language: Node.js with @grpc/grpc-js, built only from the .proto
files, calls Evaluate, EvaluateBatch and Health on a real server (npm installs it)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import grpc
import pytest

from helpers import TESTS, RunningServer, node_client_dir

NODE_DIR = TESTS / "node"


@pytest.fixture(scope="module")
def node_answer(running: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What tests/node/client.js printed after its calls to the running server."""
    work = node_client_dir(tmp_path_factory.mktemp("node") / "node")
    (work / "proto").symlink_to(NODE_DIR.parent.parent / "proto")  # client.js looks two levels up
    script = work / "client.js"
    script.write_text(script.read_text().replace('path.resolve(__dirname, "..", "..")', "__dirname"))
    done = subprocess.run(
        ["node", str(script), running.address], capture_output=True, text=True, timeout=60, check=False
    )
    assert 0 == done.returncode, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def test_a_node_client_gets_the_same_answers(node_answer: dict[str, Any]) -> None:
    answer = node_answer
    verdict = answer["evaluated"]["verdict"]
    assert ("node-headset", "headset") == (verdict["product_id"], verdict["category"])
    assert 7 == len(verdict["scores"]) and "Callcenter-Schichten" == verdict["scores"][5]["title"]
    items = answer["batch"]["items"]
    assert ["verdict", "error"] == [item["result"] for item in items]
    assert "INVALID_ARGUMENT" == items[1]["error"]["code"]
    assert grpc.StatusCode.INVALID_ARGUMENT.value[0] == answer["invalid"]["code"]
    assert "specs.battery_hours=-1" in answer["invalid"]["details"]
    assert "SERVING" == answer["health"]


def test_the_shapes_a_javascript_developer_writes_first_say_what_went_wrong(
    node_answer: dict[str, Any],
) -> None:
    plain, snake = node_answer["plain"], node_answer["snakeCase"]
    assert "unclassified" == plain["category"] == snake["category"]
    (empty,) = plain["warnings"]  # {mic: "boom"} is not a Struct: protobufjs drops it
    assert (
        empty.startswith("specs carries no attributes") and "{fields: {mic: {stringValue: 'boom'}}}" in empty
    )
    (no_kind,) = snake["warnings"]  # string_value is not a field of protobufjs' Value
    assert no_kind.startswith("specs.mic has no value") and "{stringValue: ...}" in no_kind
    assert [
        "specs.micc is not an attribute of this pack and was ignored (did you mean 'mic'?)"
    ] == node_answer["typo"]["warnings"]
    assert grpc.StatusCode.INVALID_ARGUMENT.value[0] == node_answer["strict"]["code"]
    assert node_answer["strict"]["details"].startswith("specs.micc: not an attribute of this pack")
