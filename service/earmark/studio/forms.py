"""Studio's forms: a rule, a use case and an attribute, made or changed without writing
YAML (issue 24). Each form is drawn on the server; htmx draws it again when a choice
changes what the rest of it offers (an attribute's tests and values). A save goes
through Studio.edit: the file's new text is checked like the editor's, and saved only
when it has no error; the problems come back in the checker's own words.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from earmark.authoring import rule_form, rule_table, vocabulary_form
from earmark.authoring.rule_form import TEST_WORDS, ConditionLine, RuleForm
from earmark.authoring.vocabulary_form import AttributeForm, UseCaseForm
from earmark.errors import FileRefused, FormRefused, PackError
from earmark.rulepack.analysis import attributes_valued
from earmark.rulepack.model import AttrType, Pack
from earmark.studio.pages import form_body, in_thread, page, studio_of
from earmark.studio.state import Studio
from earmark.studio.workspace import CheckedText

NEW_FILE = "(a new file)"


FormHandler = Callable[[Request, dict[str, str] | None], Response]


def _off_the_loop(handler: FormHandler) -> Callable[[Request], Awaitable[Response]]:
    """A form page as Starlette runs it: the posted body (None for a GET) is read on the
    event loop, and the handler, which loads packs and checks saves for seconds, runs in
    the thread pool, as every other page of Studio does."""

    async def endpoint(request: Request) -> Response:
        fields = await form_body(request) if request.method == "POST" else None
        return await in_thread(handler, request, fields)

    return endpoint


def _rule_page(
    request: Request, fields: dict[str, str] | None, use_case: UseCaseForm | None = None
) -> Response:
    """GET /rule/new?file=F, GET /rule/ID (the working copy's rule ID), POST /rule."""
    studio = studio_of(request)
    pack = studio.evaluator("working")
    if isinstance(pack, PackError):
        return page(request, "broken.html", error=pack)
    files = rule_form.rule_files(studio.working.files())
    outcome: dict[str, Any] = {}
    new_file_name = ""
    if fields is None:
        rule_id = request.path_params.get("rule_id")
        if rule_id:
            texts = {f: studio.working.read(f) for f in files}
            file = rule_form.find_rule(texts, rule_id)
            if file is None:
                return page(request, "broken_form.html", problem=f"the working copy has no rule {rule_id!r}")
            form = rule_form.read_form(file, texts[file], rule_id, pack.pack)
        else:
            wanted = request.query_params.get("file", "")
            form = RuleForm(
                file=wanted if wanted in files else (files[0] if files else NEW_FILE),
                original_id=None,
                tests=[ConditionLine("", "")],  # a first empty line to fill in
            )
    else:
        new_file_name = fields.get("new_file", "")
        use_case = _use_case_from(fields, pack.pack.locales) if fields.get("with_use_case") else None
        form = _rule_from(fields, pack.pack, use_case)
        action = fields.get("action", "")
        if action == "add-test":
            form.tests.append(ConditionLine("", ""))
        elif action.startswith("remove-test-") and action.removeprefix("remove-test-").isdigit():
            index = int(action.removeprefix("remove-test-"))
            if index < len(form.tests):
                del form.tests[index]
        elif action in ("save", "delete"):
            outcome = _save_rule(studio, form, fields, use_case, action)
            if outcome["saved"]:  # the page shows the pack as saved: a new use case, a new file
                files = rule_form.rule_files(studio.working.files())
                reloaded = studio.evaluator("working")
                pack = reloaded if not isinstance(reloaded, PackError) else pack
    return page(
        request,
        "rule_form.html",
        form=form,
        files=files,
        new_file=NEW_FILE,
        new_file_name=new_file_name,
        pack=pack.pack,
        rows=[_row(test, pack.pack) for test in form.tests],
        tests_in_words=TEST_WORDS,
        use_case=use_case,
        **outcome,
    )


def _use_case_page(request: Request, fields: dict[str, str] | None) -> Response:
    """GET /use-case/new: the rule form with a new use case above it. A use case no rule
    scores doesn't load (every product would get its default), so the two are made and
    checked together, and saved together."""
    return _rule_page(request, fields, UseCaseForm())


rule_page = _off_the_loop(_rule_page)
use_case_page = _off_the_loop(_use_case_page)


def _save_rule(
    studio: Studio, form: RuleForm, fields: dict[str, str], use_case: UseCaseForm | None, action: str
) -> dict[str, Any]:
    """Write the form into its file (a new one if asked), and a new use case into
    pack.yaml, through Studio.edit; what the page says about it: the problems, or that it
    was saved and how often the rule fires."""
    try:
        if form.file == NEW_FILE:
            form.file, empty = rule_form.new_file_text(fields.get("new_file", ""), studio.working.files())
        else:
            empty = None
        evaluator = studio.evaluator("working")
        assert not isinstance(evaluator, PackError)  # rule_page drew the form from it
        pack = evaluator.pack

        def change_rules(text: str | None) -> str:
            if text is None and empty is None:
                raise FormRefused(f"{form.file} no longer exists; choose another file")
            if action == "delete":
                assert form.original_id is not None and text is not None
                return rule_form.delete_rule(text, form.file, form.original_id)
            return rule_form.write_form(text if text is not None else str(empty), form, pack)

        changes: dict[str, Callable[[str | None], str]] = {form.file: change_rules}
        if use_case is not None:
            changes[vocabulary_form.MANIFEST] = _manifest_change(
                lambda text: vocabulary_form.add_use_case(text, use_case, pack.locales)
            )
        checked, saved = studio.edit(changes)
    except (FormRefused, FileRefused) as exc:
        return {"problems": [str(exc)], "saved": False}
    if not saved:
        return {"problems": _plain(checked, form.file), "saved": False}
    if action == "delete":
        return {"saved": True, "deleted": form.original_id}
    form.original_id = form.id.strip()
    catalog = studio.catalog("working")
    if isinstance(catalog, PackError):
        return {"saved": True, "hits": None, "elsewhere": _plain(checked, None)}
    rule = catalog.pack.rules_by_id.get(form.original_id)
    return {
        "saved": True,
        "hits": catalog.hits.get(form.original_id, 0),
        "products": len(catalog.rows),
        "undecided": catalog.undecided.get(form.original_id, 0),
        "valued": sorted(attributes_valued(rule)) if rule else [],
        "elsewhere": _plain(checked, None),
    }


def _plain(checked: CheckedText, file: str | None) -> list[str]:
    """The problems as sentences: those of `file` (every file's, with None) without a line
    number, since the person never saw the lines; the rest with their file."""
    found = []
    for problem in checked.problems:
        if problem.severity != "error":
            continue
        if file is None or problem.path == file:
            found.append(problem.message)
        else:
            found.append(f"{problem.path}: {problem.message}")
    return found


def _use_case_from(fields: dict[str, str], locales: tuple[str, ...]) -> UseCaseForm:
    return UseCaseForm(
        id=fields.get("uc-id", ""),
        titles={loc: fields.get(f"uc-title-{loc}", "") for loc in locales},
        phrases={loc: fields.get(f"uc-phrase-{loc}", "") for loc in locales},
        default=fields.get("uc-default", ""),
        floor=fields.get("uc-floor", ""),
    )


def _rule_from(fields: dict[str, str], pack: Pack, use_case: UseCaseForm | None) -> RuleForm:
    count = int(fields.get("tests", "0") or 0) if fields.get("tests", "0").isdigit() else 0
    tests = [
        ConditionLine(
            fields.get(f"test-{i}-attribute", ""),
            fields.get(f"test-{i}-test", ""),
            fields.get(f"test-{i}-value", ""),
        )
        for i in range(min(count, 50))
    ]
    return RuleForm(
        file=fields.get("file", ""),
        original_id=fields.get("original_id") or None,
        id=fields.get("id", ""),
        description=fields.get("description", ""),
        tests=tests,
        written_conditions=fields.get("written_conditions") if "written_conditions" in fields else None,
        category=fields.get("category", ""),
        scores={
            **{uc.id: fields.get(f"score-{uc.id}", "") for uc in pack.use_cases},
            **(
                {use_case.id.strip(): fields.get("score-new-use-case", "")}
                if use_case and use_case.id.strip()
                else {}
            ),
        },
        fit=fields.get("fit", ""),
        say={locale: fields.get(f"say-{locale}", "") for locale in pack.locales},
    )


def _row(test: ConditionLine, pack: Pack) -> dict[str, Any]:
    """What the form offers for one test: the tests that fit the attribute's type, and a
    hint of the values it takes."""
    attribute = next((a for a in (*pack.specs, *pack.shopper) if a.ref == test.attribute), None)
    if attribute is None:
        return {"test": test, "tests": list(TEST_WORDS), "values": [], "hint": "choose what to test"}
    kind = attribute.type
    if attribute.values:
        hint = "one of: " + ", ".join(attribute.values)
    elif kind is AttrType.NUMBER:
        low = "" if attribute.minimum is None else f" from {attribute.minimum:g}"
        high = "" if attribute.maximum is None else f" to {attribute.maximum:g}"
        hint = f"a number{low}{high}"
    elif kind is AttrType.BOOL:
        hint = "yes or no"
    else:
        hint = "a text"
    values = list(attribute.values) or (["yes", "no"] if kind is AttrType.BOOL else [])
    return {
        "test": test,
        "tests": rule_form.tests_allowed(attribute),
        "values": values,
        "hint": hint + ("; several parted by commas" if test.test in rule_form.MANY_VALUES else ""),
        "description": attribute.description,
    }


# ---- a rule file as a table --------------------------------------------------------------


def _table_page(request: Request, fields: dict[str, str] | None) -> Response:
    """GET and POST /table/FILE: the file's rules as a decision table, its values editable."""
    studio = studio_of(request)
    evaluator = studio.evaluator("working")
    if isinstance(evaluator, PackError):
        return page(request, "broken.html", error=evaluator)
    file = request.path_params["path"]
    if file not in rule_form.rule_files(studio.working.files()):
        return page(request, "broken_form.html", problem=f"{file!r} is not a rule file of the working copy")
    outcome: dict[str, Any] = {}
    if fields is not None:
        posted, pack = fields, evaluator.pack
        outcome = _save_changes(
            studio,
            {file: _existing(file, lambda text: rule_table.write_table(text, file, posted, pack))},
            file,
        )
        reloaded = studio.evaluator("working")
        evaluator = reloaded if not isinstance(reloaded, PackError) else evaluator
    try:
        table = rule_table.read_table(file, studio.working.read(file), evaluator.pack)
    except FormRefused as exc:
        return page(request, "broken_form.html", problem=str(exc))
    catalog = studio.catalog("working")
    return page(
        request,
        "rule_table.html",
        table=table,
        pack=evaluator.pack,
        hits={} if isinstance(catalog, PackError) else catalog.hits,
        **outcome,
    )


def _existing(file: str, change: Callable[[str], str]) -> Callable[[str | None], str]:
    def changed(text: str | None) -> str:
        if text is None:
            raise FormRefused(f"{file} no longer exists")
        return change(text)

    return changed


def _save_changes(
    studio: Studio, changes: dict[str, Callable[[str | None], str]], file: str
) -> dict[str, Any]:
    try:
        checked, saved = studio.edit(changes)
    except (FormRefused, FileRefused) as exc:
        return {"problems": [str(exc)], "saved": False}
    if not saved:
        return {"problems": _plain(checked, file), "saved": False}
    return {"saved": True, "elsewhere": _plain(checked, None)}


# ---- use cases and attributes ------------------------------------------------------------


def _attribute_page(request: Request, fields: dict[str, str] | None) -> Response:
    studio = studio_of(request)
    evaluator = studio.evaluator("working")
    if isinstance(evaluator, PackError):
        return page(request, "broken.html", error=evaluator)
    form, outcome = AttributeForm(), {}
    if fields is not None:
        form = AttributeForm(
            side=fields.get("side", "specs"),
            name=fields.get("name", ""),
            type=fields.get("type", ""),
            values=fields.get("values", ""),
            minimum=fields.get("minimum", ""),
            maximum=fields.get("maximum", ""),
            description=fields.get("description", ""),
        )
        outcome = _save_manifest(studio, lambda text: vocabulary_form.add_attribute(text, form))
    return page(request, "attribute_form.html", form=form, types=[t.value for t in AttrType], **outcome)


table_page = _off_the_loop(_table_page)
attribute_page = _off_the_loop(_attribute_page)


def _manifest_change(change: Callable[[str], str]) -> Callable[[str | None], str]:
    return _existing(vocabulary_form.MANIFEST, change)


def _save_manifest(studio: Studio, change: Callable[[str], str]) -> dict[str, Any]:
    return _save_changes(
        studio, {vocabulary_form.MANIFEST: _manifest_change(change)}, vocabulary_form.MANIFEST
    )
