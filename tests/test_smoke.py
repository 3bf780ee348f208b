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
