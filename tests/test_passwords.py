"""Passwords: Django's validators, at least 12 characters, no common or Dutch-context password;
self-service change, and reset by e-mail (a link to SITE_URL that works once)."""

import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core import mail
from django.core.exceptions import ValidationError
from rest_framework.authtoken.models import Token

from tests.factories import make_user

pytestmark = pytest.mark.django_db

OLD = "pw-for-tests-123"
NEW = "lamp kaart fiets regen"


@pytest.mark.parametrize(
    "password",
    [
        "almelo2024",
        "Almelo2024!!",
        "welkom01",
        "Welkom012345",
        "voorjaar2025",
        "2025voorjaar!",
        "heraclesalmelo1",
        "zomeralmelo2024",
        "w3lk0m-2024!!",
        "feyenoord1908",
        "wachtwoord123",
        "Sinterklaas2024",
        "123456789012",
        "short-pw",
    ],
)
def test_weak_and_dutch_context_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password, user=make_user(None, username="someone"))


@pytest.mark.parametrize("password", [NEW, "Tr0ub4dor&3-kwast", "paardbatterijnietje99"])
def test_a_long_unguessable_password_is_accepted(password):
    validate_password(password, user=make_user(None, username="someone"))


def test_the_word_list_ships_with_the_project():
    from tracker.passwords import LIST_PATH, words

    assert LIST_PATH.is_file()
    assert {"almelo", "welkom", "voorjaar", "feyenoord", "hengelo"} <= words()
    assert len(words()) > 3000


def test_a_user_changes_their_own_password(client):
    user = make_user(None, username="eva", password=OLD)
    Token.objects.create(user=user)
    client.force_login(user)
    page = client.get("/accounts/password_change/")
    assert page.status_code == 200 and b"almelo2024" in page.content  # the rule is explained
    weak = client.post(
        "/accounts/password_change/",
        {"old_password": OLD, "new_password1": "almelo2024", "new_password2": "almelo2024"},
    )
    assert weak.status_code == 200 and weak.context["form"].errors
    done = client.post(
        "/accounts/password_change/",
        {"old_password": OLD, "new_password1": NEW, "new_password2": NEW},
    )
    assert done.status_code == 302 and done["Location"] == "/accounts/password_change/done/"
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert not Token.objects.filter(user=user).exists()  # API tokens end with the old password


def test_a_password_reset_by_email_works_once(client, settings):
    settings.SITE_URL = "https://effectstudie.example.nl"
    user = make_user(None, username="frank", password=OLD)
    user.email = "frank@example.org"
    user.save(update_fields=["email"])
    response = client.post("/accounts/password_reset/", {"email": "frank@example.org"})
    assert response.status_code == 302
    (message,) = mail.outbox
    link = re.search(r"https://effectstudie\.example\.nl(/accounts/reset/\S+)", message.body)
    assert link, message.body
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    post = client.post(form.redirect_chain[-1][0], {"new_password1": NEW, "new_password2": NEW})
    assert post.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW)
    again = client.get(link.group(1), follow=True)
    assert not again.context["validlink"]


def test_a_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password_reset/done/"
    assert mail.outbox == []


def test_the_login_page_links_to_the_reset(client):
    assert b"/accounts/password_reset/" in client.get("/accounts/login/").content
