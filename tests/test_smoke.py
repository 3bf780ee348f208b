"""The project boots: settings load and the login page renders in Dutch by default."""


def test_login_page_renders_in_dutch(client, settings):
    settings.LANGUAGE_CODE = "nl"  # the product default (test settings use English)
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Language"] == "nl"


def test_ui_speaks_dutch_by_default_and_english_on_request(client, settings):
    settings.LANGUAGE_CODE = "nl"
    assert "Inloggen" in client.get("/accounts/login/").content.decode()
    english = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Log in" in english.content.decode()


def test_every_ui_string_has_a_dutch_translation_that_is_compiled():
    """No fuzzy (ignored by gettext) or empty entries in the Dutch catalogue, and the compiled
    .mo holds every message of the .po (run `make messages` after adding UI strings)."""
    import gettext
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "locale" / "nl" / "LC_MESSAGES"
    po = (root / "django.po").read_text(encoding="utf-8")
    entries = po.split("\n\n")[1:]  # the first block is the header
    fuzzy = [e for e in entries if "#, fuzzy" in e]
    assert not fuzzy, f"{len(fuzzy)} fuzzy entries, e.g. {fuzzy[0][:200]}"
    empty = [
        e
        for e in entries
        if re.search(r'^msgstr(\[\d\])? ""\s*$', e.strip().split("\n")[-1] + "\n", re.M)
        and not e.lstrip().startswith("#~")
    ]
    assert not empty, f"{len(empty)} untranslated entries, e.g. {empty[0][:200]}"
    with open(root / "django.mo", "rb") as fh:
        catalog = gettext.GNUTranslations(fh)._catalog
    ids = set(re.findall(r'^msgid "(.+)"$', po, re.M))
    single_line = {
        i.replace('\\"', '"').replace("\\\\", "\\") for i in ids if "\\" not in i.replace('\\"', "")
    }
    missing = [i for i in single_line if i not in catalog and (i, 0) not in catalog]
    assert not missing, f"not compiled: {missing[:5]}"
