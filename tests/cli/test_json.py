#!/usr/bin/env python3
"""The JSON shape of every command of the admin tool, table driven.

Run by meson (suite 'cli', TAP output) as `test_json.py PATH/TO/userdb`,
against a fresh database in a temporary directory named by USERDB_CONF.

Each row of CASES runs one command with --json and states what a script
reading it may rely on: on success, stdout is one JSON document whose keys
have the given types (a change always has "changed" and "message" and names
what it touched or allocated), nothing is on stderr, and an empty array is
written `[]`; on failure, stdout is empty and stderr is exactly one JSON
object {"error": str, "reason": str, "status": int} whose status is the
exit status, with "notes" when the run made notes before failing. Every command appears at least once on each side; the final
check says so.
"""

import json
import os
import subprocess
import sys
import tempfile

USERDB = os.path.realpath(sys.argv[1])
NULL = type(None)
STR, INT, BOOL, LIST, DICT = str, int, bool, list, dict
TIME_OR_NULL = (str, NULL)
STR_OR_NULL = (str, NULL)

CHANGE = {"changed": BOOL, "message": STR}
USER_BASE = {"username": STR, "uid": INT, "gid": INT, "primary_group": STR,
             "primary_role": STR_OR_NULL, "first_name": STR, "last_name": STR,
             "home": STR, "shell": STR, "created_at": STR, "updated_at": STR}
USER_LIST_ITEM = dict(USER_BASE, enabled=BOOL, locked=BOOL, expired=BOOL, status=STR)
ACCOUNT = {"enabled": BOOL, "status": STR, "not_before": TIME_OR_NULL,
           "not_after": TIME_OR_NULL, "locked": BOOL, "expired": BOOL,
           "locked_until": TIME_OR_NULL, "failed_count": INT,
           "last_failed_at": TIME_OR_NULL, "password_set": BOOL,
           "password_method": STR_OR_NULL, "password_locked": BOOL,
           "password_changed_at": TIME_OR_NULL,
           "must_change_password": BOOL, "min_days": (INT, NULL), "max_days": (INT, NULL),
           "warn_days": (INT, NULL), "inactive_days": (INT, NULL),
           "last_login_at": TIME_OR_NULL, "last_login_ip": STR_OR_NULL,
           "current_login_at": TIME_OR_NULL, "current_login_ip": STR_OR_NULL,
           "login_count": INT}
EMAIL = {"address": STR, "primary": BOOL, "confirmed": BOOL,
         "confirmed_at": TIME_OR_NULL, "created_at": STR}
USER_SHOW = dict(USER_BASE, roles=[{"name": STR, "inherited": BOOL}],
                 grants=[{"role": STR, "not_before": TIME_OR_NULL,
                          "not_after": TIME_OR_NULL, "granted_at": STR, "state": STR}],
                 permissions=[STR], emails=[EMAIL], account=ACCOUNT)
ROLE_BASE = {"name": STR, "gid": INT, "description": STR, "created_at": STR,
             "permissions": [STR], "includes": [STR]}
ROLE_SHOW = dict(ROLE_BASE, all_permissions=[STR], members=[STR])
TOTP_STATUS = {"user": STR, "enrolled": BOOL, "pending": BOOL, "confirmed_at": TIME_OR_NULL,
               "recovery_codes_left": INT, "recovery_codes_total": INT}
INIT = {"changed": BOOL, "dbdir": STR, "action": STR, "old_version": INT, "version": INT}


def change(**extra):
    return dict(CHANGE, **extra)


def current_code(outputs):
    """The TOTP code now for the secret `totp enroll` printed, by oathtool."""
    secret = json.loads(outputs["totp enroll"])["secret"]
    return subprocess.run(["oathtool", "--totp", "-b", secret], capture_output=True,
                          text=True, check=True).stdout.strip()


# (description, arguments, stdin, shape); shape None: an error is expected,
# an argument that is a function is called with the stdout of every earlier
# row by description;
# NOTES: an error after a note, which the error object carries.
NOTES = "notes"
# The rows run in order against one database.
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIECEhw8+5cbJkcCy4JsFQaXbdPFbll/UvVUL11qJ42Pb a"
SSH_KEY2 = ("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCrHr310VBZ2"
            "B0WnSGWM63OInftQEzyGmjyBSlN5H72MhrioUCtp5RLAJUG70JasT6NeTV/6v142RiT4Skx4SNk=")
SSH_KEY2_FP = "SHA256:IPyR06m94w/t9cOymvEHBl0WmkNbG4PCJ/zbgLmxCqU"

CASES = [
    ("init", ["init"], "", INIT),
    ("role add", ["role", "add", "staff1", "--permission", "ssh:login"], "",
     change(role=STR, gid=INT)),
    ("role add, includes", ["role", "add", "boss1", "--includes", "staff1"], "",
     change(role=STR, gid=INT)),
    ("user add", ["user", "add", "ann", "--email", "ann@example.com", "--role", "boss1"], "",
     change(user=STR, uid=INT, gid=INT)),
    ("user add, with a password", ["user", "add", "ben", "--password-stdin"],
     "a fine long password\n", change(user=STR, uid=INT, gid=INT)),
    ("user mod", ["user", "mod", "ann", "--first-name", "Ann"], "", change(user=STR)),
    ("user show", ["user", "show", "ann"], "", USER_SHOW),
    ("user show --email", ["user", "show", "--email", "ann@example.com"], "", USER_SHOW),
    ("user list", ["user", "list"], "", [USER_LIST_ITEM]),
    ("user list --role", ["user", "list", "--role", "staff1"], "", [USER_LIST_ITEM]),
    ("user list, empty", ["user", "list", "--locked"], "", []),
    ("user disable", ["user", "disable", "ben"], "", change(user=STR)),
    ("user enable", ["user", "enable", "ben"], "", change(user=STR)),
    ("user passwd", ["user", "passwd", "ben", "--password-stdin"], "another password 2\n",
     change(user=STR)),
    ("user unlock", ["user", "unlock", "ben"], "", change(user=STR)),
    ("user expire", ["user", "expire", "ben", "--max-days", "90"], "", change(user=STR)),
    ("role mod", ["role", "mod", "staff1", "--description", "Staff"], "", change(role=STR)),
    ("role show", ["role", "show", "staff1"], "", ROLE_SHOW),
    ("role list", ["role", "list"], "", [ROLE_BASE]),
    ("grant", ["grant", "ben", "staff1", "--from", "+1d", "--until", "+2d"], "",
     change(user=STR, role=STR, **{"from": STR, "until": STR})),
    ("grant, no dates", ["grant", "ben", "boss1"], "", change(user=STR, role=STR)),
    ("revoke", ["revoke", "ben", "boss1"], "", change(user=STR, role=STR)),
    ("email add", ["email", "add", "ann", "ann@work.example"], "", change(user=STR, email=STR)),
    ("email confirm", ["email", "confirm", "ann", "ann@work.example"], "",
     change(user=STR, email=STR)),
    ("email primary", ["email", "primary", "ann", "ann@work.example"], "",
     change(user=STR, email=STR)),
    ("email list", ["email", "list", "ann"], "", [EMAIL]),
    ("email del", ["email", "del", "ann", "ann@work.example"], "", change(user=STR, email=STR)),
    ("email del, address already gone", ["email", "del", "ann", "ann@work.example"], "",
     change(user=STR, email=STR)),
    ("email list, empty", ["email", "list", "ben"], "", []),
    ("totp enroll", ["totp", "enroll", "ann"], "", change(user=STR, secret=STR, uri=STR)),
    ("totp confirm", ["totp", "confirm", "ann", current_code], "", change(user=STR)),
    ("totp status", ["totp", "status", "ann"], "", TOTP_STATUS),
    ("totp recovery-codes", ["totp", "recovery-codes", "ann"], "", change(user=STR, codes=[STR])),
    ("totp disable", ["totp", "disable", "ann"], "", change(user=STR)),
    ("user del", ["user", "del", "ben"], "", change(user=STR)),
    ("role del", ["role", "del", "boss1"], "", change(role=STR)),
    # Failures: one JSON object on stderr.
    ("init, unknown option", ["init", "--bogus"], "", None),
    ("user add, taken name", ["user", "add", "ann"], "", None),
    ("user mod, no such user", ["user", "mod", "nobody1", "--shell", "/bin/sh"], "", None),
    ("user del, no such user", ["user", "del", "nobody1"], "", None),
    ("user show, no such user", ["user", "show", "nobody1"], "", None),
    ("user list, no such role", ["user", "list", "--role", "NoRole"], "", None),
    ("user enable, no such user", ["user", "enable", "nobody1"], "", None),
    ("user disable, bad name", ["user", "disable", "a:b"], "", None),
    ("user passwd, empty password", ["user", "passwd", "ann", "--password-stdin"], "\n", None),
    ("user unlock, missing name", ["user", "unlock"], "", None),
    ("user expire, nothing to change", ["user", "expire", "ann"], "", None),
    ("role add, taken", ["role", "add", "staff1"], "", None),
    ("role mod, cycle", ["role", "mod", "staff1", "--include", "staff1"], "", None),
    ("role del, no such role", ["role", "del", "NoRole"], "", None),
    ("role show, no such role", ["role", "show", "NoRole"], "", None),
    ("role list, extra argument", ["role", "list", "x"], "", None),
    ("grant, bad time", ["grant", "ann", "staff1", "--until", "tomorrow"], "", None),
    ("revoke, no such user", ["revoke", "nobody1", "staff1"], "", None),
    ("email add, bad address", ["email", "add", "ann", "not-an-address"], "", None),
    ("email del, no such user", ["email", "del", "nobody1", "x@example.com"], "", None),
    ("email confirm, no such user", ["email", "confirm", "nobody1", "x@example.com"], "", None),
    ("email primary, missing address", ["email", "primary", "ann", "x@example.com"], "", None),
    ("email list, no such user", ["email", "list", "nobody1"], "", None),
    ("totp enroll, no such user", ["totp", "enroll", "nobody1"], "", None),
    ("totp confirm, nothing pending", ["totp", "confirm", "ann", "123456"], "", None),
    ("totp disable, bad name", ["totp", "disable", "a:b"], "", None),
    ("totp status, no such user", ["totp", "status", "nobody1"], "", None),
    ("totp recovery-codes, no factor", ["totp", "recovery-codes", "ann"], "", None),
    ("unknown command", ["frobnicate"], "", None),
    ("user add: a note, then a failure", ["user", "add", "zed", "--shell", "/bin/nonexistent",
                                          "--force", "--email", "ann@example.com"], "", NOTES),
    # ssh-key: ann exists from the rows above.
    ("ssh-key list, empty", ["ssh-key", "list", "ann"], "", []),
    ("ssh-key add", ["ssh-key", "add", "ann", SSH_KEY, "--until", "+1d"], "",
     change(user=STR, until=STR)),
    ("ssh-key add, stdin", ["ssh-key", "add", "ann", "-", "--comment", "c"], SSH_KEY2 + "\n",
     change(user=STR)),
    ("ssh-key list", ["ssh-key", "list", "ann"], "",
     [{"type": STR, "fingerprint": STR, "comment": STR, "options": STR, "added": STR,
       "until": TIME_OR_NULL}]),
    ("ssh-key del", ["ssh-key", "del", "ann", SSH_KEY2_FP], "", change(user=STR)),
    ("ssh-key add, duplicate", ["ssh-key", "add", "ann", SSH_KEY], "", None),
    ("ssh-key add, bad key", ["ssh-key", "add", "ann", "ssh-ed25519 AAAA"], "", None),
    ("ssh-key del, no such key", ["ssh-key", "del", "ann", SSH_KEY2_FP], "", None),
    ("ssh-key list, no such user", ["ssh-key", "list", "nobody1"], "", None),
]

COMMANDS = ["init", "user add", "user mod", "user del", "user show", "user list",
            "user enable", "user disable", "user passwd", "user unlock", "user expire",
            "role add", "role mod", "role del", "role show", "role list", "grant", "revoke",
            "email add", "email del", "email confirm", "email primary", "email list",
            "totp enroll", "totp confirm", "totp disable", "totp status", "totp recovery-codes",
            "ssh-key add", "ssh-key del", "ssh-key list"]


def type_name(t):
    if isinstance(t, tuple):
        return " or ".join(x.__name__ for x in t)
    return t.__name__


def shape_problems(value, shape, path="$"):
    """What in value does not fit shape; [] when it fits."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {value!r:.60}"]
        problems = [f"{path}: missing key {k!r}" for k in shape if k not in value]
        problems += [f"{path}: unexpected key {k!r}" for k in value if k not in shape]
        for k in shape:
            if k in value:
                problems += shape_problems(value[k], shape[k], f"{path}.{k}")
        return problems
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{path}: expected an array, got {value!r:.60}"]
        if not shape and value:
            return [f"{path}: expected an empty array"]
        problems = []
        for i, item in enumerate(value):
            problems += shape_problems(item, shape[0], f"{path}[{i}]")
        return problems
    types = shape if isinstance(shape, tuple) else (shape,)
    # bool is an int in Python: keep them apart.
    if isinstance(value, bool) and bool not in types:
        return [f"{path}: expected {type_name(shape)}, got a boolean"]
    if not isinstance(value, types):
        return [f"{path}: expected {type_name(shape)}, got {value!r:.60}"]
    return []


def check_success(rc, out, err, shape):
    problems = []
    if rc != 0:
        problems.append(f"exit status {rc}")
    if err:
        problems.append("stderr is not empty")
    try:
        doc = json.loads(out)
    except ValueError as e:
        return problems + [f"stdout is not JSON: {e}"]
    problems += shape_problems(doc, shape)
    if "[\n]" in out.replace(" ", ""):
        problems.append("an empty array is not written []")
    return problems


def check_failure(rc, out, err, with_notes):
    problems = []
    if rc == 0:
        problems.append("exit status 0")
    if out:
        problems.append("stdout is not empty")
    lines = err.split("\n")
    if len(lines) != 2 or lines[1] != "":
        return problems + ["stderr is not exactly one line"]
    try:
        doc = json.loads(lines[0])
    except ValueError as e:
        return problems + [f"stderr is not JSON: {e}"]
    shape = {"error": STR, "reason": STR, "status": INT}
    if with_notes:
        shape["notes"] = [STR]
        if isinstance(doc, dict) and not doc.get("notes"):
            problems.append("no notes in the error object")
    problems += shape_problems(doc, shape)
    if isinstance(doc, dict) and doc.get("status") != rc:
        problems.append(f"status {doc.get('status')} is not the exit status {rc}")
    return problems


def command_of(args):
    if args[0] in ("user", "role", "email", "totp", "ssh-key"):
        return " ".join(args[:2])
    return args[0]


def main():
    tmp = tempfile.mkdtemp(prefix="userdb-json.")
    conf = os.path.join(tmp, "userdb.conf")
    with open(conf, "w") as f:
        f.write(f"dbdir = {tmp}/db\nhash_method = sha512\nhash_cost = 1000\n")
    os.chmod(conf, 0o644)
    env = dict(os.environ, USERDB_CONF=conf, LC_ALL="C")
    ok_seen, fail_seen = set(), set()
    n = failed = 0
    try:
        outputs = {}
        for desc, args, stdin, shape in CASES:
            args = [a(outputs) if callable(a) else a for a in args]
            proc = subprocess.run([USERDB, *args, "--json"], input=stdin, env=env,
                                  capture_output=True, text=True)
            outputs[desc] = proc.stdout
            if shape is None or shape == NOTES:
                problems = check_failure(proc.returncode, proc.stdout, proc.stderr,
                                         shape == NOTES)
                fail_seen.add(command_of(args))
            else:
                problems = check_success(proc.returncode, proc.stdout, proc.stderr, shape)
                ok_seen.add(command_of(args))
            n += 1
            if problems:
                failed += 1
                print(f"not ok {n} - {desc}")
                for p in problems[:10]:
                    print(f"#   {p}")
                print(f"#   stdout: {proc.stdout[:300]!r}")
                print(f"#   stderr: {proc.stderr[:300]!r}")
            else:
                print(f"ok {n} - {desc}")
        for side, seen in (("success", ok_seen), ("failure", fail_seen)):
            missing = [c for c in COMMANDS if c not in seen]
            n += 1
            if missing:
                failed += 1
                print(f"not ok {n} - every command has a {side} row")
                print(f"#   missing: {', '.join(missing)}")
            else:
                print(f"ok {n} - every command has a {side} row")
    finally:
        subprocess.run(["rm", "-rf", tmp])
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
