"""What a dashboard password must be: long enough, and not guessable.

Length alone lets "Password123!" through; ``zxcvbn`` (Dropbox's estimator, maintained
port) scores a password against common-password lists, dictionary words, names, keyboard
patterns, dates and the user's own email, and we ask for its score 3 ("safely
unguessable") or better.
"""
from __future__ import annotations

from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 200
MIN_SCORE = 3


def problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """None when ``password`` may be used, else a sentence saying why not."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    hints = [part for part in (email, email.split("@")[0], name, *name.split()) if part]
    result = zxcvbn(password[:100], user_inputs=hints)  # zxcvbn slows down past ~100
    if result["score"] >= MIN_SCORE:
        return None
    warning = result["feedback"].get("warning") or "This password is easy to guess."
    advice = " ".join(result["feedback"].get("suggestions") or ())
    return f"{warning.rstrip('.')}. {advice or 'Add more unrelated words.'}".strip()
