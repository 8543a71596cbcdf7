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
import calendar
import glob
import os
import re
import selectors
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
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


def quiet(pid):
    """Waits until process pid has used no CPU for a second (the drift
    check a starting `sync --follow` makes after its first pass)."""
    last = None
    while True:
        now = cpu_seconds([pid])
        if now == last:
            return
        last = now
        time.sleep(1)


def single(userdb, conninfo, conf, rounds):
    env = dict(os.environ, USERDB_CONF=conf)
    times = []
    for i in range(rounds):
        rev, _ = revoke_and_grant(conninfo, 1 + i, False)
        t0 = time.monotonic()
        subprocess.run([userdb, "sync"], env=env, check=True, capture_output=True)
        times.append((time.monotonic() - t0) * 1000)
    print(f"one change, one pass as a whole process: median {statistics.median(times):.1f} ms, "
          f"min {min(times):.1f}, max {max(times):.1f} ms over {rounds} rounds (load {load()})")
    # The service: `userdb sync --follow` on its direct session, woken by
    # central's NOTIFY; commit -> the host's log line after the pass.
    with open(conf) as f:
        dbdir = next(l.split("=", 1)[1].strip() for l in f if l.startswith("dbdir"))
    hosts = Hosts(userdb, [conf], [dbdir])
    try:
        # The first round waits out the start (the drift check after the
        # first pass reads every row on both sides); it is not counted.
        lat = []
        for i in range(rounds + 1):
            rev, committed = revoke_and_grant(conninfo, rounds + 1 + i, False)
            wait_all(hosts, rev, 600)
            if i > 0:
                lat.append((hosts.applied_at(0, rev) - committed) * 1000)
            else:
                quiet(hosts.procs[0].pid)
            time.sleep(0.5)
        print(f"one change, `sync --follow` (NOTIFY): commit -> applied median {statistics.median(lat):.1f} ms, "
              f"min {min(lat):.1f}, max {max(lat):.1f} ms over {rounds} rounds (load {load()})")
    finally:
        hosts.stop()


def local_rev(dbdir):
    try:
        c = sqlite3.connect(f"file:{dbdir}/public.db?mode=ro", uri=True, timeout=5)
        try:
            r = c.execute("SELECT value FROM meta WHERE key = 'central_rev'").fetchone()
            return int(r[0]) if r else 0
        finally:
            c.close()
    except sqlite3.Error:
        return -1


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    return s[s.rindex(")") + 2:].split()


def cpu_seconds(pids, children_of=None):
    """User + system CPU of the processes pids, and with children_of also of
    that process's children, live (their own times) or gone (the times it
    reaped: cutime, cstime)."""
    tick = os.sysconf("SC_CLK_TCK")
    pids, total = set(pids), 0
    if children_of:
        pids.add(children_of)
        total += sum(int(x) for x in proc_stat(children_of)[13:15])
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                if int(proc_stat(stat.split("/")[2])[1]) == children_of:
                    pids.add(int(stat.split("/")[2]))
            except (OSError, ValueError):
                continue
    for pid in pids:
        try:
            total += sum(int(x) for x in proc_stat(pid)[11:13])
        except OSError:
            continue
    return total / tick


def pid_in(path):
    try:
        with open(path) as f:
            return int(f.readline())
    except (OSError, ValueError):
        return None


class Hosts:
    """The simulated hosts: one `userdb sync --follow` each, its stderr a
    pipe that a thread reads as lines arrive (epoll), so the time a host
    logs "synced to revision N" is taken when the line is written, with no
    polling of 1,000 stores. The line comes after udb_sync_pass returned:
    the local transaction that stores central_rev = N is committed and the
    image published."""

    SYNCED = re.compile(rb"synced to revision (\d+)")

    def __init__(self, userdb, confs, dbdirs):
        self.lock = threading.Lock()
        self.seen = [{} for _ in confs]   # host -> {rev: monotonic time}
        self.errors = [0] * len(confs)
        self.sel = selectors.DefaultSelector()
        self.procs = []
        self.dbdirs = dbdirs
        for i, conf in enumerate(confs):
            p = subprocess.Popen([userdb, "sync", "--follow"], env=dict(os.environ, USERDB_CONF=conf),
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            os.set_blocking(p.stderr.fileno(), False)
            self.sel.register(p.stderr, selectors.EVENT_READ, [i, b""])
            self.procs.append(p)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while self.sel.get_map():
            for key, _ in self.sel.select(1):
                now = time.monotonic()
                i, buf = key.data
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    self.sel.unregister(key.fileobj)
                    continue
                buf += chunk
                *lines, key.data[1] = buf.split(b"\n")
                with self.lock:
                    for line in lines:
                        m = self.SYNCED.search(line)
                        if m:
                            self.seen[i][int(m.group(1))] = now
                        elif b"unreachable" in line or b"error" in line:
                            self.errors[i] += 1

    def applied_at(self, i, rev):
        """When host i logged a pass to rev or beyond (None: not yet)."""
        with self.lock:
            ts = [t for r, t in self.seen[i].items() if r >= rev]
        return min(ts) if ts else None

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait()


def wait_all(hosts, rev, limit):
    deadline = time.monotonic() + limit
    while True:
        missing = [i for i in range(len(hosts.procs)) if hosts.applied_at(i, rev) is None]
        if not missing:
            return
        if time.monotonic() > deadline:
            sys.exit(f"{len(missing)} hosts did not reach revision {rev} within {limit} s")
        time.sleep(0.2)


def load():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def restart_central(pg_data, bouncer_conf):
    """Stops pgbouncer (when used) and PostgreSQL, waits 5 s, starts both.
    Returns the log to read the reconnects from, its offset before the
    restart, and the line that marks one host's login there."""
    runas = os.environ.get("PG_RUNAS", "").split()
    pg_ctl = [*runas, os.path.join(os.environ["PG_BIN"], "pg_ctl"), "-D", pg_data]
    if bouncer_conf:
        bdir = os.path.dirname(bouncer_conf)
        log = os.path.join(bdir, "pgbouncer.log")
        mark = os.path.getsize(log)
        with open(os.path.join(bdir, "pgbouncer.pid")) as f:
            pid = int(f.read())
        os.kill(pid, signal.SIGTERM)
        while os.path.exists(f"/proc/{pid}"):
            time.sleep(0.05)
        line = "login attempt: db=userdb user=userdb_host"
    else:
        log = os.path.join(pg_data, "server.log")
        mark = os.path.getsize(log)
        line = "connection authorized: user=userdb_host"
    subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], check=True, capture_output=True, cwd="/")
    down = time.time()
    time.sleep(5)
    subprocess.run([*pg_ctl, "-l", os.path.join(pg_data, "server.log"), "-w", "-t", "60", "start"],
                   check=True, capture_output=True, cwd="/")
    if bouncer_conf:
        subprocess.run([*runas, "sh", "-c", 'ulimit -n "$(ulimit -Hn)" && exec pgbouncer -d -q "$0"',
                        bouncer_conf], check=True, cwd="/")
    return log, mark, line, down


def login_stamps(log, mark, marker):
    stamps = []
    with open(log) as f:
        f.seek(mark)
        for line in f:
            if marker in line:
                ts = line.split(" UTC")[0]
                stamps.append(calendar.timegm(time.strptime(ts.split(".")[0], "%Y-%m-%d %H:%M:%S"))
                              + float("0." + ts.split(".")[1]))
    return sorted(stamps)


def cpu(hosts, pg_data, bouncer_conf):
    """CPU seconds so far of this cluster's processes (the postmaster and its
    children, gone ones included), of the private pgbouncer, and of the
    hosts' sync processes."""
    bouncer = pid_in(os.path.join(os.path.dirname(bouncer_conf), "pgbouncer.pid")) if bouncer_conf else None
    return {"postgres": cpu_seconds([], pid_in(os.path.join(pg_data, "postmaster.pid"))),
            "pgbouncer": cpu_seconds([bouncer] if bouncer else []),
            "userdb": cpu_seconds(p.pid for p in hosts.procs)}


def fleet(userdb, conninfo, confdir, hosts_n, rounds, pg_data):
    bouncer_conf = os.environ.get("BOUNCER_CONF") or None
    confs = sorted(glob.glob(os.path.join(confdir, "host*.conf")),
                   key=lambda c: int(re.search(r"host(\d+)\.conf$", c).group(1)))[:hosts_n]
    dbdirs = []
    for conf in confs:
        with open(conf) as f:
            dbdirs.append(next(l.split("=", 1)[1].strip() for l in f if l.startswith("dbdir")))
    n = len(confs)
    t0 = time.monotonic()
    hosts = Hosts(userdb, confs, dbdirs)
    try:
        start = int(psql(conninfo, "SELECT rev FROM userdb.state"))
        wait_all(hosts, start, 900)
        print(f"# {n} hosts started and synced to revision {start} in {time.monotonic() - t0:.1f} s "
              f"(load {load()})")
        # Let the start's burst settle: the first drift checks and the
        # hosts' polls fall into their jittered rhythm.
        time.sleep(10)
        lat = []
        c0 = cpu(hosts, pg_data, bouncer_conf)
        w0 = time.monotonic()
        for i in range(rounds):
            rev, committed = revoke_and_grant(conninfo, 1, i % 2 == 1)
            wait_all(hosts, rev, 120)
            lat.extend(hosts.applied_at(h, rev) - committed for h in range(n))
            time.sleep(2)
        busy = time.monotonic() - w0
        c1 = cpu(hosts, pg_data, bouncer_conf)
        print(f"{n} hosts, {rounds} changes: commit -> applied on a host: "
              f"median {statistics.median(lat):.2f} s, p99 {pct(lat, 99):.2f} s, max {max(lat):.2f} s "
              f"({len(lat)} samples; load {load()})")
        print(f"# during the changes ({busy:.0f} s): CPU of the hosts' userdb processes "
              f"{100 * (c1['userdb'] - c0['userdb']) / busy:.0f}%, PostgreSQL "
              f"{100 * (c1['postgres'] - c0['postgres']) / busy:.0f}%, pgbouncer "
              f"{100 * (c1['pgbouncer'] - c0['pgbouncer']) / busy:.0f}% of one core")
        time.sleep(3)
        c0, t0 = cpu(hosts, pg_data, bouncer_conf), time.monotonic()
        time.sleep(60)
        c1, t1 = cpu(hosts, pg_data, bouncer_conf), time.monotonic()
        share = {k: 100 * (c1[k] - c0[k]) / (t1 - t0) for k in c0}
        print(f"PostgreSQL CPU with {n} idle hosts: {share['postgres']:.1f}% of one core over {t1 - t0:.0f} s"
              + (f"; pgbouncer {share['pgbouncer']:.1f}%" if bouncer_conf else "")
              + f"; the {n} hosts' userdb processes {share['userdb']:.1f}% (load {load()})")
        log, mark, marker, down = restart_central(pg_data, bouncer_conf)
        rev, committed = revoke_and_grant(conninfo, 1, rounds % 2 == 1)
        wait_all(hosts, rev, 300)
        back = [hosts.applied_at(h, rev) - committed for h in range(n)]
        stamps = login_stamps(log, mark, marker)
        what = "pgbouncer and PostgreSQL" if bouncer_conf else "PostgreSQL"
        if stamps:
            print(f"after a restart of central ({what}, down 5 s): {len(stamps)} host logins spread over "
                  f"{stamps[-1] - stamps[0]:.2f} s (first to last; first {stamps[0] - down - 5:.2f} s after "
                  f"the start), poll interval 2 s")
        else:
            print(f"after a restart of central ({what}): no host login seen in {log}")
        print(f"# a change committed right after the restart: on every host within {max(back):.2f} s "
              f"(median {statistics.median(back):.2f} s)")
        final = int(psql(conninfo, "SELECT rev FROM userdb.state"))
        behind = [d for d in dbdirs if local_rev(d) != final]
        print(f"# check: {n - len(behind)} of {n} host stores hold central_rev = {final}")
        if behind:
            sys.exit(f"{len(behind)} host stores are not at central's revision, e.g. {behind[0]}")
    finally:
        hosts.stop()


if __name__ == "__main__":
    if sys.argv[1] == "single":
        single(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif sys.argv[1] == "fleet":
        fleet(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), sys.argv[7])
    else:
        sys.exit(__doc__)
