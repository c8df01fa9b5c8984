"""The language is chosen per user and follows them; the Chinese translation is complete and compiled."""

import re
from gettext import GNUTranslations
from pathlib import Path

from django.urls import reverse

from backoffice.models import UserPreference

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_switching_language_is_saved_on_the_user_and_follows_them(client, merchant, buyer):
    client.force_login(buyer)
    dashboard = reverse("dashboard", kwargs={"merchant_slug": "acme"})

    response = client.post(reverse("language-set"), {"language": "zh-hans", "next": dashboard})

    assert (response.status_code, response.url) == (302, dashboard)
    assert UserPreference.objects.get(user=buyer).language == "zh-hans"
    # then: another browser (no cookie) shows the user's language once they are logged in
    client.cookies.clear()
    client.force_login(buyer)
    page = client.get(dashboard, HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "zh-hans"
    assert "<h1>概览</h1>" in page.content.decode()


def test_anonymous_switch_sets_the_cookie_only_and_unsafe_next_is_ignored(client, db):
    response = client.post(reverse("language-set"), {"language": "zh-hans", "next": "https://evil.example/"})

    assert (response.status_code, response.url) == (302, "/")
    assert response.cookies["django_language"].value == "zh-hans"
    assert not UserPreference.objects.exists()
    assert "登录 Stockpilot" in client.get(reverse("login")).content.decode()


def test_unknown_language_changes_nothing(client, buyer):
    client.force_login(buyer)
    client.post(reverse("language-set"), {"language": "xx", "next": "/"})
    assert not UserPreference.objects.filter(user=buyer).exists()


# Messages whose Chinese is the same text.
SAME_IN_CHINESE = {"Stockpilot", "s / S", "SKU", "WRMSSE"}


def _singular_msgids(po_text: str) -> list[str]:
    ids = []
    for block in po_text.split("\n\n")[1:]:
        found = re.search(r'^msgid "(.*)"$', block, re.MULTILINE)
        if found and found.group(1) and "msgid_plural" not in block:
            ids.append(found.group(1).replace('\\"', '"'))
    return ids


def test_chinese_translation_is_complete_and_compiled():
    po = (LOCALE / "django.po").read_text(encoding="utf-8")
    assert "#, fuzzy" not in po
    assert not re.search(r'^msgstr(\[0\])? ""\n\n', po + "\n\n", re.MULTILINE), "a message is not translated"
    with (LOCALE / "django.mo").open("rb") as compiled:
        catalog = GNUTranslations(compiled)
    missing = [m for m in _singular_msgids(po) if catalog.gettext(m) == m and m not in SAME_IN_CHINESE]
    assert missing == [], "django.mo is out of date: run manage.py compilemessages"
