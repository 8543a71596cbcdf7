#!/usr/bin/env python3
"""Fleet mode's benchmark driver (bench/run-fleet-bench.sh runs it; see
bench/README.md, "Fleet"). Stdlib only. Central is a private PostgreSQL the
shell script started (tests/central/pg.sh); every simulated host is a real
`userdb sync` process with its own local store.

  fleet_bench.py single USERDB ADMIN_CONNINFO HOSTCONF ROUNDS
      one host holding the whole population: a revoke committed centrally,
      then one `userdb sync` pass; prints the pass's wall time per round
      (commit to local image published: the pass returns after the install).
  fleet_bench.py fleet USERDB ADMIN_CONNINFO HOSTCONF_DIR HOSTS ROUNDS PG_DATA
      HOSTS `userdb sync --follow` processes (default poll settings), each
      on its own store: per round a revoke committed centrally and the time
      until each host's store records that revision; then PostgreSQL's CPU
      over 60 s with every host idle, and the spread of the reconnects after
      a restart of central (from the server log's connection lines).
"""
import glob
import os
import sqlite3
import statistics
import subprocess
import sys
import time


def psql(conninfo, sql):
    return subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", conninfo, "-c", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def revoke_and_grant(conninfo, uid, grant):
    """One central change: a revoke (or the grant back) of user uid's role 1.
    Returns the revision and the time its COMMIT returned."""
    if grant:
        body = f"INSERT INTO userdb.user_roles VALUES ({uid}, 1, NULL, NULL, 1700000000)"
    else:
        body = f"DELETE FROM userdb.user_roles WHERE user_id = {uid} AND role_id = 1"
    out = psql(conninfo, f"BEGIN; SELECT userdb.begin_change(); {body}; COMMIT")
    return int(out.splitlines()[0]), time.monotonic()


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def single(userdb, conninfo, conf, rounds):
    env = dict(os.environ, USERDB_CONF=conf)
    times = []
    for i in range(rounds):
        rev, _ = revoke_and_grant(conninfo, 1 + i, False)
        t0 = time.monotonic()
        subprocess.run([userdb, "sync"], env=env, check=True, capture_output=True)
        times.append((time.monotonic() - t0) * 1000)
    print(f"one change, one pass: median {statistics.median(times):.1f} ms, "
          f"min {min(times):.1f}, max {max(times):.1f} ms over {rounds} rounds")


def local_rev(dbdir):
    try:
        c = sqlite3.connect(f"file:{dbdir}/public.db?mode=ro", uri=True, timeout=0.05)
        try:
            r = c.execute("SELECT value FROM meta WHERE key = 'central_rev'").fetchone()
            return int(r[0]) if r else 0
        finally:
            c.close()
    except sqlite3.Error:
        return -1


def postgres_cpu_seconds():
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                s = f.read()
        except OSError:
            continue
        name = s[s.index("(") + 1:s.rindex(")")]
        if not name.startswith("postgres"):
            continue
        fields = s[s.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total / tick


def fleet(userdb, conninfo, confdir, hosts, rounds, pg_data):
    confs = sorted(glob.glob(os.path.join(confdir, "host*.conf")))[:hosts]
    dbdirs = [c[:-5] + ".db" for c in confs]
    procs = []
    for conf in confs:
        log = open(conf[:-5] + ".log", "w")
        procs.append(subprocess.Popen([userdb, "sync", "--follow"], env=dict(os.environ, USERDB_CONF=conf),
                                      stdout=log, stderr=log))
    try:
        start = psql(conninfo, "SELECT rev FROM userdb.state")
        deadline = time.monotonic() + 120
        while any(local_rev(d) < int(start) for d in dbdirs):
            if time.monotonic() > deadline:
                sys.exit("hosts did not reach central's revision within 120 s")
            time.sleep(0.2)
        lat = []
        for i in range(rounds):
            rev, committed = revoke_and_grant(conninfo, 1, i % 2 == 1)
            seen = {}
            while len(seen) < len(dbdirs):
                now = time.monotonic()
                for d in dbdirs:
                    if d not in seen and local_rev(d) >= rev:
                        seen[d] = now - committed
                if now - committed > 60:
                    sys.exit(f"round {i}: {len(dbdirs) - len(seen)} hosts not there after 60 s")
                time.sleep(0.02)
            lat.extend(seen.values())
            time.sleep(1)
        print(f"{len(dbdirs)} hosts, {rounds} changes: commit -> applied on a host: "
              f"median {statistics.median(lat):.2f} s, p99 {pct(lat, 99):.2f} s, max {max(lat):.2f} s "
              f"({len(lat)} samples; the watcher polls every 20 ms)")
        time.sleep(3)
        c0, t0 = postgres_cpu_seconds(), time.monotonic()
        time.sleep(60)
        c1, t1 = postgres_cpu_seconds(), time.monotonic()
        print(f"PostgreSQL CPU with {len(dbdirs)} idle hosts: {100 * (c1 - c0) / (t1 - t0):.1f}% of one core "
              f"over {t1 - t0:.0f} s")
        # A restart of central: when does each host come back?
        log = os.path.join(pg_data, "server.log")
        mark = os.path.getsize(log)
        pg_ctl = [*os.environ.get("PG_RUNAS", "").split(), os.path.join(os.environ["PG_BIN"], "pg_ctl"),
                  "-D", pg_data]
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], check=True, capture_output=True, cwd="/")
        time.sleep(5)
        subprocess.run([*pg_ctl, "-l", log, "-w", "-t", "60", "start"], check=True, capture_output=True,
                       cwd="/")
        time.sleep(max(10, 3 * 2))
        with open(log) as f:
            f.seek(mark)
            stamps = []
            for line in f:
                if "connection authorized: user=userdb_host" in line:
                    ts = line.split(" UTC")[0]
                    stamps.append(time.mktime(time.strptime(ts.split(".")[0], "%Y-%m-%d %H:%M:%S"))
                                  + float("0." + ts.split(".")[1]))
        if stamps:
            stamps.sort()
            print(f"after a restart of central (down 5 s): {len(stamps)} reconnects spread over "
                  f"{stamps[-1] - stamps[0]:.2f} s (first to last), poll interval 2 s")
        else:
            print("after a restart of central: no reconnect seen in the server log")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()


if __name__ == "__main__":
    if sys.argv[1] == "single":
        single(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif sys.argv[1] == "fleet":
        fleet(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), sys.argv[7])
    else:
        sys.exit(__doc__)
