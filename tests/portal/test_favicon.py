"""Every page links the favicon, and /favicon.ico (asked for by browsers anyway) finds it."""

from django.urls import reverse


def test_favicon_ico_leads_to_the_icon_for_anyone(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response.url.startswith("/static/favicon") and response.url.endswith(".svg")


def test_pages_link_the_favicon(alice_client, olivia, client):
    assert 'rel="icon" href="/static/favicon' in alice_client.get(reverse("accounts:lookup")).text
    client.force_login(olivia)
    assert 'rel="icon" href="/static/favicon' in client.get(reverse("admin:index")).text
