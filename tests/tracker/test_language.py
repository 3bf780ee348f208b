"""The language switch in the header (Django's set_language), remembered per user, and e-mails
in the recipient's stored language (issue 20)."""

import pytest
from django.core import mail

from study.models import UserProfile
from study.roles import Role
from study.services.languages import language_for, user_language_set
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_the_header_offers_the_other_language_and_the_choice_is_remembered(client, researcher):
    client.force_login(researcher)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert 'action="/i18n/setlang/"' in html and 'value="nl"' in html and "Nederlands" in html
    assert "Log out" in html
    switched = client.post("/i18n/setlang/", {"language": "nl", "next": "/"})
    assert switched.status_code == 302 and switched["Location"] == "/"
    assert UserProfile.objects.get(user=researcher).language == "nl"
    # The browser still asks for English; the stored choice wins, on this and every page.
    dutch = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert dutch["Content-Language"] == "nl" and "Uitloggen" in dutch.content.decode()
    assert 'value="en"' in dutch.content.decode()


def test_the_choice_follows_the_user_to_another_browser(client, researcher):
    user_language_set(user=researcher, language="nl")
    client.force_login(researcher)  # a fresh session, no language cookie
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "nl"
    assert page.cookies["django_language"].value == "nl"


def test_without_a_choice_the_browser_or_the_dutch_default_applies(client, researcher, settings):
    settings.LANGUAGE_CODE = "nl"
    client.force_login(researcher)
    assert client.get("/")["Content-Language"] == "nl"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "en"
    assert language_for(researcher) == "nl"


def test_an_unknown_language_is_not_stored_and_the_next_url_must_be_ours(client, researcher):
    client.force_login(researcher)
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302 and "evil" not in response["Location"]
    assert not UserProfile.objects.filter(user=researcher).exists()
    assert client.get("/i18n/setlang/").status_code == 405


def test_anonymous_visitors_switch_the_login_page(client):
    response = client.post(
        "/i18n/setlang/", {"language": "nl", "next": "/accounts/login/"}, follow=True
    )
    assert "Inloggen" in response.content.decode()


def test_password_reset_mail_is_in_the_recipients_language(client, settings):
    settings.SITE_URL = "https://effectstudie.example.nl"
    user = make_user(None, username="greet")
    user.email = "greet@example.org"
    user.save(update_fields=["email"])
    user_language_set(user=user, language="nl")
    client.post("/accounts/password_reset/", {"email": user.email}, HTTP_ACCEPT_LANGUAGE="en")
    (message,) = mail.outbox
    assert message.subject == "Een nieuw wachtwoord voor de effectstudie-tracker"


def test_invitation_in_the_invitees_language(study, data_manager):
    from study.services import members

    invitee = make_user(None, username="piet")
    invitee.email = "piet@example.org"
    invitee.save(update_fields=["email"])
    user_language_set(user=invitee, language="nl")
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        members.member_invite(
            study=study, email="piet@example.org", role=Role.RESEARCHER, invited_by=data_manager
        )
    (message,) = mail.outbox
    assert message.subject.startswith("Uitnodiging voor het onderzoek")
    english = make_user(None, username="jan")
    english.email = "jan@example.org"
    english.save(update_fields=["email"])
    user_language_set(user=english, language="en")
    with TestCase.captureOnCommitCallbacks(execute=True):
        members.member_invite(
            study=study, email="jan@example.org", role=Role.RESEARCHER, invited_by=data_manager
        )
    assert mail.outbox[-1].subject.startswith("Invitation to the study")


def test_report_reminders_go_out_per_language(study, researcher, settings):
    from analysis.plans import schedule_services

    second = make_user(Role.RESEARCHER, username="onderzoeker2")
    from study.services.studies import membership_grant

    membership_grant(study=study, user=second, role=Role.RESEARCHER)
    researcher.email, second.email = "r1@example.org", "r2@example.org"
    researcher.save(update_fields=["email"])
    second.save(update_fields=["email"])
    user_language_set(user=second, language="nl")
    by_language = schedule_services._researcher_emails_by_language(study)
    assert by_language == {"en": ["r1@example.org"], "nl": ["r2@example.org"]}
