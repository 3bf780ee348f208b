"""The project boots: settings load and the login page renders in Dutch by default."""


def test_login_page_renders_in_dutch(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Language"] == "nl"
