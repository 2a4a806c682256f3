"""The template filters that put carrier values in people's words."""

import pytest

from portal.templatetags.portal_tags import in_words


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("deviceModel", "Device model"),
        ("storage_gb", "Storage gb"),
        ("networkType", "Network type"),
        ("IMEI", "IMEI"),
        ("simICCIDType", "Sim ICCID type"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_carriers_detail_name_reads_as_words(name, words):
    assert in_words(name) == words
