"""A plain mailbox, written the usual way, for bench/load_bench.py to compare against:
Flask + Flask-WTF (CSRF, validation) + SQLAlchemy, one session per request, one commit per
submission on SQLite in WAL mode with synchronous=FULL (durable once the 303 is sent).

GET /app/ask shows the form, POST /app/ask stores the question and redirects (303) to its
tracking page. Run under gunicorn: PLAIN_MAILBOX_DB=/tmp/x.sqlite3 gunicorn
bench.plain_mailbox_app:app
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime

from flask import Flask, abort, redirect, render_template_string, url_for
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import DateTime, String, Text, create_engine, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, scoped_session, sessionmaker
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

CATEGORIES = ["党费", "组织关系", "其他"]


class Base(DeclarativeBase):
    pass


class Question(Base):
    __tablename__ = "questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    category: Mapped[str] = mapped_column(String(20))
    question: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AskForm(FlaskForm):
    question = TextAreaField("您的问题", validators=[DataRequired(), Length(max=2000)])
    category = SelectField("问题类别", choices=CATEGORIES)


engine = create_engine(f"sqlite:///{os.environ.get('PLAIN_MAILBOX_DB', 'plain.sqlite3')}",
                       connect_args={"timeout": 10})


@event.listens_for(engine, "connect")
def _pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


Base.metadata.create_all(engine)
Session = scoped_session(sessionmaker(engine))

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ.get("PLAIN_SECRET_KEY", "plain-bench-secret-0123456789ab")
CSRFProtect(app)


@app.teardown_appcontext
def _remove_session(_exc) -> None:
    Session.remove()


PAGE = """<!doctype html><title>电子信箱</title>
<form method="post">{{ form.csrf_token }}{{ form.category() }}{{ form.question() }}
<button>提交问题</button></form>"""


@app.route("/app/ask", methods=["GET", "POST"])
def ask():
    form = AskForm()
    if form.validate_on_submit():
        item = Question(code=secrets.token_hex(8), category=form.category.data,
                        question=form.question.data.strip(), created_at=datetime.now(UTC))
        Session.add(item)
        Session.commit()
        return redirect(url_for("track", code=item.code), 303)
    return render_template_string(PAGE, form=form), 400 if form.errors else 200


@app.get("/app/ask/<code>")
def track(code: str):
    item = Session.scalar(select(Question).where(Question.code == code))
    if item is None:
        abort(404)
    return render_template_string("<p>{{ item.question }}</p><p>已收到</p>", item=item)


@app.get("/app/healthz")
def healthz():
    return {"status": "ok"}
