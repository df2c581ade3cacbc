"""The Django version matrix beyond the default run.

`make test` already covers Django 5.2 on Python 3.11; these sessions add the
newer Django releases on the Pythons they need.
"""

import nox

nox.options.reuse_existing_virtualenvs = True

MATRIX = [("3.12", "6.0"), ("3.13", "6.1")]


@nox.session
@nox.parametrize(("python", "django"), MATRIX)
def tests(session: nox.Session, django: str) -> None:
    session.install("-e", ".[test]", f"django~={django}.0")
    session.run("pytest", "-m", "not browser", "-n", "2", "-q", *session.posargs)
