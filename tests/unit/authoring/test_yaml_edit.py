"""Round-trip editing (authoring/yaml_edit.py): a pack file loads and dumps back byte for
byte, and an item added to a list goes after what ended the list, not before it."""

from __future__ import annotations

import re

import pytest

from earmark.authoring import yaml_edit
from earmark.config import BUNDLED_RULES
from earmark.errors import FormRefused


@pytest.mark.parametrize("name", sorted(p.name for p in BUNDLED_RULES.glob("*.yaml")))
def test_every_bundled_pack_file_dumps_back_byte_for_byte(name: str) -> None:
    text = (BUNDLED_RULES / name).read_text(encoding="utf-8")
    assert text == yaml_edit.dump(yaml_edit.load(text, name))


def test_an_appended_item_goes_below_the_blank_line_and_comment_that_ended_the_list() -> None:
    text = "items:\n  - id: a\n    say:\n      en: first\n\n# the next section\nafter: 1\n"
    document = yaml_edit.load(text, "x.yaml")
    yaml_edit.append(document["items"], yaml_edit.block({"id": "b"}), blank_line=True)
    assert (
        "items:\n  - id: a\n    say:\n      en: first\n\n  - id: b\n\n# the next section\nafter: 1\n"
        == yaml_edit.dump(document)
    )


def test_text_that_is_not_yaml_is_refused_naming_the_file() -> None:
    with pytest.raises(FormRefused, match=re.escape("comfort.yaml can't be read as YAML")):
        yaml_edit.load("rules: [unclosed\n", "comfort.yaml")
