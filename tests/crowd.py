"""Annotators working at once, each with her own connection: the loop run by the concurrency tests in
threads and in spawned processes. Kept apart from the test modules so a spawned process imports only this
and the store (not streamlit, which the app test helpers pull in)."""

from __future__ import annotations

from annotator import store
from annotator.services import annotate
from annotator.services.annotate import Choice

SKIPPERS = ("ann0", "ann1")  # they skip every seventh segment: others take those over


def annotate_all(db_file: str, name: str, errors: list) -> int:
    """One annotator's loop: take the next segment, submit (or skip), until none is left. Returns how many
    segments she handled; any exception is appended to `errors` for the test to fail on."""
    db = store.connect(db_file, migrate=False)
    done = 0
    try:
        user = next(x for x in store.list_users(db) if x.name == name)
        while (seg := annotate.next_segment_id(db, user)) is not None:
            if name in SKIPPERS and seg % 7 == 0:
                annotate.skip(db, user, seg)
            else:
                annotate.submit(db, user, seg, Choice(frozenset({"1.1"} if seg % 2 else {"2.3", "3.2"})))
            done += 1
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on any
        errors.append(f"{name}: {exc!r}")
    finally:
        db.conn.close()
    return done


def process_worker(args: tuple[str, str]) -> tuple[int, list[str]]:
    """annotate_all in a worker process: returns (segments handled, errors)."""
    errors: list[str] = []
    return annotate_all(*args, errors), errors
