"""``/docs``: the HTTP API's own documentation (Swagger UI), served whole from this server.

FastAPI's stock page loads Swagger UI from a CDN and starts it with an inline script: under
the app's Content-Security-Policy (``script-src 'self'``, app/http/security.py) that is a
blank page, and offline it is one anyway. Here the assets are the vendored copies in
app/web/static (app/web/static/VENDORED.md) and the start-up is a static file, api-docs.js, which
reads the OpenAPI document's address from the page. ReDoc is not offered: it injects its
styles at run time, which the policy (``style-src 'self'``) refuses.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import escape

SWAGGER_UI = "5.35.0"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – HTTP API</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/swagger-ui-{version}.css">
<script src="/static/swagger-ui-bundle-{version}.js" defer></script>
<script src="/static/api-docs.js" defer></script>
</head>
<body>
<main id="swagger-ui" data-openapi-url="{openapi_url}"><p>Loading the API description…</p></main>
</body>
</html>
"""

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def api_docs(request: Request) -> HTMLResponse:
    app = request.app
    openapi_url = request.scope.get("root_path", "").rstrip("/") + (app.openapi_url or "/openapi.json")
    return HTMLResponse(PAGE.format(title=escape(app.title), version=SWAGGER_UI, openapi_url=escape(openapi_url)))
