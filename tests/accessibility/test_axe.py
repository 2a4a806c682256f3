"""axe-core scans every page of the portal as the role that uses it, at desktop width and at
390 px: no serious or critical violation, and no page wider than a 390 px phone."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse

from accounts.models import Customer
from orders import services as order_services
from portal.submissions.models import Submission
from tests.conftest import log_in
from tests.orders.conftest import EXAMPLE_ORDER
from tests.security.conftest import grant_ops_permissions

WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
BLOCKING = {"serious", "critical"}
PECAN = "account_name=pecan&city=Houston&state=TX&zip_code=77002&country=US"
NEW_CUSTOMER = "account_name=Brand+New+Widgets&street=500+Elm+St&city=Plano&state=TX&zip_code=75075"


@pytest.fixture
def portal_objects(alice, carol, olivia):
    """One customer and one care order of alice's, so their pages have something to show."""
    grant_ops_permissions()
    submission = Submission.objects.create(
        kind="account_create", idempotency_key="a11y", payload={}
    )
    customer = Customer.objects.create(
        created_by=alice,
        submission=submission,
        name="Acme Widgets",
        street1="1 Main St",
        city="Plano",
        state_code="TX",
        post_code="75075",
        phone_number="7703316389",
    )
    order = order_services.submit_order(
        user=alice, order=None, request=EXAMPLE_ORDER, pins={}, draft_data={}
    )
    return {"customer": customer, "order": order}


def rep_pages(objects) -> list[tuple[str, str]]:
    order_form = reverse("orders:new") + "?account=81730304"
    return [
        ("home", reverse("home")),
        ("lookup", reverse("accounts:lookup")),
        ("lookup with results", f"{reverse('accounts:lookup')}?{PECAN}"),
        ("lookup without results", f"{reverse('accounts:lookup')}?{NEW_CUSTOMER}"),
        ("create", f"{reverse('accounts:create')}?{NEW_CUSTOMER}"),
        ("customers", reverse("accounts:customers")),
        ("search", reverse("accounts:search")),
        ("customer", reverse("accounts:customer", args=[objects["customer"].pk])),
        ("orders", reverse("orders:list")),
        ("order form", order_form),
        ("order form with errors", order_form + "#submit"),
        ("order", reverse("orders:detail", args=[objects["order"].pk])),
        ("notifications", reverse("notifications:list")),
    ]


def manager_pages(objects) -> list[tuple[str, str]]:
    return [("reports: the week", reverse("audit:report"))]


def ops_pages(objects) -> list[tuple[str, str]]:
    submission = objects["order"].submission_id
    return [
        ("ops home", reverse("ops_home")),
        ("bulk import", reverse("accounts:bulk")),
        ("reports: carrier calls", reverse("audit:carrier")),
        ("admin", reverse("admin:index")),
        ("submissions", reverse("admin:submissions_submission_changelist")),
        ("a submission", reverse("admin:submissions_submission_change", args=[submission])),
        ("system status", reverse("system_status")),
    ]


ROLES = {"alice": rep_pages, "carol": manager_pages, "olivia": ops_pages}


def open_page(page, url: str) -> None:
    """Go to `url`; "#submit" sends the order form empty, for its error state."""
    path, _, then = url.partition("#")
    response = page.goto(path)
    assert response.ok, f"{path} answered {response.status}"
    page.wait_for_load_state("networkidle")
    if then == "submit":
        page.get_by_role("button", name="Submit order").click()
        page.wait_for_load_state("networkidle")


def findings(page, axe: Axe, name: str, width: int) -> list[str]:
    """Each serious or critical violation, and a page wider than the screen, in plain lines."""
    found = []
    for violation in axe.run(page).response["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        found.append(
            f"{name} @ {width}px: {violation['impact']} {violation['id']}: "
            f"{violation['help']} -> {targets}"
        )
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        found.append(f"{name} @ {width}px: the page is {scroll_width}px wide (scrolls sideways)")
    return found


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", WIDTHS, ids=list(WIDTHS))
@pytest.mark.parametrize("username", ROLES, ids=["rep", "manager", "ops"])
def test_every_page_passes_axe(page, live_server, sandbox, portal_objects, username, width):
    axe = Axe()
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    log_in(page, live_server, username)
    if username == "alice":
        open_page(page, f"{live_server.url}{reverse('accounts:lookup')}?{NEW_CUSTOMER}")
    problems = []
    for name, url in ROLES[username](portal_objects):
        open_page(page, f"{live_server.url}{url}")
        assert "/login/" not in page.url, f"{name}: {username} was sent to log in"
        problems += findings(page, axe, name, WIDTHS[width][0])

    assert not problems, "\n" + "\n".join(problems)
