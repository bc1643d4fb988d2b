"""Jinja2 environment, template globals and the one ``render`` helper routes call.

A request from HTMX (``HX-Request`` without ``HX-Boosted``) gets only the named block of the
page template; every other request gets the full page. ``Vary: HX-Request`` says so to caches.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup

from app.core.markdown import render_markdown
from app.web import i18n
from app.web.csrf import attach_anon_cookie, csrf_token
from app.web.forms import new_form_nonce

TEMPLATE_DIR = Path(__file__).resolve().parent.parent.parent / "templates"


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true" and request.headers.get("hx-boosted") != "true"


def url(request: Request, name: str, /, query: dict[str, Any] | None = None, **params: Any) -> str:
    """A path for a named route, in the request's locale (English paths start with /en)."""
    path = str(request.app.url_path_for(name, **params))
    if i18n.get_locale() == "en":
        path = "/en" + (path if path != "/" else "/")
    if query:
        path += "?" + urlencode({k: v for k, v in query.items() if v not in (None, "")})
    return path


def switch_locale_url(request: Request, locale: str) -> str:
    path = request.url.path
    query = ("?" + request.url.query) if request.url.query else ""
    if locale == "en":
        return ("/en" + path if path != "/" else "/en/") + query
    return path + query


def _context(request: Request) -> dict[str, Any]:
    viewer = getattr(request.state, "viewer", None)
    territory = getattr(request.state, "territory", None)

    def _url(name: str, /, query: dict[str, Any] | None = None, **params: Any) -> str:
        return url(request, name, query=query, **params)

    def _csrf_fields() -> Markup:
        return Markup(
            '<input type="hidden" name="csrf_token" value="{}"><input type="hidden" name="form_nonce" value="{}">'
        ).format(csrf_token(request), new_form_nonce(request))

    return {
        "viewer": viewer,
        "territory": territory,
        "locale": i18n.get_locale(),
        "url": _url,
        "csrf_token": lambda: csrf_token(request),
        "csrf_fields": _csrf_fields,
        "switch_locale_url": lambda loc: switch_locale_url(request, loc),
        "current_path": request.url.path,
        "is_htmx": is_htmx(request),
        "flash": request.state.flash if hasattr(request.state, "flash") else None,
        "settings": request.app.state.settings,
    }


ACCESSIBILITY_LABELS = {
    "non_conforme": i18n.N_("non conforme"),
    "partiellement_conforme": i18n.N_("partiellement conforme"),
    "totalement_conforme": i18n.N_("totalement conforme"),
}


def accessibility_label(status: str) -> str:
    return i18n.gettext(ACCESSIBILITY_LABELS.get(status, ACCESSIBILITY_LABELS["non_conforme"]))


def build_templates() -> Jinja2Blocks:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        extensions=["jinja2.ext.i18n"],
        # Text e-mails (.txt) are plain text; everything else is HTML and escaped.
        autoescape=lambda name: not (name or "").endswith(".txt"),
        auto_reload=False,
    )
    templates = Jinja2Blocks(env=env, context_processors=[_context])
    cast(Any, env).install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext)
    env.filters["money"] = i18n.money
    env.filters["number"] = i18n.number
    env.filters["date"] = i18n.date
    env.filters["datetime"] = i18n.datetime
    env.filters["markdown"] = render_markdown
    env.globals["today"] = dt.date.today
    env.globals["accessibility_label"] = accessibility_label
    env.globals["static_version"] = "1"
    return templates


templates = build_templates()


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Renders a page, or only ``block`` for an HTMX request when a block is named."""
    ctx = dict(context or {})
    block_name = block if (block and is_htmx(request)) else None
    if block_name is not None:
        response = templates.TemplateResponse(
            request, template, ctx, status_code=status_code, block_name=block_name, headers=headers
        )
    else:
        response = templates.TemplateResponse(request, template, ctx, status_code=status_code, headers=headers)
    attach_anon_cookie(request, response)
    return cast(HTMLResponse, response)
