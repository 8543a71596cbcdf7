#!/usr/bin/env python3
"""Generate the NSS benchmark's user population in every peer module's format.

Called by bench/run-nss-bench.sh once per size (and usable by hand). It writes,
deterministically for a given N and seed, the same accounts as:

  files/       passwd, group, shadow          nss_files (/etc/{passwd,group,shadow})
  extrausers/  passwd, group, shadow          libnss-extrausers (/var/lib/extrausers/)
  cache/       passwd.cache, group.cache, shadow.cache and their sorted indexes
               passwd.cache.ixname, passwd.cache.ixuid, group.cache.ixname,
               group.cache.ixgid, shadow.cache.ixname   libnss-cache (/etc/*.cache)
  db/          passwd.db, group.db, shadow.db  libnss-db via makedb (/var/lib/misc/)
  spec.tsv     the population itself, for populating userdb's own database

The population (N users in total):
  - user "many", uid 100000, member of all 100 roles (the initgroups target);
  - users u0000001 .. u<N-1>, uid 100000+i, each in 2-4 random roles (so each role holds ~3% of all users);
  - every user's primary group is a personal group named like the user with
    gid = uid and no members (Debian's convention, and userdb's default);
  - roles role000 .. role099, gid ROLE_GID_BASE+k;
  - big groups: big1 = the first min(N-1, 100000) users, big2 = every 10th
    user, big3 = the first min(N-1, 1000) users, gids ROLE_GID_BASE+100..102.
ROLE_GID_BASE defaults to 2000000, not 200000: personal gids run up to
100000+N-1, which reaches 200000 from N = 100001 on.

spec.tsv is tab-separated, one record a line, '#' lines are comments:
  user    NAME  UID  GID  GECOS  HOME  SHELL   (GID == UID: personal group)
  role    NAME  GID
  member  ROLE  USER                            (direct grant, no expiry)
Users come first, then roles, then members grouped by role in user order.

All files are plain ASCII. Group files list roles and big groups first, then
the personal groups in uid order; passwd and shadow are in uid order.
"""

import argparse
import os
import random
import subprocess
import sys
import time

UID_BASE = 100000
NROLES = 100
SHADOW_TAIL = ":*:19000:0:99999:7:::\n"


def user_name(i):
    return "many" if i == 0 else "u%07d" % i


def build_population(n, seed, role_gid_base):
    """Return (names, roles) where roles is a list of (name, gid, [user index])."""
    rng = random.Random(seed)
    names = [user_name(i) for i in range(n)]
    members = [[] for _ in range(NROLES)]
    members_of_many = list(range(NROLES))
    for k in members_of_many:
        members[k].append(0)
    role_ids = range(NROLES)
    for i in range(1, n):
        for k in rng.sample(role_ids, rng.randint(2, 4)):
            members[k].append(i)
    for m in members:
        m.sort()
    roles = [("role%03d" % k, role_gid_base + k, members[k]) for k in range(NROLES)]
    roles.append(("big1", role_gid_base + 100, list(range(1, min(n - 1, 100000) + 1))))
    roles.append(("big2", role_gid_base + 101, list(range(10, n, 10))))
    roles.append(("big3", role_gid_base + 102, list(range(1, min(n - 1, 1000) + 1))))
    return names, roles


def passwd_lines(names):
    return ["%s:x:%d:%d:bench user %d:/home/%s:/bin/bash\n"
            % (name, UID_BASE + i, UID_BASE + i, i, name)
            for i, name in enumerate(names)]


def group_lines(names, roles):
    lines = ["%s:x:%d:%s\n" % (rname, gid, ",".join(names[i] for i in mem))
             for rname, gid, mem in roles]
    lines.extend("%s:x:%d:\n" % (name, UID_BASE + i) for i, name in enumerate(names))
    return lines


def shadow_lines(names):
    return [name + SHADOW_TAIL for name in names]


def write_lines(path, lines):
    """Write lines; return the byte offset at which each line starts."""
    offsets = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        pos += len(line)
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("".join(lines))
    return offsets


def link_or_copy(src, dst):
    if os.path.exists(dst):
        os.unlink(dst)
    try:
        os.link(src, dst)
    except OSError:
        with open(src, "rb") as fi, open(dst, "wb") as fo:
            fo.write(fi.read())


def write_cache_index(path, keys, offsets):
    """Write a libnss-cache sorted index.

    libnss-cache (nss_cache.c, _nss_cache_bsearch2) mmaps the index, takes the
    record size from the position of the first '\\n', and bsearch()es records
    with strcmp() on the key. A record is: key NUL decimal-offset NUL, padded
    with NULs to a fixed width, then '\\n'. The offset is where the entry's
    line starts in the .cache file. Keys sort bytewise (C locale), uids and
    gids as strings. The index must not be older than its .cache file, or the
    module ignores it and falls back to a linear scan.
    """
    recs = sorted(zip(keys, (str(o) for o in offsets)))
    width = max(len(k) + len(o) + 2 for k, o in recs) + 1
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("".join((k + "\0" + o + "\0").ljust(width - 1, "\0") + "\n"
                        for k, o in recs))


def write_makedb(makedb, path, lines, key_fields):
    """Build a libnss-db Berkeley DB file the way /var/lib/misc/Makefile does.

    Every entry is stored under "0<index>" (for enumeration), ".<name>" and,
    for passwd and group, "=<id>". The input is sorted by key so that the
    B-tree is built by appending, which keeps 1M users to seconds.
    """
    recs = []
    for idx, line in enumerate(lines):
        fields = line.split(":", 3)
        recs.append("0%u %s" % (idx, line))
        recs.append(".%s %s" % (fields[0], line))
        if key_fields == 3:
            recs.append("=%s %s" % (fields[2], line))
    recs.sort(key=lambda r: r[: r.index(" ")])
    tmp = path + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    proc = subprocess.Popen([makedb, "--quiet", "-o", tmp, "-"],
                            stdin=subprocess.PIPE, encoding="ascii")
    proc.stdin.write("".join(recs))
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("gen_users: %s failed for %s" % (makedb, path))
    os.rename(tmp, path)


def write_spec(path, names, roles):
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("# userdb-bench-spec 1\n"
                "# user NAME UID GID GECOS HOME SHELL (GID == UID: personal group)\n"
                "# role NAME GID\n"
                "# member ROLE USER\n")
        f.write("".join("user\t%s\t%d\t%d\tbench user %d\t/home/%s\t/bin/bash\n"
                        % (name, UID_BASE + i, UID_BASE + i, i, name)
                        for i, name in enumerate(names)))
        f.write("".join("role\t%s\t%d\n" % (rname, gid) for rname, gid, _ in roles))
        for rname, _, mem in roles:
            f.write("".join("member\t%s\t%s\n" % (rname, names[i]) for i in mem))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("users", type=int, help="number of users (N >= 2)")
    ap.add_argument("outdir", help="output directory (created)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--role-gid-base", type=int, default=2000000)
    ap.add_argument("--formats", default="files,extrausers,cache,db,spec",
                    help="comma-separated subset of files,extrausers,cache,db,spec")
    ap.add_argument("--makedb", default="makedb", help="libnss-db's makedb")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args()

    if args.users < 2:
        ap.error("need at least 2 users")
    if args.role_gid_base < UID_BASE + args.users and args.role_gid_base + NROLES + 3 > UID_BASE:
        ap.error("role gids would collide with personal gids")
    formats = set(args.formats.split(","))
    unknown = formats - {"files", "extrausers", "cache", "db", "spec"}
    if unknown:
        ap.error("unknown format(s): " + ",".join(sorted(unknown)))

    t0 = time.monotonic()

    def say(msg):
        if not args.quiet:
            print("gen_users: %s (%.1f s)" % (msg, time.monotonic() - t0), file=sys.stderr)

    names, roles = build_population(args.users, args.seed, args.role_gid_base)
    pw = passwd_lines(names)
    gr = group_lines(names, roles)
    sp = shadow_lines(names)
    gr_names = [r[0] for r in roles] + names
    gr_gids = [str(r[1]) for r in roles] + [str(UID_BASE + i) for i in range(len(names))]
    say("population built")

    out = args.outdir
    for d in ("files", "extrausers", "cache", "db"):
        if d in formats:
            os.makedirs(os.path.join(out, d), exist_ok=True)
    os.makedirs(out, exist_ok=True)

    if formats & {"files", "extrausers", "cache"}:
        # One real copy in files/, hard links elsewhere: the bytes (and so
        # the page cache) are shared, and libnss-cache's indexes, written
        # afterwards, are never older than their .cache files.
        f = os.path.join(out, "files")
        os.makedirs(f, exist_ok=True)
        pw_off = write_lines(os.path.join(f, "passwd"), pw)
        gr_off = write_lines(os.path.join(f, "group"), gr)
        sp_off = write_lines(os.path.join(f, "shadow"), sp)
        for db in ("passwd", "group", "shadow"):
            if "extrausers" in formats:
                link_or_copy(os.path.join(f, db), os.path.join(out, "extrausers", db))
            if "cache" in formats:
                link_or_copy(os.path.join(f, db), os.path.join(out, "cache", db + ".cache"))
        say("text files written")

    if "cache" in formats:
        c = os.path.join(out, "cache")
        write_cache_index(os.path.join(c, "passwd.cache.ixname"), names, pw_off)
        write_cache_index(os.path.join(c, "passwd.cache.ixuid"),
                          [str(UID_BASE + i) for i in range(len(names))], pw_off)
        write_cache_index(os.path.join(c, "group.cache.ixname"), gr_names, gr_off)
        write_cache_index(os.path.join(c, "group.cache.ixgid"), gr_gids, gr_off)
        write_cache_index(os.path.join(c, "shadow.cache.ixname"), names, sp_off)
        say("libnss-cache indexes written")

    if "db" in formats:
        d = os.path.join(out, "db")
        write_makedb(args.makedb, os.path.join(d, "passwd.db"), pw, 3)
        write_makedb(args.makedb, os.path.join(d, "group.db"), gr, 3)
        write_makedb(args.makedb, os.path.join(d, "shadow.db"), sp, 2)
        say("libnss-db files built")

    if "spec" in formats:
        write_spec(os.path.join(out, "spec.tsv"), names, roles)
        say("spec.tsv written")


if __name__ == "__main__":
    main()
