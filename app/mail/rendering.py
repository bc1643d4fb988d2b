"""E-mail templates: ``templates/emails/<name>.txt`` with the subject on the first line,
and an optional ``<name>.html`` alternative. Rendered with the site's Jinja environment."""

from __future__ import annotations

from typing import Any

from jinja2 import TemplateNotFound

from app.web.i18n import use_locale
from app.web.templating import templates


def render_email(name: str, context: dict[str, Any], locale: str) -> tuple[str, str, str]:
    env = templates.env
    with use_locale(locale):
        text = env.get_template(f"emails/{name}.txt").render(**context, locale=locale)
        try:
            html = env.get_template(f"emails/{name}.html").render(**context, locale=locale)
        except TemplateNotFound:
            html = ""
    subject, _, body = text.partition("\n")
    return subject.strip()[:300], body.lstrip("\n"), html
