#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Stand-in peers of the CNI end-to-end tests, on 127.0.0.1 of the
namespace it runs in:

  cni_standin.py slow PORT      accepts connections and never answers
  cni_standin.py garbage PORT   answers every request 200 with non-JSON
  cni_standin.py kube PORT DIR  a Kubernetes API stand-in over HTTPS
      (DIR/srv.pem, DIR/srv.key), requires "Bearer $(cat DIR/token.txt)",
      serves GET /api/v1/namespaces/NS/pods/NAME from DIR/pods/NS/NAME.json
      as the real API does (a Status object with 401 or 404 otherwise).

It prints "ready" on stdout once listening.
"""
import http.server
import json
import os
import socket
import ssl
import sys


def status(code, reason, message):
    return json.dumps({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                       "message": message, "reason": reason, "code": code}).encode()


class Kube(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        d = self.server.dir
        with open(os.path.join(d, "token.txt")) as f:
            token = f.read().strip()
        if self.headers.get("Authorization") != "Bearer " + token:
            return self.reply(401, status(401, "Unauthorized", "Unauthorized"))
        p = self.path.split("?")[0].split("/")
        if len(p) == 7 and p[1:4] == ["api", "v1", "namespaces"] and p[5] == "pods":
            f = os.path.join(d, "pods", p[4], p[6] + ".json")
            if os.path.isfile(f):
                with open(f, "rb") as fh:
                    return self.reply(200, fh.read())
        return self.reply(404, status(404, "NotFound", "pods \"%s\" not found" % p[-1]))

    def log_message(self, fmt, *args):
        sys.stderr.write("kube: " + (fmt % args) + "\n")


class Garbage(http.server.BaseHTTPRequestHandler):
    def answer(self):
        body = b"<html>this is not the IPAM API</html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = answer


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "slow":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen(64)
        print("ready", flush=True)
        held = []
        while True:
            held.append(s.accept()[0])
    if mode == "garbage":
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Garbage)
    else:
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Kube)
        srv.dir = sys.argv[3]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(srv.dir, "srv.pem"), os.path.join(srv.dir, "srv.key"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
