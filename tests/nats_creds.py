#!/usr/bin/python3
# nats_creds.py — real NATS operator-mode (JWT) credentials for the fleet
# tests, without `nsc` (not in Debian): ed25519 nkeys (python3-nacl) and JWTs
# signed by their issuer's seed, as nats-io/nkeys and nats-io/jwt v2 make them.
#   nats_creds.py DIR   writes into DIR:
#     server.conf.inc    operator, system account, MEMORY resolver with the
#                        preloaded account JWTs (include it in a server config)
#     fleet.creds        a user of account FLEET (JetStream on)
#     nojs.creds         a user of account NOJS (known to the server, JetStream off)
#     rogue.creds        a user of account ROGUE, signed by another operator
#                        (the server knows neither)
# nkey: base32 (no padding) of prefix byte(s) + 32-byte key + CRC16 (XMODEM,
# little-endian).  JWT: base64url(header) . base64url(claims) . base64url(sig),
# header {"typ":"JWT","alg":"ed25519-nkey"}, sig = ed25519 over the first two.
import base64, hashlib, json, os, sys, time
import nacl.signing

PREFIX = {"O": 14 << 3, "A": 0, "U": 20 << 3}
SEED = 18 << 3


def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def b32(raw):
    raw += crc16(raw).to_bytes(2, "little")
    return base64.b32encode(raw).decode().rstrip("=")


class NKey:
    def __init__(self, kind):
        self.kind = kind
        self.sk = nacl.signing.SigningKey.generate()
        p = PREFIX[kind]
        self.public = b32(bytes([p]) + bytes(self.sk.verify_key))
        self.seed = b32(bytes([SEED | (p >> 5), (p & 31) << 3]) + bytes(self.sk))


def b64u(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def jwt(issuer, subject, name, nats):
    claims = {"jti": "", "iat": int(time.time()), "iss": issuer.public, "name": name,
              "sub": subject.public, "nats": dict(nats, version=2)}
    h = hashlib.sha512(json.dumps(claims, sort_keys=True).encode()).digest()
    claims["jti"] = base64.b32encode(h[:32]).decode().rstrip("=")
    head = b64u(json.dumps({"typ": "JWT", "alg": "ed25519-nkey"}).encode())
    body = b64u(json.dumps(claims).encode())
    sig = issuer.sk.sign((head + "." + body).encode()).signature
    return head + "." + body + "." + b64u(sig)


NO_LIMITS = {"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
             "wildcards": True, "conn": -1, "leaf": -1}
JS_ON = {"mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1}


def account(op, name, js):
    a = NKey("A")
    limits = dict(NO_LIMITS, **(JS_ON if js else {}))
    return a, jwt(op, a, name, {"type": "account", "limits": limits,
                                "default_permissions": {"pub": {}, "sub": {}}})


def creds(path, acc, name):
    u = NKey("U")
    tok = jwt(acc, u, name, {"type": "user", "pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1})
    text = ("-----BEGIN NATS USER JWT-----\n%s\n------END NATS USER JWT------\n\n"
            "************************* IMPORTANT *************************\n"
            "NKEY Seed printed below can be used to sign and prove identity.\n"
            "NKEYs are sensitive and should be treated as secrets.\n\n"
            "-----BEGIN USER NKEY SEED-----\n%s\n------END USER NKEY SEED------\n\n"
            "*************************************************************\n") % (tok, u.seed)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def main():
    d = sys.argv[1]
    op = NKey("O")
    op_jwt = jwt(op, op, "adm-test", {"type": "operator"})
    sys_acc, sys_jwt = account(op, "SYS", False)
    fleet, fleet_jwt = account(op, "FLEET", True)
    nojs, nojs_jwt = account(op, "NOJS", False)
    other_op = NKey("O")
    rogue, _ = account(other_op, "ROGUE", True)
    with open(os.path.join(d, "server.conf.inc"), "w") as f:
        f.write("operator: %s\nsystem_account: %s\nresolver: MEMORY\nresolver_preload: {\n"
                "  %s: %s\n  %s: %s\n  %s: %s\n}\n"
                % (op_jwt, sys_acc.public, sys_acc.public, sys_jwt, fleet.public, fleet_jwt,
                   nojs.public, nojs_jwt))
    creds(os.path.join(d, "fleet.creds"), fleet, "box")
    creds(os.path.join(d, "nojs.creds"), nojs, "nojs")
    creds(os.path.join(d, "rogue.creds"), rogue, "rogue")


if __name__ == "__main__":
    main()
