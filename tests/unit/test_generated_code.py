"""The committed gRPC code is exactly what `make proto` generates from proto/."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from helpers import ROOT


def test_generated_code_is_up_to_date(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("generate_proto", ROOT / "scripts" / "generate_proto.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(tmp_path)
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*_pb2*"))
    assert generated, "protoc produced nothing"
    for relative in generated:
        committed = ROOT / "service" / relative
        assert committed.exists(), f"{relative} is not committed; run `make proto`"
        assert committed.read_text() == (tmp_path / relative).read_text(), (
            f"{relative} is stale; run `make proto`"
        )
