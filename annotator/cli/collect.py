"""`annotator collect`: an OTLP/HTTP endpoint that puts a running system's traces into the queue."""

from __future__ import annotations

import contextlib
import ipaddress

import click

from annotator.cli.common import FiniteNumber


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _line(done) -> str:
    if done.state == "assembled":
        speakers = ", ".join(done.speakers) or "no named speaker"
        added = "added to the queue" if done.added else "already in the database"
        note = f" ({done.detail})" if done.detail else ""
        return f"trace {done.trace_key}: {done.turns} turns by {speakers}, {added}{note}"
    return f"trace {done.trace_key}: {done.state}: {done.detail}"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but a loopback address is reachable from other machines.")
@click.option("--port", default=4318, show_default=True, type=click.IntRange(0, 65535),
              help="OTLP/HTTP's usual port (0: any free port, printed).")
@click.option("--token", default=None, envvar="ANNOTATOR_COLLECT_TOKEN", metavar="T",
              help="Require 'Authorization: Bearer T' ($ANNOTATOR_COLLECT_TOKEN).")
@click.option("--quiet-seconds", default=30.0, show_default=True, type=FiniteNumber(0.0, above=True),
              help="A trace is complete when no span came for this long (or 1 s after its root span ended).")
@click.option("--max-request-mb", default=20.0, show_default=True, type=FiniteNumber(0.0, above=True),
              help="Refuse larger requests (after decompression) with 413.")
@click.option("--segment", "scheme", default="turn", show_default=True, metavar="trace|turn|window:N",
              help="How assembled traces are cut into segments to label.")
@click.pass_context
def collect(ctx: click.Context, host: str, port: int, token: str | None, quiet_seconds: float,
            max_request_mb: float, scheme: str) -> None:
    """Receive OpenTelemetry traces (OTLP/HTTP, JSON or protobuf) and queue them for labelling.

    Point the system's exporter here: OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318. Spans are stored
    as they arrive (a span acknowledged with 200 survives a crash); a trace is assembled, as
    `annotator import --format otel` would, once it is complete. Ctrl+C stops; traces still open are
    assembled when collect runs again.
    """
    from annotator.cli.common import open_db
    from annotator.core.errors import OptionError
    from annotator.core.segments import parse_scheme
    from annotator.services.otlp_http import Receiver

    parse_scheme(scheme)
    open_db(ctx)  # refuses a missing database (init makes it); migrates before any request thread opens it
    if not _loopback(host) and not token:
        click.echo(f"warning: listening on {host} without --token: anyone who can reach it can add traces",
                   err=True)
    try:
        receiver = Receiver(ctx.obj["db"], host=host, port=port, token=token,
                            max_bytes=int(max_request_mb * 1_000_000), quiet_s=quiet_seconds, scheme=scheme,
                            report=lambda done: click.echo(_line(done)))
    except OSError as exc:
        raise OptionError(f"--host {host} --port {port}: cannot listen ({exc.strerror or exc})") from None
    bound_host, bound_port = receiver.server_address[:2]
    held = receiver.summary()
    click.echo(f"collecting into {ctx.obj['db']} on http://{bound_host}:{bound_port} (POST /v1/traces and "
               f"/v1/logs; GET /v1/status); holds {held['spans']} spans: {held['assembled']} traces assembled, "
               f"{held['open']} open, {held['failed']} failed  (Ctrl+C stops)")
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is how it stops
        receiver.run()
    held = receiver.summary()
    click.echo(f"stopped; holds {held['spans']} spans: {held['assembled']} traces assembled, {held['open']} open "
               f"(assembled on the next run), {held['failed']} failed, {held['skipped']} without LLM spans, "
               f"{held['late_spans']} late spans")
