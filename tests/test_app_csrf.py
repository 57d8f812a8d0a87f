"""CSRF left on, as in production: real tokens pass, missing, forged, foreign and expired
ones are refused with a Chinese page and store nothing."""

from __future__ import annotations

import re

import pytest
from conftest import add_user, make_app

from forms_app import db


@pytest.fixture
def csrf_app(tmp_path, database_url):
    app = make_app(tmp_path, database_url, WTF_CSRF_ENABLED=True)
    yield app
    db.close(app)


def token(client, url: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                     client.get(url).get_data(as_text=True))[1]


def stored(app) -> int:
    from sqlalchemy import func, select

    from forms_app.models import Submission

    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(Submission))


QUESTION = {"question": "流动党员活动证每年要查验吗？", "category": "活动证"}


def test_ask_with_a_real_token(csrf_app):
    client = csrf_app.test_client()
    response = client.post("/app/ask", data={**QUESTION, "csrf_token": token(client, "/app/ask")})
    assert response.status_code == 303 and stored(csrf_app) == 1


@pytest.mark.parametrize("case", ["missing", "forged", "other-session", "tampered"])
def test_bad_tokens_store_nothing(csrf_app, case):
    client = csrf_app.test_client()
    real = token(client, "/app/ask")
    other = csrf_app.test_client()
    values = {"missing": None, "forged": "IjEyMyI.abc.def", "tampered": real[:-3] + "AAA",
              "other-session": token(other, "/app/ask")}
    data = dict(QUESTION)
    if values[case] is not None:
        data["csrf_token"] = values[case]
    response = client.post("/app/ask", data=data)
    assert response.status_code == 400
    assert "页面已过期或来源不明，未保存任何内容" in response.get_data(as_text=True)
    assert stored(csrf_app) == 0


def test_expired_token_is_refused(tmp_path, sqlite_url):
    app = make_app(tmp_path, sqlite_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    real = token(client, "/app/ask")
    app.config["WTF_CSRF_TIME_LIMIT"] = -1  # every token is now older than the limit
    response = client.post("/app/ask", data={**QUESTION, "csrf_token": real})
    assert response.status_code == 400 and stored(app) == 0


@pytest.mark.parametrize("url", ["/app/voice", "/app/register", "/app/login", "/app/track"])
def test_every_form_carries_and_needs_a_token(csrf_app, url):
    client = csrf_app.test_client()
    assert 'name="csrf_token"' in client.get(url).get_data(as_text=True)
    assert client.post(url, data={"title": "x"}).status_code == 400


def test_state_changing_editor_and_member_posts_need_a_token(csrf_app):
    add_user(csrf_app, "编辑", role="editor")
    client = csrf_app.test_client()
    login = client.post("/app/login", data={"username": "编辑", "password": "长江黄河都是好风景",
                                            "csrf_token": token(client, "/app/login")})
    assert login.status_code == 303
    for url in ("/app/editor/publish", "/app/editor/bulk", "/app/logout",
                "/app/editor/item/1", "/app/me/delete"):
        assert client.post(url).status_code == 400, url
    assert client.get("/app/editor/").status_code == 200  # still logged in: logout refused
