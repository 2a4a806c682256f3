"""Helpers of the security tests: more named users, objects built through the services."""

import dataclasses
import importlib
import uuid

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from accounts import bulk
from accounts.models import BulkImport, Customer
from orders.models import CareOrder
from orders.services import save_draft, submit_order
from portal.submissions.models import Status, Submission
from tests.conftest import _make_user
from tests.orders.conftest import EXAMPLE_ORDER

# Rows that change on any request whatever it does (sessions, login throttling).
VOLATILE_TABLES = ("django_session", "axes_accesslog", "axes_accessattempt")


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Users are made per test here, many of them: hash their passwords cheaply."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    """Bulk uploads are stored under VAR_DIR/imports: a folder of the test's own."""
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


@pytest.fixture
def dave(db):
    """A manager of team East."""
    return _make_user("dave", "manager", "East")


@pytest.fixture
def cathy(db):
    """A second manager of team Central."""
    return _make_user("cathy", "manager", "Central")


def client_for(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def grant_ops_permissions() -> None:
    """The ops group's admin permissions, as the data migrations grant them (a transactional
    test's flush removes them)."""
    ops, _ = Group.objects.get_or_create(name="ops")
    roles = importlib.import_module("portal.migrations.0002_roles_and_teams")
    roles._grant(apps, ops, roles.OPS_PERMISSIONS)
    try:
        more = importlib.import_module("portal.migrations.0003_ops_permissions")
    except ImportError:
        return
    grants = [(label, model, ["view"]) for label, model in getattr(more, "OPS_VIEW", [])]
    grants += [(label, model, ["delete"]) for label, model in getattr(more, "OPS_DELETE", [])]
    roles._grant(apps, ops, grants)


def database_rows(exclude: tuple[str, ...] = VOLATILE_TABLES) -> dict[str, list]:
    """Every row of every table but the volatile ones, to compare before and after a request."""
    rows = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            if table in exclude:
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            rows[table] = sorted(map(repr, cursor.fetchall()))
    return rows


def make_customer(user, name: str) -> Customer:
    submission = Submission.objects.create(
        kind="account_create",
        payload={"name": name},
        idempotency_key=str(uuid.uuid4()),
        created_by=user,
    )
    return Customer.objects.create(
        created_by=user,
        submission=submission,
        name=name,
        street1="1 Main St",
        city="Plano",
        state_code="TX",
        post_code="75075",
    )


def make_order(user, po_number: str) -> CareOrder:
    """A queued care order; its task goes out on commit (never, in a test that rolls back)."""
    request = dataclasses.replace(EXAMPLE_ORDER, po_number=po_number)
    return submit_order(user=user, order=None, request=request, pins={}, draft_data={})


def make_draft(user, po_number: str) -> CareOrder:
    header = {"foundation_account_number": "81730304", "po_number": po_number}
    return save_draft(user=user, order=None, draft_data={"order": header}, header=header)


def customer_file(*idents: str) -> bytes:
    lines = ["record_type,sourceCustomerId,country", *(f"customer,{i},US" for i in idents)]
    return ("\n".join(lines) + "\n").encode()


def make_import(user, name: str, *, sent: bool = False) -> BulkImport:
    """A checked import of two customers; `sent`: batched, and its batch failed."""
    upload = SimpleUploadedFile(name, customer_file(f"{name}-1", f"{name}-2"), "text/csv")
    bulk_import = bulk.import_upload(upload, user=user)
    if sent:
        bulk.send_import(bulk_import, user=user)
        Submission.objects.filter(bulk_batch__bulk_import=bulk_import).update(status=Status.FAILED)
    return bulk_import
