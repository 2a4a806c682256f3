"""The preferences form on the notifications page: who may opt in to which email."""

from django.urls import reverse

from notifications.models import EmailPreference

LIST = reverse("notifications:list")
PREFERENCES = reverse("notifications:preferences")
ORDER_EMAIL = "Email me when one of my orders completes, fails or is rejected"
DIGEST_EMAIL = "Email me the weekly digest of my team"


def test_a_rep_is_offered_the_order_email_only(alice_client, alice):
    html = alice_client.get(LIST).content.decode()

    assert ORDER_EMAIL in html
    assert DIGEST_EMAIL not in html


def test_a_manager_is_offered_the_digest_only(client, carol):
    client.force_login(carol)

    html = client.get(LIST).content.decode()

    assert DIGEST_EMAIL in html
    assert ORDER_EMAIL not in html


def test_it_saves_an_opt_in_and_an_opt_out(alice_client, alice):
    alice.email = "alice@example.com"
    alice.save()

    response = alice_client.post(PREFERENCES, {"order_outcomes": "on"})

    assert response.status_code == 302 and response["Location"] == LIST
    assert EmailPreference.objects.get(user=alice).order_outcomes is True
    assert "Your email preferences are saved." in alice_client.get(LIST).content.decode()
    alice_client.post(PREFERENCES, {})
    assert EmailPreference.objects.get(user=alice).order_outcomes is False


def test_a_rep_cannot_opt_in_to_the_managers_digest(alice_client, alice):
    alice.email = "alice@example.com"
    alice.save()

    alice_client.post(PREFERENCES, {"order_outcomes": "on", "weekly_digest": "on"})

    preference = EmailPreference.objects.get(user=alice)
    assert (preference.order_outcomes, preference.weekly_digest) == (True, False)


def test_without_an_email_address_it_says_so_and_saves_nothing(alice_client, alice):
    assert alice.email == ""

    response = alice_client.post(PREFERENCES, {"order_outcomes": "on"})

    assert response.status_code == 400
    assert "Your account has no email address" in response.content.decode()
    assert not EmailPreference.objects.filter(user=alice).exists()


def test_preferences_take_only_a_post(alice_client):
    assert alice_client.get(PREFERENCES).status_code == 405


def test_ops_may_not_set_preferences(client, olivia):
    client.force_login(olivia)

    assert client.post(PREFERENCES, {"order_outcomes": "on"}).status_code == 403
    assert not EmailPreference.objects.exists()
