"""The Django version matrix: each supported Django on a Python it supports."""

import nox

nox.options.reuse_existing_virtualenvs = True

MATRIX = [("3.11", "5.2"), ("3.12", "6.0"), ("3.13", "6.1")]


@nox.session
@nox.parametrize(("python", "django"), MATRIX)
def tests(session: nox.Session, django: str) -> None:
    session.install("-e", ".[test]", f"django~={django}.0")
    session.run("pytest", "-m", "not browser", "-q", *session.posargs)
