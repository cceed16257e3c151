#!/usr/bin/python3
"""Test aid: a JWKS document for an RSA key, and RS256 tokens signed with it (openssl CLI).

  jwt_tool.py jwks KEY.pem KID
  jwt_tool.py token KEY.pem KID ISSUER
"""
import base64
import json
import subprocess
import sys
import time


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main():
    mode, key, kid = sys.argv[1:4]
    if mode == "jwks":
        out = subprocess.check_output(["openssl", "rsa", "-in", key, "-noout", "-modulus"])
        n = bytes.fromhex(out.decode().strip().split("=", 1)[1])
        print(json.dumps({"keys": [{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
                                    "n": b64(n), "e": "AQAB"}]}))
    elif mode == "token":
        issuer = sys.argv[4]
        header = b64(json.dumps({"alg": "RS256", "kid": kid, "typ": "JWT"}).encode())
        payload = b64(json.dumps({"iss": issuer, "sub": "tester",
                                  "exp": int(time.time()) + 3600}).encode())
        signed = (header + "." + payload).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signed,
                             capture_output=True, check=True).stdout
        print(header + "." + payload + "." + b64(sig))
    else:
        sys.exit("usage: jwt_tool.py jwks|token KEY KID [ISSUER]")


main()
