"""The typo check's word index: what it learns, and what a typed word is corrected to."""

import pytest

from directory import vocabulary
from directory.models import SpellingVariant
from directory.search import search
from directory.services import saw_customers
from directory.vocabulary import Meaning

pytestmark = pytest.mark.django_db


def test_it_learns_each_word_once_under_its_spellings():
    assert vocabulary.learn(["Texas Pecan Growers LLC", "Houston"]) == 4  # not "llc"
    assert vocabulary.learn(["Pecan Houston"]) == 0
    assert set(SpellingVariant.objects.filter(word="pecan").values_list("variant", flat=True)) == {
        "pecan", "ecan", "pcan", "pean", "pecn", "peca",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("pecna", "pecan"),  # swapped
        ("pecen", "pecan"),  # wrong letter
        ("pcan", "pecan"),  # missing
        ("peccan", "pecan"),  # extra
        ("grwoers", "growers"),
        ("hosuton", "houston"),
    ],
)
def test_a_word_one_edit_away_is_corrected(typed, meant):
    vocabulary.learn(["Texas Pecan Growers LLC", "Houston"])
    assert vocabulary.meanings([typed]) == [Meaning(typed, False, (meant,))]


def test_a_known_word_is_not_corrected_and_a_number_is_only_itself():
    vocabulary.learn(["Texas Pecan Growers LLC", "Pecans Inc"])
    assert vocabulary.meanings(["pecan", "77002", "zzzzzz"]) == [
        Meaning("pecan", True, ("pecans",)),  # not corrected; only the words it begins
        Meaning("77002", False, ()),
        Meaning("zzzzzz", False, ()),
    ]


def test_a_word_begun_is_completed_to_a_few_known_words_shortest_first(monkeypatch):
    monkeypatch.setattr(vocabulary, "MAX_COMPLETIONS", 5)
    vocabulary.learn(["Bayou", "Bayside", "Bayonne", "Bayberry", "Baylor", "Bayer", "Bays"])
    completions = ("bays", "bayer", "bayou", "baylor", "bayonne")
    assert vocabulary.meanings(["bay"]) == [Meaning("bay", False, completions)]
    assert vocabulary.meanings(["baz"]) == [Meaning("baz", False, ())]


def test_the_closest_corrections_come_first(django_assert_num_queries):
    vocabulary.learn(["Pecan", "Pecos", "Pelican"])
    with django_assert_num_queries(1):
        assert vocabulary.meanings(["pecas"]) == [Meaning("pecas", False, ("pecan", "pecos"))]


def test_a_customer_seen_is_found_by_a_typo_at_once():
    saw_customers(
        [{"sourceCustomerId": "Z-1", "organizationId": "Zanzibar Spice", "postalCode": "75201"}],
        source="bulk",
    )
    assert [entry.name for entry in search("zanzibra", 5)] == ["Zanzibar Spice"]


def test_a_word_half_the_directory_shares_costs_no_more_than_a_rare_one(
    django_assert_max_num_queries, monkeypatch
):
    from directory.search import postgres, sqlite

    saw_customers(
        [{"sourceCustomerId": f"C-{n}", "organizationId": f"Common Roofing {n}"} for n in range(60)]
        + [{"sourceCustomerId": "R-1", "organizationId": "Rare Roofing"}],
        source="bulk",
    )
    for backend in (postgres, sqlite):
        monkeypatch.setattr(backend, "CANDIDATES", 25)
    with django_assert_max_num_queries(3):
        assert len(search("roofing", 20)) == 20
    with django_assert_max_num_queries(3):
        assert [entry.name for entry in search("rare roofng", 20)] == ["Rare Roofing"]
