#!/usr/bin/python3
# Copyright (c) The Relay authors.
# Licensed under the MIT licence.
"""Signs a message with DKIM (python3-dkim), simple/simple canonicalization, so that any change
to a signed header or to the body breaks the signature.

usage: dkim_sign.py <private-key.pem> <selector> <domain> <in> <out>
"""

import sys

import dkim


def main():
    key_path, selector, domain, in_path, out_path = sys.argv[1:6]
    with open(key_path, "rb") as key_file:
        key = key_file.read()
    with open(in_path, "rb") as message_file:
        message = message_file.read()
    signature = dkim.sign(
        message,
        selector.encode("ascii"),
        domain.encode("ascii"),
        key,
        canonicalize=(b"simple", b"simple"),
        include_headers=[b"from", b"to", b"subject", b"x-folded", b"content-type", b"content-transfer-encoding"],
        linesep=b"\r\n")
    with open(out_path, "wb") as out:
        out.write(signature + message)


if __name__ == "__main__":
    main()
