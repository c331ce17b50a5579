"""A proxy in front of the emulator that enforces Lambda's control-plane quota
as AWS does: at most N calls in any one second per account and region (the
SigV4 credential's access key and region), no burst; a call over it gets HTTP
429 TooManyRequestsException with retryAfterSeconds. GetPolicy has its own
bucket of N per account-region, as in AWS; GetFunction (its own quota of
100/s) and non-Lambda calls are not counted. Every call let through or
throttled is logged, one JSON line each, for bench/quota to count.

Usage: quota_proxy.py UPSTREAM_PORT LISTEN_PORT PER_SECOND LOG_FILE
"""

import json
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

upstream_port, listen_port, per_second, log_path = (
    int(sys.argv[1]),
    int(sys.argv[2]),
    int(sys.argv[3]),
    sys.argv[4],
)
lock = threading.Lock()
passed = defaultdict(deque)
log = open(log_path, "a", buffering=1)
THROTTLE = json.dumps(
    {"Reason": "CallerRateLimitExceeded", "Type": "User", "message": "Rate exceeded", "retryAfterSeconds": "1"}
).encode()


def quota(method, path):
    """The quota a Lambda call counts against: None for GetFunction (its own
    100/s, not enforced here) and non-Lambda calls, "policy" for GetPolicy
    (its own 15/s), "control" for every other control-plane call."""
    path = path.split("?")[0]
    if not re.match(r"^/20\d\d-\d\d-\d\d/", path):
        return None
    if method == "GET" and re.match(r"^/2015-03-31/functions/[^/]+$", path):
        return None
    if method == "GET" and re.match(r"^/2015-03-31/functions/[^/]+/policy$", path):
        return "policy"
    return "control"


def bucket(headers, kind):
    """ACCESS_KEY/REGION/QUOTA: one account-region's one quota."""
    match = re.search(r"Credential=([^/]+)/[^/]+/([^/]+)/", headers.get("Authorization", ""))
    return f"{match.group(1)}/{match.group(2)}/{kind}" if match else f"?/?/{kind}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind = quota(self.command, self.path)
        if kind:
            key, now = bucket(self.headers, kind), time.monotonic()
            with lock:
                times = passed[key]
                while times and now - times[0] >= 1.0:
                    times.popleft()
                throttled = len(times) >= per_second
                if not throttled:
                    times.append(now)
            log.write(json.dumps({"t": now, "bucket": key, "throttled": throttled, "call": f"{self.command} {self.path}"}) + "\n")
            if throttled:
                self.send_response(429)
                self.send_header("Content-Type", "application/json")
                self.send_header("x-amzn-ErrorType", "TooManyRequestsException")
                self.send_header("Content-Length", str(len(THROTTLE)))
                self.end_headers()
                self.wfile.write(THROTTLE)
                return
        request = urllib.request.Request(
            f"http://127.0.0.1:{upstream_port}{self.path}", data=body or None, method=self.command
        )
        for name, value in self.headers.items():
            if name.lower() not in ("host", "content-length", "connection"):
                request.add_header(name, value)
        try:
            response = urllib.request.urlopen(request, timeout=120)
            status, headers, payload = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, payload = error.code, error.headers, error.read()
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


ThreadingHTTPServer(("127.0.0.1", listen_port), Handler).serve_forever()
