"""The forms app plus routes that stop part way along a submission's path, for
bench/forms_bench.py (gunicorn target). Each adds one stage to the one before it, so the
difference between two is what that stage costs under load:

/app/bench/hello      GET, a word (the app's own before/after-request hooks still run)
/app/bench/post       POST through CSRFProtect: the token checked, the body parsed
/app/bench/limited    + Flask-Limiter with the submission limits (SUBMIT_LIMIT)
/app/bench/validated  + AskForm validation and the 303 to a tracking page, nothing stored
/app/ask              + the durable insert through group commit (the real route)
"""

from flask import current_app, redirect, render_template, request, url_for

from forms_app import create_app
from forms_app.forms import AskForm

app = create_app()
_limit = app.extensions["dx_limiter"].limit(lambda: current_app.config["SUBMIT_LIMIT"],
                                            methods=["POST"])


@app.get("/app/bench/hello")
def hello() -> str:
    return "hello"


@app.post("/app/bench/post")
def post() -> str:
    return request.form.get("category", "")


@app.post("/app/bench/limited")
@_limit
def limited() -> str:
    return request.form.get("category", "")


@app.post("/app/bench/validated")
@_limit
def validated():
    form = AskForm()
    if form.validate_on_submit():
        return redirect(url_for("public.track", kind="ask", code="ABCDEFGHJKMNPQRS"), 303)
    return render_template("public/ask.html", form=form), 400
