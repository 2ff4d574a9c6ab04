"""What a pack change does to the contract storefronts rely on (`earmark diff`, reloads).

A pack is part of the API: its attributes decide which requests are accepted, its use
cases and categories what a verdict holds. Publishing can break calls that worked
before: once a range narrows, a value outside it is refused. Each change is listed with
whether it is breaking: a request valid under the old pack can now be refused, or
something a client may read (a use case, a category) is gone.

A new attribute is compatible: no request has to change to stay valid. Only a catalog
that already sends the name, with values the new declaration refuses, is hurt, and that
is a fact about the catalog, which `earmark diff --catalog` checks (its newly refused
products fail --fail-on breaking).
"""

from __future__ import annotations

from dataclasses import dataclass

from earmark.rulepack.model import Attribute, AttrType, Pack


@dataclass(frozen=True, order=True)
class ContractChange:
    subject: str  # "specs.water_resistance", "use case meetings", ...
    change: str  # what changed, in words
    breaking: bool

    def __str__(self) -> str:
        return f"{'BREAKING' if self.breaking else 'compatible'}: {self.subject}: {self.change}"


def contract_changes(old: Pack, new: Pack) -> list[ContractChange]:
    """Every difference between the packs' contracts, breaking ones first."""
    changes: list[ContractChange] = []
    for section, before, after in (("specs", old.specs, new.specs), ("shopper", old.shopper, new.shopper)):
        old_by_name = {a.name: a for a in before}
        new_by_name = {a.name: a for a in after}
        for name in sorted(new_by_name.keys() - old_by_name.keys()):
            attribute = new_by_name[name]
            # Compatible by itself: no request has to change, and growing the vocabulary
            # must not need --allow-breaking. What could break is a catalog that already
            # sends the name with other values, ignored until now: `earmark diff --catalog`
            # shows those products as newly refused, which --fail-on breaking fails on.
            changes.append(
                ContractChange(
                    f"{section}.{name}",
                    f"declared as {_kind(attribute)}; only a request already sending it with other "
                    "values would now be refused (--catalog checks)",
                    False,
                )
            )
        for name in sorted(old_by_name.keys() - new_by_name.keys()):
            changes.append(
                ContractChange(
                    f"{section}.{name}",
                    "no longer declared; requests may still send it, and it is ignored",
                    False,
                )
            )
        for name in sorted(old_by_name.keys() & new_by_name.keys()):
            changes += _attribute_changes(f"{section}.{name}", old_by_name[name], new_by_name[name])
    changes += _set_changes(
        "use case", [u.id for u in old.use_cases], [u.id for u in new.use_cases], "every verdict's scores"
    )
    changes += _set_changes(
        "category", [c.id for c in old.categories], [c.id for c in new.categories], "verdicts' categories"
    )
    return sorted(changes, key=lambda c: (not c.breaking, c.subject))


def _kind(attribute: Attribute) -> str:
    if attribute.type in (AttrType.ENUM, AttrType.ENUM_LIST):
        return f"{attribute.type.value} of {', '.join(attribute.values)}"
    if attribute.type is AttrType.NUMBER and (attribute.minimum is not None or attribute.maximum is not None):
        return f"number from {_bound(attribute.minimum)} to {_bound(attribute.maximum)}"
    return str(attribute.type.value)


def _bound(value: float | None) -> str:
    if value is None:
        return "any"
    return f"{value:g}"


def _attribute_changes(subject: str, old: Attribute, new: Attribute) -> list[ContractChange]:
    if old.type is not new.type:
        return [ContractChange(subject, f"retyped from {_kind(old)} to {_kind(new)}", True)]
    changes = []
    removed = [v for v in old.values if v not in new.values]
    added = [v for v in new.values if v not in old.values]
    if removed:
        changes.append(
            ContractChange(
                subject, f"values removed: {', '.join(removed)}; requests sending them will be refused", True
            )
        )
    if added:
        changes.append(ContractChange(subject, f"values added: {', '.join(added)}", False))
    low_raised = new.minimum is not None and (old.minimum is None or new.minimum > old.minimum)
    high_lowered = new.maximum is not None and (old.maximum is None or new.maximum < old.maximum)
    if low_raised or high_lowered:
        changes.append(
            ContractChange(
                subject,
                f"range narrowed from {_bound(old.minimum)}..{_bound(old.maximum)} to "
                f"{_bound(new.minimum)}..{_bound(new.maximum)}; values outside it will be refused",
                True,
            )
        )
    elif (old.minimum, old.maximum) != (new.minimum, new.maximum):
        changes.append(
            ContractChange(
                subject,
                f"range widened from {_bound(old.minimum)}..{_bound(old.maximum)} to {_bound(new.minimum)}..{_bound(new.maximum)}",
                False,
            )
        )
    return changes


def _set_changes(what: str, old: list[str], new: list[str], where: str) -> list[ContractChange]:
    changes = [
        ContractChange(f"{what} {item}", f"added to {where}", False) for item in new if item not in old
    ]
    changes += [
        ContractChange(f"{what} {item}", f"removed from {where}; clients reading it will not find it", True)
        for item in old
        if item not in new
    ]
    return changes
