"""What every Studio page handler shares: the templates, a page drawn with the header's
versions and the CSRF token, and reading a request's body. Kept apart from the handlers
so that app.py's pages and forms.py's forms both use it without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from earmark.errors import PackError
from earmark.studio.catalog import heat
from earmark.studio.state import Studio

HERE = Path(__file__).parent
T = TypeVar("T")

templates = Jinja2Templates(directory=HERE / "templates")  # autoescapes .html
templates.env.globals["heat"] = heat


def product_url(product_id: str) -> str:
    """A product page's address. Every character of the id is escaped, "/" too: an id such
    as `a/../../rules` would otherwise lead to /rules, and `?`, `#` or `%2F` to a 404."""
    return "/product/" + quote(product_id, safe="")


templates.env.globals["product_url"] = product_url


def studio_of(request: Request) -> Studio:
    studio: Studio = request.app.state.studio
    return studio


def page(request: Request, name: str, **context: Any) -> Response:
    studio = studio_of(request)
    context.update(
        csrf=request.scope["state"]["csrf"],
        working_version=_version(studio, "working"),
        live_version=_version(studio, "live"),
        here=name,
    )
    return templates.TemplateResponse(request, name, context)


def _version(studio: Studio, role: str) -> str:
    loaded = studio.evaluator(role)
    return "does not load" if isinstance(loaded, PackError) else loaded.pack.version


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(400, "the request body is not JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "the request body must be a JSON object")
    return body


async def form_body(request: Request) -> dict[str, str]:
    """A urlencoded form (htmx's), read without python-multipart: Studio's forms are small."""
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace")))


async def in_thread(function: Callable[..., T], *args: Any) -> T:
    return await run_in_threadpool(function, *args)
