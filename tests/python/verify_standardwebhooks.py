#!/usr/bin/env python3
"""Verifies one received webhook the way a receiver would, independently of Switchyard's code.

Standard Webhooks signatures are checked by the reference `standardwebhooks` package from
PyPI; the Meshes-style HMAC by Python's own `hmac`. The Rust tests run this with the request
their receiver recorded.

Input (stdin, JSON):
  {"scheme": "standard" | "hmac",
   "secret": "<the connection's signing secret>",
   "headers": {"<lower-case name>": "<value>", ...},
   "body_b64": "<the exact body bytes, base64>",
   "algorithm": "sha256" | "sha512",   # hmac only
   "header": "<header name>"}          # hmac only

Prints "verified" and exits 0, or prints why not and exits 1.
"""

import base64
import hashlib
import hmac
import json
import sys

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def verify_standard(request, body):
    # Raises when a header is missing, the timestamp is outside 5 minutes, or no signature in
    # the (space-separated) list matches.
    Webhook(request["secret"]).verify(body, request["headers"], json_parse=False)


def verify_hmac(request, body):
    digest = {"sha256": hashlib.sha256, "sha512": hashlib.sha512}[request["algorithm"]]
    expected = hmac.new(request["secret"].encode(), body, digest).hexdigest()
    received = request["headers"].get(request["header"].lower(), "")
    if not hmac.compare_digest(expected, received):
        raise WebhookVerificationError("HMAC does not match")


def main():
    request = json.load(sys.stdin)
    body = base64.b64decode(request["body_b64"])
    try:
        {"standard": verify_standard, "hmac": verify_hmac}[request["scheme"]](request, body)
    except WebhookVerificationError as e:
        print(f"not verified: {e}")
        return 1
    print("verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
