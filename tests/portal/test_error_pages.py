"""The portal's own 403, 404 and 500 pages, with DEBUG off as make run runs: never Django's."""

import json
import re
import subprocess

import pytest
from django.contrib.auth.decorators import login_not_required
from django.template import engines
from django.test import Client
from django.urls import path

from tests.conftest import ROOT

BRAND = '<a class="brand" href="/">Partner Sales Portal</a>'
# Django's technical pages: the URLconf's patterns, settings, tracebacks.
TECHNICAL = ("URLconf", "urlpatterns", "DEBUG = True", "Traceback", "Request Method")

# Rendered in make run's environment (bin/run-env), on a var dir of its own: settings as
# make run's processes have them, static files collected as bin/run collects them.
MAKE_RUN_PAGES = """
import json
import django

django.setup()
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.views import defaults


call_command("collectstatic", interactive=False, verbosity=0)
request = RequestFactory(HTTP_HOST="127.0.0.1").get("/orders/1/")
request.user = AnonymousUser()
not_found = Client(HTTP_HOST="127.0.0.1").get("/no-such-page/")
pages = {
    "404": not_found,
    "403": defaults.permission_denied(request, PermissionDenied()),
    "500": defaults.server_error(request),
}
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "pages": {name: [r.status_code, r.content.decode()] for name, r in pages.items()},
}))
"""


def test_under_make_run_403_404_and_500_are_the_portals_pages(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PORTAL_VAR_DIR": str(tmp_path / "var")}
    result = subprocess.run(
        [ROOT / "bin" / "run-env", ".venv/bin/python", "-c", MAKE_RUN_PAGES],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rendered = json.loads(result.stdout.strip().splitlines()[-1])

    assert rendered["DEBUG"] is False
    headings = {"403": "Not allowed", "404": "Not found", "500": "Something went wrong"}
    for name, (status, body) in rendered["pages"].items():
        assert status == int(name)
        assert f"<h1>{headings[name]}</h1>" in body
        assert BRAND in body
        assert 'rel="stylesheet"' in body
        for technical in TECHNICAL:
            assert technical not in body, (name, technical)


@login_not_required
def broken_view(request):
    raise RuntimeError("a bug")


urlpatterns = [path("broken/", broken_view)]


@pytest.mark.urls(__name__)
def test_the_500_page_looks_like_the_portal_and_needs_no_request_nor_database():
    # What Django's server_error does: the template with no context at all. No database
    # either: this test may not touch it (pytest-django refuses), and no tag of the page could.
    page = engines["django"].get_template("500.html").render()

    assert BRAND in page
    assert '<link rel="stylesheet" href="/static/css/portal.css">' in page
    assert "Nothing you submitted was lost" in page
    assert "{%" not in page and "{{" not in page

    response = Client(raise_request_exception=False).get("/broken/")

    assert response.status_code == 500
    # The same page, with the request's reference for ops (which a bare render cannot know).
    reference = f"Reference for ops: <code>{response['X-Request-ID']}</code>"
    assert reference in response.content.decode()
    served = re.sub(r"<p[^>]*>Reference for ops:.*?</p>", "", response.content.decode())
    assert served == page
