#!/usr/bin/env python3
"""Writes the seeds of tests/fuzz/corpus/image/ (fuzz_image.c's input: a
selector byte, then a base image alone or a 4-byte little-endian length,
the base and a delta). Run as root from any directory with the userdb tool
of the build to use (the images are the writer's own):

    tests/fuzz/make_image_seeds.py build/cli/userdb

It makes a small store in a temporary directory (two roles, one including
the other, a primary role, a grant that ends and one that starts), takes
its bases after `userdb compact`, then a grant, a revoke, a user added and
one deleted, and one added with a uid far from the others (so that the
base has the dense uid index and the delta the uid hash table), and takes
the deltas over those bases; then damaged copies: truncated, of another
format version, a user's inline entry and a role's member block running
out of range, a role with a member more than its block holds, uid index
entries leading to the next uid's record and out of range, name index
slots leading into the middle of records, a delta of a newer base, covered
indexes out of order."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "image")
HEADER = struct.Struct("<8sIIQQQ" + "QQ" * 18)
S_USERS, S_ROLES, S_USER_OFFS, S_COVERED_USERS, S_UID_INDEX, S_NAME_INDEX = 1, 4, 9, 13, 16, 17
USER = struct.Struct("<8I")  # uid gid index flags groups_first n_groups entry_len name_len
ROLE = struct.Struct("<10I")  # gid name_off name_len members_off members_len n_members ...
# Lookup times (the selector's high six bits, in units of 1e8 s): before
# carol's grant ends (2030), between, and after bob's starts (2031).
EARLY, LATE = 17, 20


def sect(img, s):
    h = HEADER.unpack_from(img)
    return h[6 + 2 * s], h[7 + 2 * s]


def seed(name, selector, base, delta=None):
    data = bytes([selector]) + (base if delta is None else struct.pack("<I", len(base)) + base + delta)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def patched(img, fn):
    b = bytearray(img)
    fn(b)
    return bytes(b)


def other_version(b):
    struct.pack_into("<I", b, 8, struct.unpack_from("<I", b, 8)[0] + 1)


def bad_entry(b):
    off, _ = sect(b, S_USERS)
    uoff, _ = sect(b, S_USER_OFFS)
    unit = struct.unpack_from("<I", b, uoff)[0]
    struct.pack_into("<I", b, off + unit * 8 + 24, 0xFFFFFFF0)


def bad_role(b):
    off, n = sect(b, S_ROLES)
    for i in range(n // ROLE.size):
        struct.pack_into("<I", b, off + i * ROLE.size + 16, 0xFFFFFFF0)


def role_count_wrong(b):
    off, n = sect(b, S_ROLES)
    for i in range(n // ROLE.size):
        at = off + i * ROLE.size + 20
        struct.pack_into("<I", b, at, struct.unpack_from("<I", b, at)[0] + 1)


def bad_uid_index(b):
    # Every entry after the lowest uid leads to the next uid's record, the
    # last one out of the records.
    off, n = sect(b, S_UID_INDEX)
    entries = [struct.unpack_from("<I", b, off + 4 * i)[0] for i in range(1, n // 4)]
    for i, e in enumerate(entries[1:] + [0xFFFFFFF0]):
        struct.pack_into("<I", b, off + 4 * (i + 1), e)


def bad_name_index(b):
    # Every used slot keeps its tag but leads one 8-byte unit further, into
    # the middle of a record (or past the last).
    off, n = sect(b, S_NAME_INDEX)
    bits = struct.unpack_from("<I", b, off)[0]
    for i in range(1, n // 4):
        v = struct.unpack_from("<I", b, off + 4 * i)[0]
        if v:
            struct.pack_into("<I", b, off + 4 * i, v + 1 if (v + 1) & ((1 << bits) - 1) else v)


def newer_base(b):
    struct.pack_into("<Q", b, 24, struct.unpack_from("<Q", b, 24)[0] + 1)


def bad_covered(b):
    off, n = sect(b, S_COVERED_USERS)
    if n >= 8:
        x, y = struct.unpack_from("<II", b, off)
        struct.pack_into("<II", b, off, y, x)


def main():
    userdb = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="udb-seeds-")
    os.chmod(tmp, 0o755)
    db = os.path.join(tmp, "db")
    os.mkdir(db)
    conf = os.path.join(tmp, "conf")
    with open(conf, "w") as f:
        f.write(f"dbdir = {db}\nuid_min = 1000\nuid_max = 60000\ngid_min = 1000\ngid_max = 70000\n")

    def run(*args):
        subprocess.run([userdb, "--config", conf, *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def read(name):
        with open(os.path.join(db, name), "rb") as f:
            return f.read()

    try:
        run("init")
        run("role", "add", "crew")
        run("role", "add", "leads", "--includes", "crew")
        run("role", "add", "ops")
        run("user", "add", "alice", "--role", "leads")
        run("user", "add", "bob", "--primary-role", "ops", "--role", "crew")
        run("user", "add", "carol")
        run("user", "add", "dave", "--role", "crew")
        run("grant", "carol", "crew", "--until", "2030-01-01")
        run("grant", "bob", "leads", "--from", "2031-01-01")
        run("compact")
        pub, sh = read("nss.img"), read("nss-shadow.img")
        run("grant", "alice", "ops")
        run("revoke", "bob", "crew")
        run("user", "add", "erin", "--role", "crew")
        run("user", "del", "dave")
        run("user", "add", "frank", "--uid", "50000")
        dpub, dsh = read("nss-delta.img"), read("nss-shadow-delta.img")
    finally:
        shutil.rmtree(tmp)
    os.makedirs(OUT, exist_ok=True)
    seed("public", EARLY << 2, pub)
    seed("public-later", LATE << 2, pub)
    seed("public-truncated", EARLY << 2, pub[: len(pub) // 2])
    seed("public-other-version", EARLY << 2, patched(pub, other_version))
    seed("public-bad-entry", EARLY << 2, patched(pub, bad_entry))
    seed("public-bad-role", EARLY << 2, patched(pub, bad_role))
    seed("public-role-count-wrong", EARLY << 2, patched(pub, role_count_wrong))
    seed("public-bad-uid-index", EARLY << 2, patched(pub, bad_uid_index))
    seed("public-bad-name-index", EARLY << 2, patched(pub, bad_name_index))
    seed("shadow", 1 | EARLY << 2, sh)
    seed("public-delta", 2 | EARLY << 2, pub, dpub)
    seed("public-delta-later", 2 | LATE << 2, pub, dpub)
    seed("public-delta-truncated", 2 | EARLY << 2, pub, dpub[: len(dpub) // 2])
    seed("public-delta-other-version", 2 | EARLY << 2, pub, patched(dpub, other_version))
    seed("public-delta-bad-entry", 2 | EARLY << 2, pub, patched(dpub, bad_entry))
    seed("public-delta-bad-role", 2 | EARLY << 2, pub, patched(dpub, bad_role))
    seed("public-delta-newer-base", 2 | EARLY << 2, pub, patched(dpub, newer_base))
    seed("public-delta-bad-covered", 2 | EARLY << 2, pub, patched(dpub, bad_covered))
    seed("shadow-delta", 3 | EARLY << 2, sh, dsh)


if __name__ == "__main__":
    main()
