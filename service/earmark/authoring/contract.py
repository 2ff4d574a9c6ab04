"""What a pack change does to the contract storefronts rely on (`earmark diff`, reloads).

A pack is part of the API: its attributes decide which requests are accepted, its use
cases and categories what a verdict holds. Publishing can break calls that worked
before, and nothing in the catalog impact shows it: once `water_resistance` is declared
an enum, a request sending "IPX4", ignored until then, is refused. Each change is listed
with whether it is breaking: a request valid under the old pack can now be refused, or
something a client may read (a use case, a category) is gone.
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
            changes.append(
                ContractChange(
                    f"{section}.{name}",
                    f"declared as {_kind(attribute)}; requests that send it with another kind of value, "
                    "ignored until now, will be refused",
                    True,
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
