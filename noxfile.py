"""The Django version matrix beyond the default run.

`make test` already covers Django 5.2 on Python 3.11; these sessions add the
newer Django releases on the Pythons they need. The browser and Redis-broker tests
stay with the default run (and CI's Redis step): they test the processes around
the app, not what differs between Django releases, and took a minute of CI here.
"""

import nox

nox.options.reuse_existing_virtualenvs = True

MATRIX = [("3.12", "6.0"), ("3.13", "6.1")]


@nox.session
@nox.parametrize(("python", "django"), MATRIX)
def tests(session: nox.Session, django: str) -> None:
    session.install("-e", ".[test]", f"django~={django}.0")
    session.run("pytest", "-m", "not browser and not redis", "-n", "2", "-q", *session.posargs)
