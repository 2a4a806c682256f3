"""The carrier's pooled sessions read the environment's proxy settings once, when made."""

from portal.upstream import http


def test_a_session_takes_the_proxy_the_environment_names_for_the_carrier(monkeypatch, settings):
    settings.CARRIER_SEARCH_URL = "https://carrier.example.com/search"
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost")
    monkeypatch.setattr(http, "_sessions", {})

    session = http.session_for(http.SEARCH)

    assert session.proxies["https"] == "http://proxy.internal:3128"
    assert session.trust_env is False  # not read again on every call
    assert http.session_for(http.SEARCH) is session


def test_no_proxy_for_a_carrier_the_environment_exempts(monkeypatch, settings):
    settings.CARRIER_SEARCH_URL = "https://carrier.example.com/search"
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "carrier.example.com")
    monkeypatch.setattr(http, "_sessions", {})

    assert "https" not in http.session_for(http.SEARCH).proxies
