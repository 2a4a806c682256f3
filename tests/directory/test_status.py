"""The system status page says how fresh the directory is."""

import pytest
from django.urls import reverse
from django.utils import timezone

from directory.models import WalkCursor
from directory.services import saw_customers

pytestmark = pytest.mark.django_db


def test_it_shows_entries_last_full_walk_and_cursor(client, olivia):
    saw_customers([{"sourceCustomerId": "B-1"}, {"sourceCustomerId": "B-2"}], source="bulk")
    WalkCursor.objects.create(pk=1, service_index=1, page=4, last_full_walk_at=timezone.now())
    client.force_login(olivia)
    html = client.get(reverse("system_status")).content.decode()
    assert "Customer directory" in html
    assert "2 entries; last full walk finished" in html
    assert "walking WIRELESS page 4" in html
