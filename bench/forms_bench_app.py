"""The forms app plus one hello-world route, for bench/forms_bench.py (gunicorn target)."""

from forms_app import create_app

app = create_app()


@app.get("/app/bench/hello")
def hello() -> str:
    return "hello"
