"""Drafts (discard, age, removal), Copy into a new order, and what the form starts with."""

import dataclasses
import re
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import services
from orders.forms import CareOrderForm
from orders.models import CareOrder
from orders.tasks import remove_old_drafts
from portal.upstream import order_body
from tests.orders.conftest import EXAMPLE_CHANGE, EXAMPLE_ORDER
from tests.orders.test_order_form import (
    NEW,
    ORDER,
    SUSPEND,
    UPDATE,
    VALID_ICCID,
    VALID_IMEI,
    form_data,
)  # fmt: skip

PIN = "864297"


def draft_of(user, **order) -> CareOrder:
    return services.save_draft(
        user=user, order=None, draft_data={"order": order}, header=order, form_token=""
    )


def sent_order(user, status=CareOrder.Status.FAILED) -> CareOrder:
    suspend = order_body.Change(
        kind=order_body.SUSPEND, reference="CR-2-s", ctn="2145550124",
        when=order_body.IMMEDIATELY, suspend_reason="Lost",
    )  # fmt: skip
    device = order_body.Device(imei=VALID_IMEI, iccid=VALID_ICCID, network_block=True)
    update = dataclasses.replace(EXAMPLE_CHANGE, device=device)
    request = dataclasses.replace(EXAMPLE_ORDER, changes=(update, suspend))
    order = services.submit_order(
        user=user, order=None, request=request, pins={"ChangeID1": PIN}, draft_data={}
    )
    CareOrder.objects.filter(pk=order.pk).update(status=status, problem="SKU not sold here")
    return CareOrder.objects.get(pk=order.pk)


# -- discard -------------------------------------------------------------------------------------


def test_it_asks_before_discarding_a_draft(alice_client, alice):
    draft = draft_of(alice, po_number="PO-1")

    page = alice_client.get(reverse("orders:discard", args=[draft.pk]))

    assert page.status_code == 200
    assert "Discard the draft" in page.content.decode()
    assert CareOrder.objects.filter(pk=draft.pk).exists()


def test_it_discards_a_draft_on_post(alice_client, alice):
    draft = draft_of(alice)

    response = alice_client.post(reverse("orders:discard", args=[draft.pk]))

    assert response.status_code == 302
    assert response.url == reverse("orders:list")
    assert not CareOrder.objects.filter(pk=draft.pk).exists()


def test_it_never_discards_a_sent_order_nor_anothers_draft(alice_client, alice, bob):
    sent = sent_order(alice)
    bobs = draft_of(bob)

    alice_client.post(reverse("orders:discard", args=[sent.pk]))
    refused = alice_client.post(reverse("orders:discard", args=[bobs.pk]))

    assert CareOrder.objects.filter(pk=sent.pk).exists()
    assert refused.status_code == 404
    assert CareOrder.objects.filter(pk=bobs.pk).exists()


# -- age and removal -------------------------------------------------------------------------------


def test_the_list_shows_each_drafts_age_and_removal_date(alice_client, alice, settings):
    settings.ORDER_DRAFT_MAX_AGE_DAYS = 30
    draft = draft_of(alice)
    saved = timezone.now() - timedelta(days=3)
    CareOrder.objects.filter(pk=draft.pk).update(updated_at=saved)

    html = alice_client.get(reverse("orders:list")).content.decode()

    assert "Your drafts" in html
    assert "3\xa0days ago" in html
    removal = timezone.localtime(saved + timedelta(days=30))
    assert removal.strftime("%b %-d, %Y") in html
    assert reverse("orders:discard", args=[draft.pk]) in html


def test_a_draft_is_listed_once_in_its_box_not_again_in_the_orders_table(alice_client, alice):
    draft, sent = draft_of(alice), sent_order(alice)
    detail, edit = (
        reverse("orders:detail", args=[draft.pk]),
        reverse("orders:edit", args=[draft.pk]),
    )

    html = alice_client.get(reverse("orders:list")).content.decode()
    table = html[html.index("</section>", html.index("Your drafts")) :]

    assert edit in html[: len(html) - len(table)]  # in the drafts box
    assert f'href="{detail}"' not in table and f'href="{edit}"' not in table
    assert f'href="{reverse("orders:detail", args=[sent.pk])}"' in table
    # Asked for by its status, a draft is listed.
    drafts = alice_client.get(reverse("orders:list"), {"status": "draft"}).content.decode()
    assert edit in drafts[drafts.index("</section>", drafts.index("Your drafts")) :]


def test_old_drafts_are_removed_by_the_task_and_nothing_else(alice, settings):
    settings.ORDER_DRAFT_MAX_AGE_DAYS = 30
    old, fresh = draft_of(alice), draft_of(alice)
    sent = sent_order(alice)
    long_ago = timezone.now() - timedelta(days=31)
    CareOrder.objects.filter(pk__in=[old.pk, sent.pk]).update(updated_at=long_ago)

    remove_old_drafts()

    assert set(CareOrder.objects.values_list("pk", flat=True)) == {fresh.pk, sent.pk}


def test_the_draft_removal_runs_on_beat():
    from portal.celery import app

    app.finalize()
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "orders.remove_old_drafts" in tasks


# -- copy into a new order -------------------------------------------------------------------------


def test_it_copies_a_failed_order_into_a_draft_without_the_pin(alice_client, alice):
    failed = sent_order(alice)

    response = alice_client.post(reverse("orders:copy", args=[failed.pk]))

    draft = CareOrder.objects.exclude(pk=failed.pk).get()
    assert response.status_code == 302
    assert response.url == reverse("orders:edit", args=[draft.pk])
    assert draft.is_draft and draft.created_by == alice
    assert PIN not in str(draft.draft_data)
    # Shown again and submitted as it is (with a new PIN), it is the same order.
    form = CareOrderForm.from_draft_data(draft.draft_data)
    data = _posted(form)
    data["cr-0-voicemail_pin"] = "2468"
    again = CareOrderForm(data=data)
    assert again.is_valid(), again.error_list()
    # The same moments, shown in the portal's time zone.
    assert same_moments(order_body.care_order_body(again.to_order())) == same_moments(
        failed.submission.payload
    )
    assert again.voicemail_pins() == {"ChangeID1": "2468"}


def test_the_copy_asks_for_a_new_pin(alice_client, alice):
    failed = sent_order(alice)
    alice_client.post(reverse("orders:copy", args=[failed.pk]))
    draft = CareOrder.objects.exclude(pk=failed.pk).get()

    html = alice_client.get(reverse("orders:edit", args=[draft.pk])).content.decode()

    assert "Re-enter the PIN" in html
    assert PIN not in html


def test_only_the_owner_copies_and_only_by_post(alice_client, alice, bob, carol, client):
    bobs = sent_order(bob)

    assert alice_client.post(reverse("orders:copy", args=[bobs.pk])).status_code == 404
    assert alice_client.get(reverse("orders:copy", args=[bobs.pk])).status_code == 405
    assert CareOrder.objects.count() == 1


def same_moments(body: dict) -> dict:
    for change in body["careOrderRequest"]["changeRequest"]:
        for item in change.get("items", []):
            for name in ("effectiveDate", "expirationDate"):
                item[name] = datetime.fromisoformat(item[name])
    return body


def _posted(form: CareOrderForm) -> dict:
    """What the browser posts for an unbound form: every field's value and the counts."""
    data = {}
    for part in form.all_forms():
        for field in part:
            value = field.value()
            if value not in (None, "", False):
                data[field.html_name] = "on" if value is True else str(value)
    formsets = [form.change_requests]
    for change in form.change_requests.forms:
        formsets += [change.items, change.labels]
    for formset in formsets:
        for field in formset.management_form:
            data[field.html_name] = str(field.value())
    data["action"] = "submit"
    return data


# -- what the form starts with ---------------------------------------------------------------


def test_the_order_contact_starts_as_the_rep(alice_client, alice):
    alice.email = "alice@example.com"
    alice.save()

    html = alice_client.get(NEW).content.decode()

    assert 'name="contact_first_name" value="Alice"' in html
    assert 'name="contact_last_name" value="Tester"' in html
    assert 'value="alice@example.com"' in html


def test_the_sku_field_suggests_the_teams_skus_in_one_query(
    alice_client, alice, carol, bob, django_assert_max_num_queries
):
    sent_order(carol)  # same team as alice
    bobs = dataclasses.replace(
        EXAMPLE_ORDER, changes=(dataclasses.replace(EXAMPLE_CHANGE, items=()),)
    )
    services.submit_order(user=bob, order=None, request=bobs, pins={}, draft_data={})
    CareOrder.objects.filter(created_by=bob).update(ctns="x")
    from orders.forms.suggestions import team_skus

    with django_assert_max_num_queries(1):
        skus = team_skus(alice)

    assert skus == ["sku12037300017"]
    html = alice_client.get(NEW).content.decode()
    assert '<datalist id="sku-suggestions"><option value="sku12037300017">' in html


def test_a_bobs_sku_is_not_suggested_to_alice(alice, bob):
    from orders.forms.suggestions import team_skus

    sent_order(bob)
    assert team_skus(alice) == []


# -- the form fits the change ----------------------------------------------------------------


def test_a_suspend_refuses_what_only_an_update_carries(alice_client):
    items = [{"sku": "sku1", "action": "add"}]
    data = form_data({**SUSPEND, "items": items, "billing_city": "Dallas", "imei": "1"})

    html = alice_client.post(NEW, data).content.decode()

    assert "Items and labels are only for an update" in html
    assert "Only for an update: clear it, or choose Update." in html
    assert not CareOrder.objects.exists()


def test_the_date_fields_use_the_browsers_pickers_with_the_time_zone(alice_client, settings):
    html = alice_client.post(
        NEW, form_data({**UPDATE, "items": [{"sku": "s"}]}, action="stay")
    ).content.decode()

    assert 'type="date" name="cr-0-effective_on"' in html
    assert 'type="datetime-local" name="cr-0-item-0-effective_date"' in html
    assert f"Time zone: {settings.TIME_ZONE}." in html


def test_an_unknown_action_saves_nothing(alice_client):
    """Enter presses the first submit button: it only shows the form again."""
    response = alice_client.post(NEW, form_data(UPDATE, action="stay"))

    assert response.status_code == 200
    assert not CareOrder.objects.exists()
    assert 'value="stay"' in response.content.decode().split('name="action"', 1)[1][:40]


@pytest.mark.parametrize("order", [ORDER])
def test_back_to_a_submitted_drafts_url_lands_on_the_order(alice_client, alice, order):
    draft = draft_of(alice)
    alice_client.post(reverse("orders:edit", args=[draft.pk]), form_data(UPDATE))

    for headers in ({}, {"HX-Request": "true", "HX-History-Restore-Request": "true"}):
        response = alice_client.get(reverse("orders:edit", args=[draft.pk]), headers=headers)
        assert response.status_code == 302
        assert response.url == reverse("orders:detail", args=[draft.pk])


def test_the_form_at_a_used_tokens_address_is_the_order_it_made(alice_client):
    token = "0123456789abcdef0123456789abcdef"
    alice_client.post(NEW, {**form_data(SUSPEND, action="save"), "form_token": token})
    draft = CareOrder.objects.get()

    to_draft = alice_client.get(NEW, {"form_token": token})
    assert to_draft.status_code == 302 and to_draft.url == reverse("orders:edit", args=[draft.pk])
    alice_client.post(reverse("orders:edit", args=[draft.pk]), form_data(SUSPEND))
    to_order = alice_client.get(NEW, {"form_token": token})
    assert to_order.url == reverse("orders:detail", args=[draft.pk])
    # A token of nobody's order, or not a token at all: a new form, with a token of its own.
    fresh = alice_client.get(NEW, {"form_token": "f" * 32}).content.decode()
    assert 'data-form-token="ffffffffffffffffffffffffffffffff"' in fresh
    odd = alice_client.get(NEW, {"form_token": "<script>"}).content.decode()
    assert "<script>" not in odd and re.search(r'data-form-token="[0-9a-f]{32}"', odd)


def test_features_and_voicemail_stay_folded_until_they_hold_something(alice_client):
    fresh = alice_client.get(NEW).content.decode()
    assert '<details class="part" id="cr-0-features">' in fresh

    alice_client.post(NEW, {**form_data(UPDATE, action="save"), "cr-0-voicemail": "pin"})
    draft = CareOrder.objects.get()
    held = alice_client.get(reverse("orders:edit", args=[draft.pk])).content.decode()
    assert '<details class="part" id="cr-0-features" open>' in held
