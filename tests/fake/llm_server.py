#!/usr/bin/env python3
"""A fake Gemini (generateContent) and OpenAI-compatible (chat/completions) server for the tests.

It speaks the documented wire formats, answers from the facts in the request (so a test can check
that the update belongs to the right alert), records every request body and header set it receives
in a JSON-lines log, and plays a failure mode: the one given by --mode, or, per request, the one
named in a path prefix /t/CASE/MODE (so one server serves many test cases at once: give the client
the base URL http://127.0.0.1:PORT/t/CASE/MODE). Each log line has "case" and "mode" (null and the
--mode without a prefix) and "path" without the prefix. The modes:

  ok          a valid answer
  raise       a valid answer with severity CRITICAL (the model may raise severity)
  lower       a valid answer with severity LOW (the model may not lower it)
  400 401 403 an error with the provider's error body
  401-echo    401 whose message quotes the key it was given, as some providers' do
  429         Too Many Requests with Retry-After (seconds, --retry-after); Gemini adds RetryInfo
  429-long    429 with Retry-After 3600: too long to wait, give up at once
  500 503     a server error
  flaky       503 for the first --fail-first requests of each alert, then ok
  slow        waits --delay seconds before a valid answer (past the client's timeout)
  malformed   200 with a body that is not JSON
  badjson     200, documented envelope, but the model's text is not JSON
  invalid     200, model JSON without "suggestion" and with an 200-character title
  blocked     Gemini: promptFeedback.blockReason SAFETY, no candidates;
              OpenAI: finish_reason content_filter, content null
  safety      Gemini: a candidate with finishReason SAFETY and no content
  reset       closes the connection without an answer

Usage: llm_server.py --port-file FILE --log FILE [--mode MODE] [--retry-after S] [--delay S]
                     [--fail-first N]
It binds 127.0.0.1 on a free port and writes the port to --port-file once listening.
"""
import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()
SEEN = {}  # facts text -> requests seen, for "flaky"

CASE_PREFIX = re.compile(r"^/t/([A-Za-z0-9_.-]+)/([A-Za-z0-9_-]+)(/.*)$")
GEMINI_PATH = re.compile(r"^/v1beta/models/([A-Za-z0-9._-]+):generateContent$")

GEMINI_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
OPENAI_TYPE = {400: "invalid_request_error", 401: "invalid_request_error",
               403: "permission_error", 429: "rate_limit_exceeded", 500: "server_error",
               503: "server_error"}


def model_text(facts, severity=None):
    """The model's JSON answer, built from the facts it was given."""
    try:
        f = json.loads(facts)
    except ValueError:
        f = {}
    room = f.get("room", "your home")
    readings = f.get("readings") or [{}]
    first = readings[0]
    sensor = first.get("sensor", "sensor")
    answer = {
        "title": f"AI: {f.get('pattern', 'anomaly')} in the {room}",
        "description": f"The {sensor} reads {first.get('value')} in the {room}.",
        "suggestion": "Check the room now.",
        "severity": severity or f.get("severity", "LOW"),
    }
    return json.dumps(answer)


def facts_of(provider, body):
    try:
        if provider == "gemini":
            text = body["contents"][0]["parts"][0]["text"]
        else:
            text = body["messages"][-1]["content"]
    except (KeyError, IndexError, TypeError):
        return ""
    i = text.find("{")
    return text[i:] if i >= 0 else ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the test reads --log instead
        pass

    def send_json(self, status, obj, headers=None):
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def error(self, provider, status, headers=None):
        if provider == "gemini":
            err = {"code": status, "message": f"fake error {status}",
                   "status": GEMINI_STATUS.get(status, "UNKNOWN")}
            if status == 429:
                err["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                   "retryDelay": f"{ARGS.retry_after}s"}]
            body = {"error": err}
        else:
            body = {"error": {"message": f"fake error {status}",
                              "type": OPENAI_TYPE.get(status, "error"), "param": None,
                              "code": None}}
        self.send_json(status, body, headers)

    def answer(self, provider, model, facts, severity=None):
        text = model_text(facts, severity)
        if provider == "gemini":
            body = {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"},
                                    "finishReason": "STOP", "index": 0}],
                    "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 40,
                                      "totalTokenCount": 160},
                    "modelVersion": model, "responseId": "fake-1"}
        else:
            body = {"id": "chatcmpl-fake", "object": "chat.completion",
                    "created": int(time.time()), "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 120, "completion_tokens": 40,
                              "total_tokens": 160}}
        self.send_json(200, body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        case, mode, path = None, ARGS.mode, self.path
        prefixed = CASE_PREFIX.match(self.path)
        if prefixed:
            case, mode, path = prefixed.groups()
        m = GEMINI_PATH.match(path)
        if m:
            provider, model = "gemini", m.group(1)
        elif path.endswith("/chat/completions"):
            provider, model = "openai", None
        else:
            self.send_json(404, {"error": {"code": 404, "message": "not found",
                                           "status": "NOT_FOUND"}})
            return
        try:
            body = json.loads(raw)
        except ValueError:
            self.error(provider, 400)
            return
        if provider == "openai":
            model = body.get("model", "")
        with LOCK:
            with open(ARGS.log, "a") as log:
                log.write(json.dumps({"case": case, "mode": mode, "path": path,
                                      "provider": provider,
                                      "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": raw.decode("utf-8", "replace")}) + "\n")
        # The key must come in a header, never in the URL.
        key = (self.headers.get("x-goog-api-key") if provider == "gemini"
               else (self.headers.get("Authorization") or "").removeprefix("Bearer "))
        if provider == "gemini" and not key:
            self.error(provider, 401)
            return
        facts = facts_of(provider, body)
        if mode in ("ok", "raise", "lower"):
            self.answer(provider, model, facts,
                        {"raise": "CRITICAL", "lower": "LOW"}.get(mode))
        elif mode in ("400", "401", "403", "500", "503"):
            self.error(provider, int(mode))
        elif mode == "401-echo":
            self.send_json(401, {"error": {"code": 401, "status": "UNAUTHENTICATED",
                                           "message": f"API key not valid: {key}"}})
        elif mode == "429":
            self.error(provider, 429, {"Retry-After": str(int(ARGS.retry_after))})
        elif mode == "429-long":
            self.error(provider, 429, {"Retry-After": "3600"})
        elif mode == "flaky":
            with LOCK:
                SEEN[(case, facts)] = SEEN.get((case, facts), 0) + 1
                n = SEEN[(case, facts)]
            if n <= ARGS.fail_first:
                self.error(provider, 503)
            else:
                self.answer(provider, model, facts)
        elif mode == "slow":
            time.sleep(ARGS.delay)
            try:
                self.answer(provider, model, facts)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif mode == "malformed":
            self.send_json(200, b"<html>upstream proxy error</html>")
        elif mode == "badjson":
            self.answer_raw(provider, model, "Sure! Here is your alert: fire.")
        elif mode == "invalid":
            self.answer_raw(provider, model, json.dumps({"title": "x" * 200,
                                                          "description": "d"}))
        elif mode == "blocked":
            if provider == "gemini":
                self.send_json(200, {"promptFeedback": {"blockReason": "SAFETY",
                                                        "safetyRatings": []},
                                     "usageMetadata": {"promptTokenCount": 120},
                                     "modelVersion": model})
            else:
                self.send_json(200, {"id": "chatcmpl-fake", "object": "chat.completion",
                                     "created": 1, "model": model,
                                     "choices": [{"index": 0,
                                                  "message": {"role": "assistant",
                                                              "content": None},
                                                  "finish_reason": "content_filter"}]})
        elif mode == "safety":
            self.send_json(200, {"candidates": [{"finishReason": "SAFETY", "index": 0,
                                                 "safetyRatings": [
                                                     {"category": "HARM_CATEGORY_DANGEROUS_CONTENT",
                                                      "probability": "HIGH", "blocked": True}]}],
                                 "modelVersion": model})
        elif mode == "reset":
            self.close_connection = True
            self.connection.close()
        else:
            self.error(provider, 500)

    def answer_raw(self, provider, model, text):
        if provider == "gemini":
            body = {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"},
                                    "finishReason": "STOP", "index": 0}], "modelVersion": model}
        else:
            body = {"id": "chatcmpl-fake", "object": "chat.completion", "created": 1,
                    "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}]}
        self.send_json(200, body)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--mode", default="ok")
    p.add_argument("--retry-after", type=float, default=1)
    p.add_argument("--delay", type=float, default=5)
    p.add_argument("--fail-first", type=int, default=1)
    ARGS = p.parse_args()
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(ARGS.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
