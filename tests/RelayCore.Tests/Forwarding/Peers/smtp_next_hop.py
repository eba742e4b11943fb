#!/usr/bin/python3
# Copyright (c) The Relay authors.
# Licensed under the MIT licence.
"""A real SMTP next hop (aiosmtpd) for Relay's forwarding tests.

Listens on 127.0.0.1 (port 0: the OS picks), prints "READY <port>" and serves until its
stdin closes (the test fixture ends) or --lifetime passes. Every accepted message is
recorded in --record: NNNNNN.eml holds the exact bytes received (after SMTP dot-unstuffing)
and NNNNNN.json its envelope. connections.log gets a line per connection and per QUIT.
Failure options make it answer like a troubled next hop.
"""

import argparse
import asyncio
import json
import os
import sys

from aiosmtpd.smtp import SMTP


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--record", required=True, help="directory for the received messages")
    parser.add_argument("--lifetime", type=float, default=300.0, help="seconds before exiting anyway")
    parser.add_argument("--pipelining", action="store_true", help="offer PIPELINING")
    parser.add_argument("--chunking", action="store_true", help="offer CHUNKING (RFC 3030 BDAT)")
    parser.add_argument("--no-8bitmime", action="store_true", help="do not offer 8BITMIME")
    parser.add_argument("--no-smtputf8", action="store_true", help="do not offer SMTPUTF8")
    parser.add_argument("--mail-reply", help="answer every MAIL FROM with this reply, e.g. '451 4.3.0 busy'")
    parser.add_argument("--rcpt-reply", help="answer RCPT TO with this reply (all, or the --reject-rcpt ones)")
    parser.add_argument("--reject-rcpt", action="append", default=[], help="the recipient --rcpt-reply is for")
    parser.add_argument("--data-reply", help="answer the end of DATA with this reply")
    parser.add_argument("--drop-in-data", action="store_true", help="close the connection after the first line of DATA")
    parser.add_argument("--dkim-txt", help="a file holding the DKIM key record: verify every message against it")
    parser.add_argument("--stall-data", action="store_true", help="never answer the DATA command")
    parser.add_argument("--stall-after", type=int, default=0, help="with --stall-data: accept this many messages first")
    return parser.parse_args()


class Recorder:
    """The aiosmtpd handler: decides the replies and writes what arrives."""

    def __init__(self, args):
        self.args = args
        self.count = 0
        self.connections = 0

    def log_connection(self, event):
        with open(os.path.join(self.args.record, "connections.log"), "a", encoding="ascii") as log:
            log.write(event + "\n")

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.args.no_8bitmime:
            responses = [line for line in responses if line[4:] != "8BITMIME"]
        if self.args.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        if self.args.chunking:
            responses.insert(len(responses) - 1, "250-CHUNKING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.args.mail_reply:
            return self.args.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.rcpt_reply and (not self.args.reject_rcpt or address in self.args.reject_rcpt):
            return self.args.rcpt_reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.data_reply:
            return self.args.data_reply
        self.count += 1
        stem = os.path.join(self.args.record, "%06d" % self.count)
        with open(stem + ".eml.tmp", "wb") as data:
            data.write(envelope.original_content)
        os.rename(stem + ".eml.tmp", stem + ".eml")
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "mail_options": envelope.mail_options,
            "connection": server.connection_number,
            "pipelined": server.pipelined,
            "chunked": server.chunked,
            "dkim": self.verify_dkim(envelope.original_content),
        }
        with open(stem + ".json.tmp", "w", encoding="utf-8") as envelope_file:
            json.dump(meta, envelope_file)
        # The .json appears last: a reader that sees it sees the whole message.
        os.rename(stem + ".json.tmp", stem + ".json")
        return "250 OK queued as %d" % self.count


    def verify_dkim(self, content):
        """"pass" or "fail" against the --dkim-txt key record (no DNS); None without one."""
        if not self.args.dkim_txt:
            return None
        import dkim
        with open(self.args.dkim_txt, "rb") as record:
            txt = record.read().strip()
        return "pass" if dkim.verify(content, dnsfunc=lambda name, timeout=5: txt) else "fail"


class NextHopSmtp(SMTP):
    """aiosmtpd's SMTP with connection counting, pipelining detection and a mid-DATA drop."""

    def __init__(self, recorder, **kwargs):
        super().__init__(recorder, **kwargs)
        self.recorder = recorder
        self.connection_number = 0
        self.pipelined = False
        self.chunked = False
        self.chunks = []

    def connection_made(self, transport):
        super().connection_made(transport)
        self.recorder.connections += 1
        self.connection_number = self.recorder.connections
        self.recorder.log_connection("connect %d" % self.connection_number)

    async def smtp_MAIL(self, arg):
        # Commands already buffered behind MAIL were sent without waiting for its reply.
        self.pipelined = len(self._reader._buffer) > 0
        self.chunked = False
        self.chunks = []
        await super().smtp_MAIL(arg)

    async def smtp_BDAT(self, arg):
        """RFC 3030 BDAT, which aiosmtpd lacks: the chunk is exactly <size> octets, no dot-stuffing."""
        if not self.recorder.args.chunking:
            await self.push('500 Error: command "BDAT" not recognized')
            return
        words = (arg or "").split()
        if not words or not words[0].isdigit() or len(words) > 2 or (len(words) == 2 and words[1].upper() != "LAST"):
            await self.push("501 Syntax: BDAT <size> [LAST]")
            return
        chunk = await self._reader.readexactly(int(words[0]))
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        self.chunks.append(chunk)
        if len(words) == 1:
            await self.push("250 2.0.0 %d octets received" % len(chunk))
            return
        self.chunked = True
        self.envelope.original_content = b"".join(self.chunks)
        self.envelope.content = self.envelope.original_content
        self.chunks = []
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push(status)

    async def smtp_RSET(self, arg):
        # RFC 3030 section 3: RSET discards the chunks of the transaction, as MAIL starts a new one.
        self.chunks = []
        await super().smtp_RSET(arg)

    async def smtp_QUIT(self, arg):
        self.recorder.log_connection("quit %d" % self.connection_number)
        await super().smtp_QUIT(arg)

    async def smtp_DATA(self, arg):
        if self.recorder.args.stall_data and self.recorder.count >= self.recorder.args.stall_after:
            self.recorder.log_connection("stalled %d" % self.connection_number)
            await asyncio.sleep(self.recorder.args.lifetime)
            return
        if not self.recorder.args.drop_in_data or not self.envelope.rcpt_tos:
            await super().smtp_DATA(arg)
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        await self._reader.readuntil(b"\r\n")
        self.recorder.log_connection("dropped %d" % self.connection_number)
        self.transport.abort()


async def serve(args):
    recorder = Recorder(args)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: NextHopSmtp(recorder, hostname="nexthop.test", enable_SMTPUTF8=not args.no_smtputf8),
        host="127.0.0.1",
        port=0)
    print("READY %d" % server.sockets[0].getsockname()[1], flush=True)
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    try:
        await asyncio.wait_for(stdin_closed, timeout=args.lifetime)
    except asyncio.TimeoutError:
        pass
    server.close()


if __name__ == "__main__":
    arguments = parse_arguments()
    os.makedirs(arguments.record, exist_ok=True)
    asyncio.run(serve(arguments))
    # The stdin reader thread may still block; leave without waiting for it.
    os._exit(0)
