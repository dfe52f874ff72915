"""Real peers on 127.0.0.1 for the distribution tests (and the later drill).

- `FakeSendGrid`: a SendGrid v3 `/v3/mail/send` server that records every request and answers
  what it is told (202, 400, 413, 429 with rate-limit headers, 500, or hangs);
- `FakeTwilio`: the Messages resource of Twilio's 2010-04-01 API, reached by the real `twilio`
  client through its base URL;
- `SmtpSink`: an aiosmtpd server that keeps every message it receives.

Each listens on port 0 (a free port) unless told otherwise; run one standalone with
`python -m tests.distribution.fakes sendgrid|twilio|smtp [--port N]`.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller


@dataclass
class Reply:
    """One scripted answer: a status, headers, a JSON body, or a hang of `hang` seconds."""

    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    hang: float = 0.0


class _Server:
    """A threaded HTTP server with a script of replies (the default once it runs out)."""

    default = Reply()

    def __init__(self, port: int = 0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: deque[Reply] = deque()
        self.lock = threading.Lock()
        self.release = threading.Event()  # ends every hang at once (on stop)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                reply = owner.handle(self.path, dict(self.headers), raw)
                if reply.hang:
                    owner.release.wait(reply.hang)
                body = b"" if reply.body is None else json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> _Server:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):  # noqa: ANN204
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def then(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order."""
        with self.lock:
            self.script.extend(replies)

    def next_reply(self) -> Reply:
        with self.lock:
            return self.script.popleft() if self.script else self.default

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        raise NotImplementedError


class FakeSendGrid(_Server):
    """POST /v3/mail/send. `accepted` lists (message id, address) of every 202-answered
    personalization, in order: the test's record of what the provider accepted."""

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.accepted: list[tuple[str, str]] = []

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        body = json.loads(raw or b"{}")
        reply = self.next_reply()
        with self.lock:
            self.requests.append({"path": path, "headers": headers, "body": body,
                                  "status": reply.status})
            if reply.status == 202 and path == "/v3/mail/send":
                for personalization in body.get("personalizations", []):
                    message_id = personalization.get("custom_args", {}).get(
                        "barometre_message_id")
                    self.accepted.append((message_id, personalization["to"][0]["email"]))
        if reply.status == 202 and "X-Message-Id" not in reply.headers:
            return Reply(202, {"X-Message-Id": uuid.uuid4().hex[:22]}, None, reply.hang)
        return reply

    def accepted_counts(self) -> Counter[str]:
        with self.lock:
            return Counter(message_id for message_id, _ in self.accepted)

    @staticmethod
    def rate_limited(reset_in: float = 1.0) -> Reply:
        return Reply(429, {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0",
                           "X-RateLimit-Reset": str(int(time.time() + reset_in))},
                     {"errors": [{"message": "too many requests"}]})

    @staticmethod
    def bad_request(message: str = "The to email does not contain a valid address.") -> Reply:
        return Reply(400, {}, {"errors": [{"message": message, "field": "personalizations.0.to"}]})


class FakeTwilio(_Server):
    """POST /2010-04-01/Accounts/<sid>/Messages.json, answering like Twilio (201 + JSON)."""

    default = Reply(201)

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        reply = self.next_reply()
        with self.lock:
            self.requests.append({"path": path, "headers": headers, "form": form,
                                  "status": reply.status})
        if reply.status == 201:
            sid = "SM" + uuid.uuid4().hex
            account = path.split("/")[3] if path.count("/") >= 4 else "AC"
            return Reply(201, reply.headers, {
                "sid": sid, "account_sid": account, "to": form.get("To"),
                "from": form.get("From"), "body": form.get("Body"), "status": "queued",
                "num_segments": "1", "uri": f"{path[:-5]}/{sid}.json",
            }, reply.hang)
        return reply

    @staticmethod
    def error(status: int, code: int, message: str) -> Reply:
        return Reply(status, {}, {"code": code, "message": message, "status": status,
                                  "more_info": f"https://www.twilio.com/docs/errors/{code}"})


class _SinkHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802, ANN001, ANN201
        if address in self.sink.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001, ANN201
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        with self.sink.lock:
            self.sink.messages.append(parsed)
            self.sink.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class _AnyPortController(Controller):
    """aiosmtpd's controller, able to listen on port 0 (it needs the real port to wake up)."""

    def _create_server(self):  # noqa: ANN202
        creating = super()._create_server()

        async def created():  # noqa: ANN202
            server = await creating
            self.port = server.sockets[0].getsockname()[1]
            return server

        return created()


class SmtpSink:
    """An SMTP server keeping every message; addresses in `refuse` get 550 at RCPT."""

    def __init__(self, port: int = 0) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()
        self.controller = _AnyPortController(_SinkHandler(self), hostname="127.0.0.1", port=port)

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("peer", choices=["sendgrid", "twilio", "smtp"])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    peer = {"sendgrid": FakeSendGrid, "twilio": FakeTwilio, "smtp": SmtpSink}[args.peer](args.port)
    peer.start()
    print(f"fake {args.peer} listening on 127.0.0.1:{peer.port}", flush=True)
    try:
        while True:
            time.sleep(5)
            count = len(peer.messages) if isinstance(peer, SmtpSink) else len(peer.requests)
            print(f"{count} requests so far", flush=True)
    except KeyboardInterrupt:
        peer.stop()


if __name__ == "__main__":
    main()
