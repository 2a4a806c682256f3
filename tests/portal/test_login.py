from django.urls import reverse


def test_it_sends_anonymous_users_to_login(client, db):
    for url in (reverse("home"), reverse("accounts:lookup")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url == f"{reverse('login')}?next={url}"


def test_it_logs_a_rep_in_and_starts_at_the_lookup(client, alice):
    response = client.post(
        reverse("login"), {"username": "alice", "password": "correct horse battery staple"}
    )

    assert response.status_code == 302
    assert client.get(reverse("home")).url == reverse("accounts:lookup")


def test_it_refuses_a_wrong_password_and_keeps_the_username(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert 'value="alice"' in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_needs_post(alice_client):
    assert alice_client.get(reverse("logout")).status_code == 405
    assert alice_client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in alice_client.session


def test_navigation_shows_what_the_role_may_use(client, alice, olivia):
    client.force_login(alice)
    rep_page = client.get(reverse("accounts:lookup")).content.decode()
    assert 'href="/accounts/lookup/"' in rep_page
    assert 'href="/admin/"' not in rep_page

    client.force_login(olivia)
    response = client.get(reverse("home"))
    assert response.url == reverse("ops_home")
    admin_page = client.get(reverse("admin:index")).content.decode()
    assert "Audit records" in admin_page


def test_pages_carry_a_strict_csp_with_a_nonce(alice_client):
    response = alice_client.get(reverse("accounts:lookup"))

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy
    html = response.content.decode()
    # htmx comes from django-htmx with the request's nonce; CSRF rides on hx-headers.
    assert 'nonce="' in html and "htmx" in html
    assert 'hx-headers=\'{"X-CSRFToken"' in html
