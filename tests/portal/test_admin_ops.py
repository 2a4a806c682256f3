"""Ops work in the admin: every portal object is there for them, personal numbers masked."""

from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse

from accounts.models import Customer
from portal.submissions.models import Submission


@pytest.mark.parametrize(
    "changelist",
    [
        "accounts_customer",
        "accounts_bulkimport",
        "accounts_bulkbatch",
        "orders_careorder",
        "orders_carriernotification",
        "submissions_submission",
        "audit_auditrecord",
        "axes_accessattempt",
        "auth_user",
        "portal_team",
    ],
)
def test_ops_can_open_every_admin_list(client, olivia, changelist):
    client.force_login(olivia)

    assert client.get(reverse(f"admin:{changelist}_changelist")).status_code == 200


def test_a_customer_in_the_admin_shows_the_phone_masked(client, olivia, alice):
    submission = Submission.objects.create(kind="account_create", idempotency_key="k", payload={})
    customer = Customer.objects.create(
        created_by=alice,
        submission=submission,
        name="Acme",
        street1="1 Main",
        city="Plano",
        state_code="TX",
        post_code="75075",
        phone_number="7703316389",
    )
    client.force_login(olivia)

    page = client.get(reverse("admin:accounts_customer_change", args=[customer.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "******6389" in html and "7703316389" not in html


def test_reps_do_not_get_into_the_admin(client, alice):
    client.force_login(alice)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert "/admin/login/" in response.url


# -- Privileges: only superusers give them -----------------------------------------------------


class _FormFields(HTMLParser):
    """The values a browser would post from a page's main form: inputs, selects, textareas."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.data.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select].append(attrs.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_on(client, url: str) -> dict[str, list[str]]:
    page = client.get(url)
    assert page.status_code == 200
    fields = _FormFields()
    fields.feed(page.content.decode())
    return fields.data


def change_form(client, user: User) -> dict[str, list[str]]:
    return form_on(client, reverse("admin:auth_user_change", args=[user.pk]))


def every_group_and_permission() -> dict[str, list[str]]:
    return {
        "is_superuser": ["on"],
        "is_staff": ["on"],
        "groups": [str(pk) for pk in Group.objects.values_list("pk", flat=True)],
        "user_permissions": [str(pk) for pk in Permission.objects.values_list("pk", flat=True)],
    }


def test_ops_cannot_make_themselves_superuser_but_still_edit_their_details(client, olivia):
    client.force_login(olivia)
    data = change_form(client, olivia)
    data.update(every_group_and_permission(), first_name=["Olive"], email=["o@example.com"])

    response = client.post(reverse("admin:auth_user_change", args=[olivia.pk]), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    olivia.refresh_from_db()
    assert not olivia.is_superuser
    assert olivia.is_staff  # unchanged either way
    assert list(olivia.groups.values_list("name", flat=True)) == ["ops"]
    assert not olivia.user_permissions.exists()
    assert (olivia.first_name, olivia.email) == ("Olive", "o@example.com")


def test_ops_cannot_give_a_rep_staff_groups_or_permissions(client, olivia, alice):
    client.force_login(olivia)
    data = change_form(client, alice)
    data.update(every_group_and_permission(), is_active=[])  # a leaver: switched off

    response = client.post(reverse("admin:auth_user_change", args=[alice.pk]), data)

    assert response.status_code == 302
    alice.refresh_from_db()
    assert not (alice.is_superuser or alice.is_staff or alice.is_active)
    assert list(alice.groups.values_list("name", flat=True)) == ["sales_rep"]
    assert not alice.user_permissions.exists()


def test_ops_see_the_privileges_but_have_no_field_to_change_them(client, olivia, alice):
    client.force_login(olivia)

    data = change_form(client, alice)

    for name in ("is_superuser", "is_staff", "groups", "user_permissions"):
        assert name not in data
    assert {"first_name", "email", "is_active", "profile-0-team"} <= set(data)


def test_ops_cannot_change_a_superuser_or_set_their_password(client, olivia):
    root = User.objects.create_superuser("root", "root@example.com", "an old long password")
    client.force_login(olivia)

    change = client.post(
        reverse("admin:auth_user_change", args=[root.pk]),
        {"username": "root", "email": "olivia@example.com", "is_active": ""},
    )
    password = client.post(
        reverse("admin:auth_user_password_change", args=[root.pk]),
        {"password1": "a new long password 9", "password2": "a new long password 9"},
    )

    assert change.status_code == 403
    assert password.status_code == 403
    root.refresh_from_db()
    assert root.email == "root@example.com" and root.is_active
    assert root.check_password("an old long password")
    assert client.get(reverse("admin:auth_user_change", args=[root.pk])).status_code == 200


def test_ops_can_still_add_a_user_and_set_a_reps_password(client, olivia, alice):
    client.force_login(olivia)

    data = form_on(client, reverse("admin:auth_user_add"))
    data.update(
        every_group_and_permission(),
        username=["newrep"],
        usable_password=["true"],
        password1=["a long new password 7"],
        password2=["a long new password 7"],
    )
    added = client.post(reverse("admin:auth_user_add"), data)
    password = client.post(
        reverse("admin:auth_user_password_change", args=[alice.pk]),
        {"password1": "another long password 8", "password2": "another long password 8"},
    )

    assert added.status_code == 302, added.content.decode()[:3000]
    assert password.status_code == 302
    newrep = User.objects.get(username="newrep")
    assert not (newrep.is_superuser or newrep.is_staff)
    alice.refresh_from_db()
    assert alice.check_password("another long password 8")


def test_a_superuser_gives_and_takes_privileges(client, olivia):
    root = User.objects.create_superuser("root", "root@example.com", "an old long password")
    client.force_login(root)
    manager = Group.objects.get(name="manager")
    data = change_form(client, olivia)
    data.update(is_superuser=["on"], groups=[str(manager.pk)])

    response = client.post(reverse("admin:auth_user_change", args=[olivia.pk]), data)

    assert response.status_code == 302
    olivia.refresh_from_db()
    assert olivia.is_superuser
    assert list(olivia.groups.values_list("name", flat=True)) == ["manager"]
