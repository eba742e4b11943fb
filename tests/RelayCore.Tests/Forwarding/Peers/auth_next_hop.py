#!/usr/bin/python3
# Copyright (c) The Relay authors.
# Licensed under the MIT licence.
"""A real next hop for Relay's connection tests: aiosmtpd with AUTH (PLAIN, LOGIN, CRAM-MD5, XOAUTH2),
STARTTLS or implicit TLS, optional client certificates, and an optional POP-before-SMTP relay policy
that reads dovecot's login log the way classic pop-before-smtp daemons do.

Prints "READY <port>" once listening. Appends one JSON object per event to --record:
connect, ehlo (hostname), auth (mechanism, user, ok, tls, client_cert), message
(from, to, auth user, tls), refused (reason). Times are Unix seconds (wall clock, as dovecot logs).
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import signal
import ssl
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, auth_mechanism

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--record", required=True)
parser.add_argument("--account", action="append", default=[], help="user:password (password logins)")
parser.add_argument("--oauth", action="append", default=[], help="user:token (XOAUTH2)")
parser.add_argument("--oauth-file", help="XOAUTH2 tokens, one a line, valid for any user; read at every AUTH so a test "
                    "can add the tokens its endpoint issues and remove revoked ones. A refused token gets the "
                    "standard error flow: 334 <base64 JSON status 401>, the client's empty line, then 535")
parser.add_argument("--oauth-close", action="store_true", help="close the connection after refusing an XOAUTH2 token")
parser.add_argument("--mechanisms", default="PLAIN,LOGIN,CRAM-MD5,XOAUTH2", help="offered AUTH mechanisms; empty for no AUTH")
parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
parser.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
parser.add_argument("--client-ca", help="ask for a client certificate and trust this CA file")
parser.add_argument("--auth-require-tls", action="store_true")
parser.add_argument("--pipelining", action="store_true", help="offer PIPELINING; messages record whether DATA came with MAIL")
parser.add_argument("--pop-log", help="dovecot log: relay only after a POP login from the same address")
parser.add_argument("--pop-window", type=float, default=60.0)
args = parser.parse_args()

ACCOUNTS = dict(a.split(":", 1) for a in args.account)
TOKENS = dict(a.split(":", 1) for a in args.oauth)
OFFERED = [m.strip().upper() for m in args.mechanisms.split(",") if m.strip()]
# dovecot: "<ts> pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=127.0.0.1, ..."
POP_LOGIN = re.compile(r"^(?P<ts>\d+\.\d+) .*pop3-login: .*Login: user=<(?P<user>[^>]*)>.*rip=(?P<rip>[0-9a-fA-F.:]+)")


def record(event, **fields):
    fields["event"] = event
    fields["time"] = time.time()
    with open(args.record, "a", encoding="utf-8") as out:
        out.write(json.dumps(fields) + "\n")


def tls_facts(server):
    ssl_object = server.transport.get_extra_info("ssl_object") if server.transport else None
    if ssl_object is None:
        return False, None
    cert = ssl_object.getpeercert()
    subject = None
    if cert:
        subject = ",".join("=".join(pair) for rdn in cert.get("subject", ()) for pair in rdn)
    return True, subject


def file_tokens():
    if not args.oauth_file or not os.path.exists(args.oauth_file):
        return []
    with open(args.oauth_file, encoding="utf-8") as tokens:
        return [line.strip() for line in tokens if line.strip()]


def pop_logins():
    if not args.pop_log or not os.path.exists(args.pop_log):
        return []
    with open(args.pop_log, encoding="utf-8", errors="replace") as log:
        return [(float(m.group("ts")), m.group("user"), m.group("rip")) for m in map(POP_LOGIN.match, log) if m]


class NextHop(SMTP):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        # A JWT access token in AUTH XOAUTH2's initial response is far over RFC 5321's 512 octets; real next hops allow it.
        self.command_size_limits["AUTH"] = 16384

    def connection_made(self, transport):
        first = self.transport is None
        super().connection_made(transport)
        if first:
            record("connect", peer=list(self.session.peer)[:2])

    async def smtp_MAIL(self, arg):
        # DATA already buffered behind MAIL: the client sent the whole group before any reply (RFC 2920).
        self.envelope.data_in_group = b"DATA\r\n" in bytes(self._reader._buffer)
        await super().smtp_MAIL(arg)

    def _authenticated(self, mechanism, user, ok):
        tls, subject = tls_facts(self)
        record("auth", mechanism=mechanism, user=user, ok=ok, tls=tls, client_cert=subject)
        return AuthResult(success=ok, handled=False, auth_data=user)

    @auth_mechanism("CRAM-MD5")
    async def auth_CRAM_MD5(self, _, argv):
        challenge = "<%d.%d@next-hop.test>" % (os.getpid(), time.time_ns())
        response = await self.challenge_auth(challenge)
        if not isinstance(response, bytes):
            return AuthResult(success=False, handled=True)
        user, _, digest = response.decode("utf-8", "replace").rpartition(" ")
        password = ACCOUNTS.get(user)
        expected = hmac.new(password.encode(), challenge.encode(), hashlib.md5).hexdigest() if password is not None else None
        return self._authenticated("CRAM-MD5", user, expected is not None and hmac.compare_digest(expected, digest))

    @auth_mechanism("XOAUTH2")
    async def auth_XOAUTH2(self, _, argv):
        blob = base64.b64decode(argv[1]) if len(argv) > 1 else await self.challenge_auth("")
        fields = dict(part.split("=", 1) for part in blob.decode("utf-8", "replace").split("\x01") if "=" in part)
        user = fields.get("user", "")
        presented = fields.get("auth", "")
        ok = presented == "Bearer " + TOKENS.get(user, "\x00") or presented in ("Bearer " + t for t in file_tokens())
        if not ok and args.oauth_file:
            error = json.dumps({"status": "401", "schemes": "Bearer", "scope": "https://mail.google.com/"})
            await self.challenge_auth(error)
        if not ok and args.oauth_close:
            self._authenticated("XOAUTH2", user, ok)
            await self.push("535 5.7.8 Username and Password not accepted")
            self.transport.close()
            return AuthResult(success=False, handled=True)
        return self._authenticated("XOAUTH2", user, ok)


def authenticator(server, session, envelope, mechanism, data):
    user = data.login.decode("utf-8", "replace") if isinstance(data, LoginPassword) else ""
    ok = isinstance(data, LoginPassword) and ACCOUNTS.get(user) == data.password.decode("utf-8", "replace")
    return server._authenticated(mechanism, user, ok)


class Handler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        record("ehlo", hostname=hostname)
        if args.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        # aiosmtpd always lists AUTH; a next hop that offers none must not.
        return [r for r in responses if OFFERED or not r[4:].startswith("AUTH")]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if args.pop_log:
            ip = session.peer[0]
            now = time.time()
            if not any(rip == ip and now - ts <= args.pop_window for ts, _, rip in pop_logins()):
                record("refused", reason="no POP login from " + ip, rcpt=address)
                return "554 5.7.1 <%s>: Relay access denied (log in to POP3 first)" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        tls, subject = tls_facts(server)
        record("message", mail_from=envelope.mail_from, rcpt_tos=envelope.rcpt_tos, auth_user=session.auth_data,
               tls=tls, client_cert=subject, size=len(envelope.original_content or b""),
               data_in_group=getattr(envelope, "data_in_group", False))
        return "250 2.0.0 OK queued"


def context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if args.client_ca:
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.load_verify_locations(args.client_ca)
    return ctx


async def main():
    loop = asyncio.get_running_loop()
    starttls = context(*args.starttls) if args.starttls else None
    implicit = context(*args.implicit_tls) if args.implicit_tls else None
    excluded = [m for m in ("PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2") if m not in OFFERED]

    def factory():
        return NextHop(Handler(), hostname="next-hop.test", tls_context=starttls, authenticator=authenticator,
                       auth_require_tls=args.auth_require_tls, auth_exclude_mechanism=excluded, loop=loop)

    server = await loop.create_server(factory, host=args.host, port=0, ssl=implicit)
    print("READY %d" % server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()


asyncio.run(main())
