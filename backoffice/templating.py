"""Every HTML page of the back office comes from a Jinja2 template, autoescape on.

`setup_templates(app)` binds the templates folder to the application (aiohttp-jinja2);
handlers answer with `aiohttp_jinja2.render_template("name.html", request, context)`.
Values go into templates as plain data: the template escapes them, no handler writes HTML.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

TEMPLATES = Path(__file__).parent / "templates"


def environment(app: web.Application) -> jinja2.Environment:
    return aiohttp_jinja2.get_env(app)


def setup_templates(app: web.Application) -> jinja2.Environment:
    return aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
