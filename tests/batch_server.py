"""The scripted chat server of llm_server.py plus OpenAI's files and batches endpoints (127.0.0.1 only).

Routes: `POST /v1/files` (multipart upload), `GET /v1/files/{id}`, `GET /v1/files/{id}/content`,
`POST /v1/batches`, `GET /v1/batches/{id}`, `POST /v1/batches/{id}/cancel`. A batch moves one step per
retrieve: validating -> in_progress -> finalizing -> its ending, unless `hold` is set (it then stays
in_progress until the test clears it). Each input line is answered as the chat route would answer it
(the same `[[scenario:...]]` and `[[present:...]]` markers), without counting as a chat request:
`requests` (chat completions) stays empty for a batch run, so a test can tell the two apart.

Endings (`ending`): "completed"; "expired" (only the first `expire_after` lines ran, the others are in
the error file with code batch_expired, as OpenAI does); "failed" (validation failed, no file at all).
A line with `[[scenario:batchfail]]` lands in the error file (status 500); one with `[[scenario:batchleak]]`
answers with the submitter's Authorization header (to test that keys are scrubbed). Counters: `batch_creates`,
`uploads`, `retrieves`, `cancels`, `contents`; `batch_auth` keeps the Authorization header of every
files/batches request.

Run on its own (to follow the README by hand): `python tests/batch_server.py --port 8011 --codes A,B`.
"""

from __future__ import annotations

import argparse
import contextlib
import email.parser
import email.policy
import json
import sys
import threading
import time

from llm_server import LLMServer, _Handler

_STEPS = ("validating", "in_progress", "finalizing")


class BatchServer(LLMServer):
    def __init__(self, codes: list[str], *, ending: str = "completed", expire_after: int = 0, **kwargs):
        super().__init__(codes, **kwargs)
        self.lock = threading.RLock()  # a batch finishes under the lock and answers lines as the chat route does
        self.ending = ending
        self.expire_after = expire_after
        self.hold = threading.Event()
        self.files: dict[str, dict] = {}  # id -> {"purpose", "filename", "data": bytes}
        self.batches: dict[str, dict] = {}
        self.batch_creates = self.uploads = self.retrieves = self.cancels = self.contents = 0
        self.batch_auth: list[str] = []

    def add_file(self, data: bytes, *, purpose: str, filename: str) -> dict:
        with self.lock:
            file_id = f"file-{len(self.files) + 1:04d}"
            self.files[file_id] = {"purpose": purpose, "filename": filename, "data": data}
        return self.file_object(file_id)

    def file_object(self, file_id: str) -> dict:
        f = self.files[file_id]
        return {"id": file_id, "object": "file", "bytes": len(f["data"]), "created_at": int(time.time()),
                "filename": f["filename"], "purpose": f["purpose"], "status": "processed"}

    def create_batch(self, body: dict, auth: str = "") -> dict:
        with self.lock:
            self.batch_creates += 1
            batch_id = f"batch_{len(self.batches) + 1:04d}"
            lines = [json.loads(x) for x in self.files[body["input_file_id"]]["data"].splitlines() if x.strip()]
            self.batches[batch_id] = {
                "id": batch_id, "object": "batch", "endpoint": body["endpoint"], "errors": None,
                "input_file_id": body["input_file_id"], "completion_window": body["completion_window"],
                "status": "validating", "output_file_id": None, "error_file_id": None,
                "created_at": int(time.time()), "metadata": body.get("metadata"),
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0}, "_step": 0, "_lines": lines,
                "_auth": auth}
        return self.public(batch_id)

    def public(self, batch_id: str) -> dict:
        return {k: v for k, v in self.batches[batch_id].items() if not k.startswith("_")}

    def advance(self, batch_id: str) -> dict:
        with self.lock:
            self.retrieves += 1
            batch = self.batches[batch_id]
            held = self.hold.is_set() and batch["status"] == "in_progress"
            if batch["status"] in _STEPS and not held:
                batch["_step"] += 1
                if batch["_step"] < len(_STEPS):
                    batch["status"] = _STEPS[batch["_step"]]
                else:
                    self._finish(batch)
        return self.public(batch_id)

    def cancel(self, batch_id: str) -> dict:
        with self.lock:
            self.cancels += 1
            batch = self.batches[batch_id]
            if batch["status"] in _STEPS:
                batch["status"] = "cancelled"
        return self.public(batch_id)

    def _finish(self, batch: dict) -> None:
        if self.ending == "failed":
            batch["status"] = "failed"
            batch["errors"] = {"object": "list", "data": [{"code": "invalid_json_line", "line": 1,
                                                           "message": "scripted validation failure"}]}
            return
        out, err = [], []
        for n, line in enumerate(batch["_lines"]):
            if self.ending == "expired" and n >= self.expire_after:
                err.append({"id": f"batch_req_{n}", "custom_id": line["custom_id"], "response": None,
                            "error": {"code": "batch_expired",
                                      "message": "This request could not be executed before the completion window"
                                                 " expired."}})
                continue
            answer = self._answer_line(line, batch["_auth"])
            (out if answer["response"] and answer["response"]["status_code"] == 200 else err).append(answer)
        if out:
            batch["output_file_id"] = self._store(out, "batch_output")
        if err:
            batch["error_file_id"] = self._store(err, "batch_output")
        batch["request_counts"].update(completed=len(out), failed=len(err))
        batch["status"] = "expired" if self.ending == "expired" else "completed"

    def _store(self, records: list[dict], purpose: str) -> str:
        file_id = f"file-{len(self.files) + 1:04d}"
        self.files[file_id] = {"purpose": purpose, "filename": f"{file_id}.jsonl",
                               "data": "".join(json.dumps(r) + "\n" for r in records).encode()}
        return file_id

    def _answer_line(self, line: dict, auth: str) -> dict:
        body = line["body"]
        prompt = "\n".join(str(m.get("content") or "") for m in body.get("messages", []))
        if "[[scenario:batchleak]]" in prompt:  # echoes the submitter's Authorization header in its answer
            return self._ok_line(line, prompt, f"I was submitted with {auth} and have no opinion.")
        if "[[scenario:batchfail]]" in prompt:
            return {"id": "r", "custom_id": line["custom_id"],
                    "response": {"status_code": 500, "request_id": "req",
                                 "body": {"error": {"message": "scripted line failure", "type": "server_error"}}},
                    "error": None}
        return self._ok_line(line, prompt, self.judgement(prompt, self.behaviour_for(prompt)))

    def _ok_line(self, line: dict, prompt: str, content: str) -> dict:
        body = line["body"]
        usage = (max(1, len(prompt) // 4), max(1, len(content) // 4))
        self.usages.append(usage)
        return {"id": "r", "custom_id": line["custom_id"], "error": None, "response": {
            "status_code": 200, "request_id": "req", "body": {
                "id": "chatcmpl-batch", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}}}}


class _BatchHandler(_Handler):
    server: BatchServer

    def _route(self) -> list[str]:
        return self.path.split("?")[0].strip("/").split("/")[1:]  # after "v1"

    def do_GET(self) -> None:
        parts, server = self._route(), self.server
        server.batch_auth.append(self.headers.get("Authorization") or "")
        if len(parts) == 2 and parts[0] == "batches" and parts[1] in server.batches:
            self._send(200, server.advance(parts[1]))
        elif len(parts) == 2 and parts[0] == "files" and parts[1] in server.files:
            self._send(200, server.file_object(parts[1]))
        elif len(parts) == 3 and parts[0] == "files" and parts[2] == "content" and parts[1] in server.files:
            with server.lock:
                server.contents += 1
            self._send_bytes(server.files[parts[1]]["data"])
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        parts, server = self._route(), self.server
        if parts[:1] not in (["files"], ["batches"]):
            super().do_POST()
            return
        server.batch_auth.append(self.headers.get("Authorization") or "")
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if parts == ["files"]:
            fields = self._multipart(data)
            with server.lock:
                server.uploads += 1
            self._send(200, server.add_file(fields["file"][1], purpose=fields["purpose"][1].decode(),
                                            filename=fields["file"][0] or "upload.jsonl"))
        elif parts == ["batches"]:
            self._send(200, server.create_batch(json.loads(data), self.headers.get("Authorization") or ""))
        elif len(parts) == 3 and parts[2] == "cancel" and parts[1] in server.batches:
            self._send(200, server.cancel(parts[1]))
        else:
            self._send(404, {"error": {"message": f"no route {self.path}"}})

    def _multipart(self, data: bytes) -> dict[str, tuple[str | None, bytes]]:
        head = f"Content-Type: {self.headers.get('Content-Type')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + data)
        return {part.get_param("name", header="content-disposition"): (part.get_filename(),
                                                                       part.get_payload(decode=True))
                for part in message.iter_parts()}

    def _send_bytes(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)


BatchServer.handler_class = _BatchHandler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--codes", required=True, help="comma-separated mode codes")
    parser.add_argument("--ending", default="completed", choices=("completed", "expired", "failed"))
    args = parser.parse_args()
    server = BatchServer(args.codes.split(","), port=args.port, ending=args.ending)
    print(server.base_url, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    sys.exit(main())
