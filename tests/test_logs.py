"""The log file shared by two processes: a rotation by one must not leave the other writing to the old file."""

from __future__ import annotations

import logging

from annotator.services import logs


def _record(text: str) -> logging.LogRecord:
    return logging.LogRecord("annotator.test", logging.INFO, __file__, 1, text, None, None)


def _handler(path) -> logging.Handler:
    # The handler configure() installs, made twice on one file as the CLI and the server each make their own.
    handler = logs._LogFile(path, maxBytes=200, backupCount=3, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler


def test_a_writer_follows_the_file_after_the_other_writer_rotated_it(tmp_path):
    path = tmp_path / "annotator-logs" / "annotator.log"
    server, cli = _handler(path), _handler(path)
    try:
        server.emit(_record("server starts"))
        for i in range(10):  # past maxBytes: the CLI's handler rotates annotator.log to annotator.log.1
            cli.emit(_record(f"cli line {i:02d} " + "x" * 40))
        assert path.with_name("annotator.log.1").exists()
        server.emit(_record("server still here"))
        server.flush()
        assert "server still here" in path.read_text(encoding="utf-8")
        rotated = "".join(p.read_text(encoding="utf-8") for p in path.parent.glob("annotator.log.*"))
        assert "server still here" not in rotated
    finally:
        server.close()
        cli.close()
