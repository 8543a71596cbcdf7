#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ (run from any
directory; existing seeds of the same name are overwritten, others kept).
Each seed is one input in the byte layout its target's
LLVMFuzzerTestOneInput reads. Crash reproducers found by fuzzing are added
to the corpus by hand, named crash-<what>."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def u32(v):
    return struct.pack(">I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF)


def z(*parts):
    """NUL-terminated strings, concatenated."""
    out = b""
    for p in parts:
        if isinstance(p, str):
            p = p.encode("utf-8", "surrogateescape")
        out += p + b"\0"
    return out


# names: selector (0 user, 1 role, 2 email, 3 permission, 4 text, 5 path), string
names = [
    (0, "alice"), (0, "_svc"), (0, "host$"), (0, "a" * 32), (0, "a" * 33), (0, "Alice"),
    (0, "-rf"), (0, "+nis"), (0, "al:ice"), (0, "al$ice"), (0, "9lives"), (0, ""),
    (1, "admin"), (1, "Staff.ops-1"), (1, "_x"), (1, "1st"), (1, "a b"), (1, "r" * 33),
    (2, "alice@example.com"), (2, "a@b"), (2, "@b"), (2, "a@"), (2, "a@@b"), (2, "a b@c"),
    (2, "x" * 250 + "@b.c"), (3, "ssh:login"), (3, "sudo:*"), (3, "a/b"), (3, "p" * 129),
    (4, "Alice Liddell"), (4, "Zoë"), (4, "日本"), (4, "a:b"), (4, "a,b"), (4, b"\xc2\x9b"),
    (4, b"\xed\xa0\x80"), (4, b"\xc0\xaf"), (4, b"\xf4\x90\x80\x80"), (4, "t" * 257),
    (5, "/home/alice"), (5, "/bin/bash"), (5, "relative"), (5, "/a:b"), (5, "/a\nb"),
]
for i, (sel, s) in enumerate(names):
    if isinstance(s, str):
        s = s.encode("utf-8")
    put("names", "%02d-%d" % (i, sel), bytes([sel]) + s)

# parse: 0 uint (max u64, string), 1 id (string), 2 time (now u64, string),
# 3 format (t u64, mode byte, size byte)
now = 1_790_000_000
parse = [
    (0, u64(0) + b"0"), (0, u64(2 * 99999 + 1) + b"99999"), (0, u64(2 * 99999 + 1) + b"100000"),
    (0, u64(2**64 - 2) + b"18446744073709551615"), (0, u64(2**63) + b"007"), (0, u64(10) + b"-1"),
    (1, b"0"), (1, b"4294967294"), (1, b"4294967295"), (1, b" 12"), (1, b"12abc"), (1, b""),
    (2, u64(now) + b"2026-01-01"), (2, u64(now) + b"2024-02-29"), (2, u64(now) + b"2023-02-29"),
    (2, u64(now) + b"2026-11-21T14:54"), (2, u64(now) + b"2026-11-21T14:54:12Z"),
    (2, u64(now) + b"2026-11-21 23:59:59"), (2, u64(now) + b"1969-12-31"),
    (2, u64(now) + b"9999-12-31T23:59:59"), (2, u64(now) + b"2026-13-01"),
    (2, u64(now) + b"2026-01-01T24:00"), (2, u64(now) + b"@0"), (2, u64(now) + b"@253402300799"),
    (2, u64(now) + b"@253402300800"), (2, u64(now) + b"+30d"), (2, u64(now) + b"+2w"),
    (2, u64(now) + b"+5256000m"), (2, u64(now) + b"+1y"), (2, u64(now) + b"+d"),
    (2, u64(now) + b"tomorrow"), (2, u64(now) + b"2026-01-01Z"),
    (3, u64(0) + b"\x00\x15"), (3, u64(253402300799) + b"\x00\x15"), (3, u64(2**63 - 1) + b"\x01\x15"),
    (3, u64(2**63) + b"\x01\x08"), (3, u64(2**64 - 1) + b"\x00\x00"),
]
for i, (sel, rest) in enumerate(parse):
    put("parse", "%02d-%d" % (i, sel), bytes([sel]) + rest)

# config: the file's bytes
config = {
    "empty": "",
    "comment": "# nothing here\n\n   \n",
    "full": "dbdir = /var/lib/userdb\nuid_min = 10000\nuid_max = 59999\ngid_min = 10000\n"
            "gid_max = 59999\nhash_method = yescrypt\nhash_cost = 5\ndeny = 5\n"
            "unlock_time = 600\npass_min_len = 8\ndefault_shell = /bin/sh\nhome_base = /home\n",
    "sha512": "hash_method = sha512\nhash_cost = 1000\n",
    "bad-cost": "hash_method = yescrypt\nhash_cost = 1000\n",
    "bcrypt": "hash_method = $2b$\nhash_cost = 12\n",
    "crlf": "dbdir = /srv/udb\r\ndeny = 3\r\n",
    "tabs": "\tdbdir\t=\t/srv/udb\t\n",
    "no-newline": "deny = 3",
    "unknown-key": "colour = blue\n",
    "no-equals": "dbdir /srv\n",
    "range": "uid_min = 60000\nuid_max = 100\n",
    "zero-min": "gid_min = 0\n",
    "relative-dir": "dbdir = var/lib\n",
    "colon-dir": "dbdir = /a:b\n",
    "big-number": "deny = 99999999999999999999999\n",
    "negative": "deny = -1\n",
    "empty-value": "dbdir =\n",
    "double-equals": "dbdir = /a=b\n",
    "repeat": "deny = 1\ndeny = 2\n",
    "nul": "deny = 1\n\0junk\n",
    "long-line": "dbdir = /" + "a" * 4200 + "\n",
    "long-line-end": "dbdir = /" + "a" * 4090,
}
for name, text in config.items():
    put("config", name, text)

# pack: selector (0 passwd, 1 group, 2 shadow), then the record, then
# align and length choices (see fuzz_pack.c).
def passwd(name, first, last, home, shell, uid, gid, align, mode, delta):
    return b"\x00" + z(name, first, last, home, shell) + u32(uid) + u32(gid) + bytes([align, mode, delta])

def group(name, gid, members, align, mode, delta, big=None):
    if big is not None:
        return b"\x01" + bytes([0x80]) + z(name) + u32(gid) + u32(big) + bytes([align, mode, delta])
    return b"\x01" + bytes([len(members)]) + z(name) + u32(gid) + z(*members) + bytes([align, mode, delta])

def shadow(flags, name, hash_, times, aging, align, mode, delta):
    out = b"\x02" + bytes([flags]) + z(name, hash_)
    t_changed, t_before, t_after, t_now = times
    out += bytes([1]) + u64(t_changed)
    for a in aging:
        out += u32(a)
    for t in (t_before, t_after, t_now):
        out += bytes([1]) + u64(t)
    return out + bytes([align, mode, delta])

pack = {
    "passwd-exact": passwd("alice", "Alice", "Liddell", "/home/alice", "/bin/bash", 2001, 2001, 0, 0, 0),
    "passwd-short": passwd("alice", "Alice", "Liddell", "/home/alice", "/bin/bash", 2001, 2001, 3, 1, 1),
    "passwd-noname": passwd("bob", "", "", "/home/bob", "/bin/sh", 2002, 3001, 5, 2, 7),
    "passwd-last": passwd("c", "", "Only", "/", "/x", 0, 0, 7, 0, 0),
    "passwd-empty": passwd("", "", "", "", "", 0xFFFFFFFF, 0xFFFFFFFF, 1, 1, 0),
    "passwd-utf8": passwd("zoe", "Zoë", "Ünlü", "/home/zoe", "/bin/zsh", 5, 6, 9, 3, 0),
    "group-empty": group("staff", 3001, [], 0, 0, 0),
    "group-two": group("admins", 3000, ["alice", "bob"], 1, 0, 0),
    "group-two-short": group("admins", 3000, ["alice", "bob"], 4, 1, 3),
    "group-misaligned": group("g", 1, ["a", "bb", "ccc"], 3, 2, 5),
    "group-empty-member": group("g", 1, ["", ""], 6, 0, 0),
    "group-big": group("big", 4000, None, 2, 0, 0, big=3000),
    "group-big-short": group("big", 4000, None, 2, 1, 1, big=1000),
    "shadow-enabled": shadow(8, "alice", "$6$salt$hash", (1_700_000_000, 0, 0, 1_790_000_000), (1, 90, 7, 14), 0, 0, 0),
    "shadow-disabled": shadow(0, "carol", "$6$salt$hash", (1_700_000_000, 0, 0, 1_790_000_000), (0, 0, 0, 0), 1, 0, 0),
    "shadow-nohash": shadow(8 | 2, "bob", "", (0, 0, 0, 1_790_000_000), (0xFFFFFFFF,) * 4, 2, 0, 0),
    "shadow-emptyhash": shadow(8, "bob", "", (0, 0, 0, 1_790_000_000), (0xFFFFFFFF,) * 4, 2, 1, 1),
    "shadow-mustchange": shadow(8 | 4, "erin", "$y$j9T$x$y", (1_700_000_000, 0, 0, 1_790_000_000), (0, 0, 0, 0), 3, 0, 0),
    "shadow-notyet": shadow(8, "dave", "$6$a$b", (0, 1_800_000_000, 0, 1_790_000_000), (0, 0, 0, 0), 4, 0, 0),
    "shadow-expires": shadow(8, "dave", "$6$a$b", (0, 0, 1_800_000_000, 1_790_000_000), (0, 0, 0, 0), 4, 2, 9),
    "shadow-expires-day0": shadow(8, "dave", "$6$a$b", (0, 0, 5, 1_790_000_000), (0, 0, 0, 0), 4, 0, 0),
    "shadow-noname": shadow(1 | 8, "", "$6$a$b", (0, 0, 0, 0), (0, 0, 0, 0), 0, 0, 0),
    "shadow-short": shadow(8, "alice", "$6$salt$hash", (1, 0, 0, 0), (0, 0, 0, 0), 0, 1, 1),
}
# ready-made passwd entries (selector 3): length, uid and gid (a mode byte,
# odd = near the ranges, then a u32), the entry's bytes, then the length
# and align choices.
def blob(entry, uid, gid, mode, delta, align):
    return (b"\x03" + bytes([len(entry), 0]) + u32(uid) + bytes([0]) + u32(gid) + entry +
            bytes([mode, delta, align]))

pack.update({
    "blob-good": blob(z("alice", "x", "Alice Liddell", "/home/alice", "/bin/bash"), 2001, 2001, 0, 0, 0),
    "blob-good-short": blob(z("alice", "x", "", "/home/alice", "/bin/bash"), 2001, 2001, 1, 1, 3),
    # the damaged row of issue 12: an empty second string, exactly sized
    "blob-empty-passwd": blob(b"a\0\0\0\0\0", 2001, 2001, 0, 0, 0),
    "blob-four-strings": blob(z("a", "x", "", "/h"), 2001, 2001, 0, 0, 0),
    "blob-unterminated": blob(z("a", "x", "", "/h") + b"/s", 2001, 2001, 0, 0, 0),
    "blob-uid0": blob(z("root", "x", "", "/root", "/bin/sh"), 0, 0, 0, 0, 0),
    "blob-newline": blob(z("eve", "x", "Eve\nroot::0:0::/:/bin/sh", "/home/eve", "/bin/sh"), 2001, 2001, 0, 0, 0),
})
for name, data in pack.items():
    put("pack", name, data)

# pam_args: the argv of one module line, NUL-separated
pam_args = {
    "none": b"",
    "debug": z("debug"),
    "flags": z("debug", "nodelay", "require_confirmed_email", "use_first_pass", "try_first_pass", "use_authtok"),
    "conf": z("conf=/etc/userdb.conf"),
    "conf-relative": z("conf=etc/userdb.conf"),
    "deny": z("deny=3", "unlock_time=600", "minlen=12"),
    "deny-max": z("deny=1000000", "unlock_time=3162240000", "minlen=511"),
    "deny-over": z("deny=1000001"),
    "minlen-over": z("minlen=512"),
    "deny-empty": z("deny="),
    "deny-sign": z("deny=+3"),
    "roles": z("roles_required=admin,staff", "roles_accepted=ops"),
    "roles-empty-item": z("roles_required=admin,,staff"),
    "roles-trailing-comma": z("roles_accepted=admin,"),
    "roles-bad": z("roles_required=ad min"),
    "perms": z("permissions_required=ssh:login,sudo:*", "permissions_accepted=x.y"),
    "perms-long": z("permissions_required=" + "p" * 128 + ",q"),
    "perms-too-long": z("permissions_required=" + "p" * 129),
    "unknown": z("colour=blue"),
    "unknown-twice": z("colour=blue", "colour=blue", "debug"),
    "unknown-control": z("x\n\x1b[31mred", "x\\y"),
    "unknown-long": z("u" * 500),
    "authtok-type": z("authtok_type=UNIX"),
    "null-entry": z("debug", "\x01", "deny=2"),
    "format": z("%s%n%x", "conf=/%n"),
    "mixed-bad": z("deny=x", "minlen=y", "roles_required="),
    "second-factor": z("second_factor=required", "totp_window=3"),
    "second-factor-modes": z("second_factor=off", "second_factor=enrol", "second_factor=enrolled"),
    "second-factor-bad": z("second_factor=Required", "totp_window=11"),
}
for name, data in pam_args.items():
    put("pam_args", name, data)

# cli_args: selector (0 user, 1 role, 2 email, 3 permission, 4 text, 5 path,
# 6 id, 7 time, 8 time or never, 9 days, 10 quote), now u64, argument
cli = [
    (0, "alice"), (0, "Alice"), (0, "x" * 40), (0, "-rf"), (0, "a\nb"), (0, "é"), (0, "'; DROP TABLE users; --"),
    (1, "admin"), (1, "9x"), (2, "a@b"), (2, "a b@c"), (3, "ssh:login"), (3, "a/b"),
    (4, "Alice"), (4, "a:b"), (4, "\x1b[2J"), (5, "/home/a"), (5, "home"),
    (6, "1000"), (6, "0"), (6, "4294967295"), (6, "%n"),
    (7, "2027-01-01"), (7, "+1d"), (7, "never"), (7, "@0"), (8, "never"), (8, "tomorrow"),
    (9, "90"), (9, "never"), (9, "100000"), (9, "-1"),
    (10, "it's"), (10, "back\\slash"), (10, "tab\there"), (10, "\x00"), (10, "\x7f\x80\xff"),
    (10, "q" * 200), (10, "%s%s%s%n"),
]
for i, (sel, s) in enumerate(cli):
    if isinstance(s, str):
        s = s.encode("utf-8", "surrogateescape")
    put("cli_args", "%02d-%d" % (i, sel), bytes([sel]) + u64(now) + s)
