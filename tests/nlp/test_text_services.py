import datetime

import pytest
from django.core.exceptions import ValidationError

from nlp.models import TextDocument
from nlp.services import TextInput, texts_create

WHEN = datetime.datetime(2026, 3, 1, 9, 30, tzinfo=datetime.UTC)


@pytest.mark.django_db
def test_texts_are_stored_once_and_linked_by_sku(merchant, product, buyer):
    texts = [
        TextInput("review", "Lovely mug, buying ten more for the office", WHEN, sku="MUG-1"),
        TextInput("enquiry", "Do you sell 200 of these for a wedding?", WHEN, sku="NOT-IN-CATALOGUE"),
    ]
    first = texts_create(merchant=merchant, texts=texts, user=buyer)
    again = texts_create(merchant=merchant, texts=texts, user=buyer)
    assert [d.pk for d in first] == [d.pk for d in again]
    assert TextDocument.objects.count() == 2
    assert [(d.product, d.match_confidence, d.sku_given, d.created_by) for d in first] == [
        (product, 1.0, "MUG-1", buyer),
        (None, None, "NOT-IN-CATALOGUE", buyer),
    ]


@pytest.mark.django_db
def test_bad_texts_name_the_item_and_write_nothing(merchant):
    texts = [
        TextInput("review", "fine", WHEN),
        TextInput("tweet", "   ", WHEN),
        TextInput("note", "x" * 100_001, WHEN),
    ]
    with pytest.raises(ValidationError) as error:
        texts_create(merchant=merchant, texts=texts)
    assert error.value.message_dict == {
        "texts[1].source": ["Unknown source 'tweet'; use one of review, message, enquiry, search, note."],
        "texts[1].text": ["A text must not be empty."],
        "texts[2].text": ["A text may have at most 100000 characters."],
    }
    assert TextDocument.objects.count() == 0
