"""Earmark Studio's pages and its small JSON API, as one Starlette application.

Pages are drawn on the server (Jinja2); htmx swaps the catalog table and the what-if
panel, Vega-Lite draws the charts, CodeMirror is the editor. Handlers are plain functions
that Starlette runs in its thread pool: evaluating is CPU work under Studio's lock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from earmark.authoring.explain import breakdown
from earmark.authoring.schemas import schema_texts
from earmark.errors import BodyTooLarge, BreakingPublish, EarmarkError, FileRefused, PackError, PublishRefused
from earmark.rulepack.analysis import attributes_read
from earmark.rulepack.json_schema import EXAMPLES_SCHEMA, PACK_SCHEMA, RULES_SCHEMA
from earmark.rulepack.model import AttrType
from earmark.studio import charts
from earmark.studio.forms import attribute_page, rule_page, table_page, use_case_page
from earmark.studio.guard import Guard
from earmark.studio.pages import (
    HERE,
    form_body,
    in_thread,
    json_body,
    page,
    studio_of,
)
from earmark.studio.state import PublishResult, Studio

PAGE_SIZE = 200
_SCHEMAS = {"pack": PACK_SCHEMA, "rules": RULES_SCHEMA, "examples": EXAMPLES_SCHEMA}


def create_app(studio: Studio, *, token: str = "", loopback_only: bool = True) -> Guard:
    routes = [
        Route("/", catalog_page),
        Route("/product/{product_id:path}", product_page),
        Route("/rules", rules_page),
        Route("/edit", edit_page),
        Route("/edit/{path:path}", edit_page),
        Route("/preview", preview_page),
        Route("/try", try_page),
        Route("/history", history_page),
        Route("/rule/new", rule_page),
        Route("/rule/{rule_id}", rule_page),
        Route("/rule", rule_page, methods=["POST"]),
        Route("/table/{path:path}", table_page, methods=["GET", "POST"]),
        Route("/use-case/new", use_case_page, methods=["GET", "POST"]),
        Route("/attribute/new", attribute_page, methods=["GET", "POST"]),
        Route("/api/check", check_api, methods=["POST"]),
        Route("/api/files/{path:path}", file_api, methods=["GET", "PUT"]),
        Route("/api/schema/{kind}", schema_api),
        Route("/publish", publish_action, methods=["POST"]),
        Route("/restore/{version_id}", restore_action, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={BodyTooLarge: _too_large, FileRefused: _refused})
    app.state.studio = studio
    return Guard(app, token=token, loopback_only=loopback_only)


# ---- catalog, product, rules ------------------------------------------------------------


def catalog_page(request: Request) -> Response:
    studio = studio_of(request)
    catalog = studio.catalog("working")
    if isinstance(catalog, PackError):
        return page(request, "broken.html", error=catalog)
    query = request.query_params
    rows = catalog.select(
        text=query.get("q", ""), category=query.get("category", ""), sort=query.get("sort", "")
    )
    number = max(1, _int(query.get("page"), 1))
    shown = rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    kept = {k: v for k, v in query.items() if k != "page"}
    context = dict(
        catalog=catalog,
        pack=catalog.pack,
        rows=shown,
        total=len(rows),
        page=number,
        pages=pages,
        page_links=[(n, "/?" + urlencode({**kept, "page": n})) for n in range(1, pages + 1)],
        query=dict(query),
    )
    # htmx asks for the table alone when a filter changes.
    name = "catalog_table.html" if request.headers.get("hx-request") else "catalog.html"
    return page(request, name, **context)


def product_page(request: Request) -> Response:
    studio = studio_of(request)
    catalog = studio.catalog("working")
    if isinstance(catalog, PackError):
        return page(request, "broken.html", error=catalog)
    row = catalog.by_id.get(request.path_params["product_id"])
    if row is None:
        raise HTTPException(404, f"no product {request.path_params['product_id']!r} in the catalog")
    pack = catalog.pack
    shopper, shopper_error = _shopper_from(request, pack)
    verdicts, data = {}, None
    error = row.error
    if row.verdict is not None:
        try:
            for locale in pack.locales:
                verdicts[locale] = studio.verdict("working", row.id, row.product.specs, shopper, locale)
        except EarmarkError as exc:
            shopper_error, shopper = exc.message, None
            verdicts = {
                loc: studio.verdict("working", row.id, row.product.specs, None, loc) for loc in pack.locales
            }
        data = breakdown(verdicts[pack.default_locale], pack)
    context = dict(
        row=row,
        pack=pack,
        data=data,
        verdicts=verdicts,
        error=error,
        shopper=shopper or {},
        shopper_error=shopper_error,
        charts=_product_charts(data) if data else {},
        reason=catalog.unclassified_reason(row),
    )
    name = "product_panel.html" if request.headers.get("hx-request") else "product.html"
    return page(request, name, **context)


TRY_EXAMPLE = '{"mic": "integrated", "form_factor": "in_ear", "connectivity": ["bluetooth"], "noise_cancelling": "active"}'


def try_page(request: Request) -> Response:
    """A product that is not in the catalog: its specs typed or pasted as JSON (a catalog
    line's "specs"), and its verdict and waterfall under the working copy (issue 24)."""
    studio = studio_of(request)
    text = request.query_params.get("specs", "").strip()
    working = studio.evaluator("working")
    if isinstance(working, PackError):
        return page(request, "broken.html", error=working)
    attributes = [a.name for a in working.pack.specs]
    context: dict[str, Any] = {
        "text": text or TRY_EXAMPLE,
        "problem": None,
        "row": None,
        "pack_attributes": attributes,
    }
    if text:
        try:
            specs = json.loads(text)
        except (ValueError, RecursionError) as exc:  # nested past Python's limit: not a product either
            specs, context["problem"] = None, f"the specs are not JSON: {exc}"
        if specs is not None and not isinstance(specs, dict):
            specs, context["problem"] = None, 'the specs must be one JSON object, like {"mic": "boom"}'
        if specs is not None:
            try:
                row, verdicts, pack = studio.try_product(specs)
            except PackError as exc:
                return page(request, "broken.html", error=exc)
            data = breakdown(verdicts[pack.default_locale], pack) if verdicts else None
            context.update(
                row=row,
                verdicts=verdicts,
                error=row.error,
                data=data,
                charts=_product_charts(data) if data else {},
                shopper={},
                shopper_error=None,
                reason=None,
            )
    return page(request, "try.html", **context)


def _shopper_from(request: Request, pack: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The what-if shopper from the form's fields: only those filled in."""
    values: dict[str, Any] = {}
    for attribute in pack.shopper:
        if attribute.type.is_list:
            chosen = request.query_params.getlist(attribute.name)
            if chosen:
                values[attribute.name] = chosen
            continue
        raw = request.query_params.get(attribute.name, "").strip()
        if not raw:
            continue
        if attribute.type is AttrType.NUMBER:
            try:
                values[attribute.name] = float(raw)
            except ValueError:
                return None, f"shopper.{attribute.name}: {raw!r} is not a number"
        elif attribute.type is AttrType.BOOL:
            values[attribute.name] = raw == "true"
        else:
            values[attribute.name] = raw
    return (values or None), None


def _product_charts(data: dict[str, Any]) -> dict[str, Any]:
    found = {f"chart-{s['use_case']}": charts.waterfall(s, "default") for s in data["scores"]}
    if data["fit"] is not None:
        found["chart-fit"] = charts.waterfall(data["fit"], "mean of uses")
    return found


def rules_page(request: Request) -> Response:
    studio = studio_of(request)
    catalog = studio.catalog("working")
    if isinstance(catalog, PackError):
        return page(request, "broken.html", error=catalog)
    by_file: dict[str, list[Any]] = {}
    for rule in catalog.pack.rules:
        by_file.setdefault(Path(rule.location.path).name, []).append(rule)
    return page(
        request,
        "rules.html",
        by_file=by_file,
        hits=catalog.hits,
        undecided=catalog.undecided,
        products=len(catalog.rows),
        production=studio.production_hits(),
        warnings=studio.warnings(),
        # A catalog has no shopper, so a rule reading one never fires on it: not a fault.
        needs_shopper={rule.id for rule in catalog.pack.rules if attributes_read(rule, "shopper")},
    )


# ---- editing -----------------------------------------------------------------------------


def edit_page(request: Request) -> Response:
    studio = studio_of(request)
    files = studio.working.files()
    path = request.path_params.get("path") or (files[0] if files else "pack.yaml")
    text = studio.working.read(path)
    kind = "pack" if path == "pack.yaml" else "examples" if path.startswith("examples/") else "rules"
    return page(request, "edit.html", files=files, path=path, text=text, kind=kind)


async def check_api(request: Request) -> Response:
    body = await json_body(request)
    studio = studio_of(request)
    path, text = str(body.get("path", "")), str(body.get("text", ""))
    result = await in_thread(studio.check, path, text)
    return JSONResponse(
        {
            "version": result.version,
            "problems": [
                {
                    "path": p.path,
                    "line": p.line,
                    "column": p.column,
                    "code": p.code,
                    "severity": p.severity,
                    "message": p.message,
                }
                for p in result.problems
            ],
        }
    )


async def file_api(request: Request) -> Response:
    studio = studio_of(request)
    path = request.path_params["path"]
    if request.method == "GET":
        return PlainTextResponse(studio.working.read(path))
    body = await json_body(request)
    text = body.get("text")
    if not isinstance(text, str):
        return JSONResponse({"error": 'send the file as {"text": ...}'}, status_code=400)
    await in_thread(studio.save, path, text)
    # Whether the working copy loads now, so the page can say a broken file is broken
    # (and can't be published) and the header shows the version just saved.
    loaded = await in_thread(studio.evaluator, "working")
    if isinstance(loaded, PackError):
        return JSONResponse(
            {
                "saved": path,
                "loads": False,
                "problems": len(loaded.problems),
                "working_version": "does not load",
            }
        )
    return JSONResponse({"saved": path, "loads": True, "working_version": loaded.pack.version})


def schema_api(request: Request) -> Response:
    """The working copy's schema for one kind of file, made now: a value just declared in
    pack.yaml completes at once, without `earmark schemas`."""
    name = _SCHEMAS.get(request.path_params["kind"])
    if name is None:
        raise HTTPException(404, "schemas are: pack, rules, examples")
    try:
        texts = schema_texts(studio_of(request).working.root)
    except PackError:
        return JSONResponse({})  # pack.yaml doesn't load: no completion, the check says why
    return Response(texts[name], media_type="application/schema+json")


# ---- preview, publish, history -----------------------------------------------------------


def preview_page(request: Request) -> Response:
    preview = studio_of(request).preview()
    if isinstance(preview, PackError):
        return page(request, "broken.html", error=preview)
    histograms = {
        f"shift-{u['use_case']}": charts.shift_histogram(u)
        for u in preview.impact.get("use_cases", [])
        if u["histogram"]["raw"]
    }
    return page(request, "preview.html", preview=preview, impact=preview.impact, charts=histograms)


async def publish_action(request: Request) -> Response:
    form = await form_body(request)
    studio = studio_of(request)
    return await _published(
        request,
        form,
        lambda: studio.publish(
            who=form.get("who", ""),
            summary=form.get("summary", ""),
            allow_breaking=form.get("allow_breaking") == "yes",
        ),
    )


async def restore_action(request: Request) -> Response:
    form = await form_body(request)
    studio = studio_of(request)
    version_id = request.path_params["version_id"]
    if version_id not in {v.id for v in studio.history.versions()}:
        raise HTTPException(404, "no such version")
    return await _published(
        request,
        form,
        lambda: studio.restore(
            version_id, who=form.get("who", ""), allow_breaking=form.get("allow_breaking") == "yes"
        ),
    )


async def _published(request: Request, form: dict[str, str], run: Callable[[], PublishResult]) -> Response:
    """Run a publish (or restore) through the gate, and show what came of it. One that
    would break requests that work today lists what would break, in words, and asks for
    a confirmation that sends the same form again with allow_breaking (issue 24: an undo
    of a change to the contract answered with a command-line flag)."""
    try:
        result = await in_thread(run)
    except BreakingPublish as exc:
        again = {name: value for name, value in form.items() if name != "allow_breaking"}
        return page(request, "published.html", result=None, refusal=None, breaking=exc.changes, again=again)
    except (PackError, PublishRefused) as exc:
        return page(request, "published.html", result=None, refusal=_refusal_text(exc))
    return page(request, "published.html", result=result, refusal=None)


def history_page(request: Request) -> Response:
    versions, damaged = studio_of(request).history.read()
    return page(request, "history.html", versions=versions, damaged=damaged)


def _refusal_text(exc: Exception) -> str:
    return exc.report("the working copy") if isinstance(exc, PackError) else str(exc)


# ---- plumbing ----------------------------------------------------------------------------


def _int(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() else default


async def _too_large(request: Request, exc: Exception) -> Response:
    return PlainTextResponse("the request body is too large", status_code=413)


async def _refused(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=403)
