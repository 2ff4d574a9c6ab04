"""A child process that runs rulesets on the real durable_rules engine for the limit tests:
one JSON job a line on stdin ({"definition": ..., "facts": [...]}), one answer a line.
It runs apart because past some limits the engine loops forever with the GIL held."""

from __future__ import annotations

import itertools
import json
import sys

import durable_rules_engine

names = itertools.count()
for line in sys.stdin:
    job = json.loads(line)
    try:
        handle = durable_rules_engine.create_ruleset(f"probe{next(names)}", json.dumps(job["definition"]))
        for fact in job["facts"]:
            _, state = durable_rules_engine.assert_fact(handle, json.dumps(fact))
            result = durable_rules_engine.start_action_for_state(handle, state)
            while result:
                result = durable_rules_engine.complete_and_start_action(handle, state)
            durable_rules_engine.retract_fact(handle, json.dumps(fact))
        answer = "ok"
    except Exception as exc:
        answer = f"error: {exc}"
    print(answer, flush=True)
