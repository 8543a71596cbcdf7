#!/usr/bin/env python3
"""Runs a command on a pty and answers its password and second-factor
prompts, as a person at a terminal would: tests/e2e/totp.sh drives ssh
(keyboard-interactive), su and sudo with it.

    totp_pty.py [--password PW] [--code CODE | --totp BASE32] [--tries N] -- CMD...

`Password:` prompts get PW; `Verification code:` prompts get CODE, or the
code oathtool computes from BASE32 at the moment the prompt appears (so a
step boundary between start and prompt cannot make it stale). Each kind is
answered at most N times (default 1); a prompt beyond that ends the
command. Prints everything the command wrote (prompts included, the code
it typed on a line `# code: CODE` on stderr) and exits with its status, or
124 after 30 s.
"""
import argparse
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

PROMPTS = {"password": re.compile(rb"[Pp]assword[^:\n]*: ?$"),
           "code": re.compile(rb"Verification code: ?$")}


def code_of(args):
    if args.code is not None:
        return args.code
    out = subprocess.run(["oathtool", "--totp", "-b", args.totp], capture_output=True,
                         text=True, check=True).stdout.strip()
    print(f"# code: {out}", file=sys.stderr)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--password")
    p.add_argument("--code")
    p.add_argument("--totp")
    p.add_argument("--tries", type=int, default=1)
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    args = p.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out, line = b"", b""
    answered = {"password": 0, "code": 0}
    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        line = (line + chunk).split(b"\n")[-1]
        for kind, rx in PROMPTS.items():
            if not rx.search(line):
                continue
            answer = args.password if kind == "password" else None
            if answered[kind] >= args.tries or (kind == "password" and answer is None):
                os.kill(pid, signal.SIGTERM)
                break
            answered[kind] += 1
            if kind == "code":
                answer = code_of(args)
            # The prompt turned echo off: wait until it is, as a person would.
            time.sleep(0.05)
            os.write(fd, answer.encode() + b"\n")
            line = b""
    else:
        os.kill(pid, signal.SIGKILL)
        status = 124
    _, st = os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
    if status is None:
        status = os.waitstatus_to_exitcode(st)
        status = status if status >= 0 else 128 - status
    return status


if __name__ == "__main__":
    sys.exit(main())
