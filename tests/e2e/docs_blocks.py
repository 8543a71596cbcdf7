#!/usr/bin/env python3
"""Extracts the marked snippets of README.md and the man pages for docs.sh.

    docs_blocks.py OUTDIR FILE...

Every fenced block of a markdown file (``` or ~~~, indented or not) and
every .EX/.EE or .nf/.fi block of a man page must carry a marker right
before it
(tests/e2e/README.md, "Docs that work verbatim"):

    <!-- verbatim: KIND ARGS -->     .\\" verbatim: KIND ARGS
    <!-- transcript -->              .\\" transcript
    <!-- not-run: REASON -->         .\\" not-run: REASON

KIND ARGS is one of
    sh                          run as a root shell script (bash -e)
    file PATH                   the block is the whole of PATH
    file PATH before "TEXT"     inserted before the first line of PATH that
                                starts with TEXT
    keys PATH                   each line `KEY: ...` replaces PATH's line
                                of the same KEY (appended if none)

For each verbatim block this writes OUTDIR/NNN.body (the text as an admin
would paste it: indentation of the fence removed, roff escapes decoded)
and appends `NNN<TAB>FILE:LINE<TAB>KIND<TAB>ARG...` (ARGS split as the
shell would, quotes removed) to OUTDIR/index; a not-run block appends
`NNN<TAB>FILE:LINE<TAB>not-run REASON`. A block
without a marker, an unknown kind or a not-run without a reason is
reported on stderr with its place, and the exit status is 1.
"""
import os
import re
import shlex
import sys

MD_MARK = re.compile(r"^\s*<!--\s*(verbatim:|transcript|not-run:)\s*(.*?)\s*-->\s*$")
ROFF_MARK = re.compile(r'^\.\\"\s*(verbatim:|transcript|not-run:)\s*(.*?)\s*$')
FENCE = re.compile(r"^(\s*)(```|~~~)")


def check_kind(args):
    """The parsed KIND ARGS, or None when they do not follow the grammar."""
    try:
        words = shlex.split(args)
    except ValueError:
        return None
    if words == ["sh"]:
        return words
    if len(words) == 2 and words[0] in ("file", "keys") and words[1].startswith("/"):
        return words
    if (len(words) == 4 and words[0] == "file" and words[1].startswith("/")
            and words[2] == "before" and words[3]):
        return words
    return None


def roff_text(line):
    """A line of an .EX block as it renders, for the escapes man pages use."""
    line = line.replace("\\-", "-").replace("\\(aq", "'").replace("\\(dq", '"')
    line = line.replace("\\&", "").replace("\\e", "\\")
    return line


def markdown_blocks(path, lines):
    """(line number, marker, marker args, body lines) for every fence."""
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence = m.group(1), m.group(2)
        start = i
        j = start - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        mark = MD_MARK.match(lines[j]) if j >= 0 else None
        body = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            text = lines[i]
            body.append(text[len(indent):] if text.startswith(indent) else text.lstrip())
            i += 1
        i += 1
        yield start + 1, mark, body


def roff_blocks(path, lines):
    """The same for .EX/.EE and .nf/.fi (no-fill text is pasted too)."""
    ends = {".EX": ".EE", ".nf": ".fi"}
    i = 0
    while i < len(lines):
        end = ends.get(lines[i].strip())
        if not end:
            i += 1
            continue
        start = i
        mark = ROFF_MARK.match(lines[start - 1]) if start > 0 else None
        body = []
        i += 1
        pending = ""
        while i < len(lines) and lines[i].strip() != end:
            # A backslash at the end of a line continues it (roff renders
            # one line), unless it is an escaped backslash.
            text = lines[i]
            if text.endswith("\\") and not text.endswith("\\\\"):
                pending += text[:-1]
            else:
                body.append(roff_text(pending + text))
                pending = ""
            i += 1
        i += 1
        yield start + 1, mark, body


def main():
    outdir, files = sys.argv[1], sys.argv[2:]
    os.makedirs(outdir, exist_ok=True)
    errors = 0
    n = 0
    with open(os.path.join(outdir, "index"), "w", encoding="utf-8") as index:
        for path in files:
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
            name = os.path.basename(path)
            blocks = markdown_blocks if path.endswith(".md") else roff_blocks
            for line, mark, body in blocks(path, lines):
                where = f"{name}:{line}"
                if not mark:
                    print(f"{where}: a snippet without a marker (verbatim:, transcript or "
                          "not-run:): see tests/e2e/README.md", file=sys.stderr)
                    errors += 1
                    continue
                what, args = mark.group(1), mark.group(2)
                if what == "transcript":
                    continue
                n += 1
                if what == "not-run:":
                    if not args:
                        print(f"{where}: not-run needs a reason", file=sys.stderr)
                        errors += 1
                    index.write(f"{n:03d}\t{where}\tnot-run {args}\n")
                    continue
                words = check_kind(args)
                if words is None:
                    print(f"{where}: unknown verbatim kind '{args}'", file=sys.stderr)
                    errors += 1
                    continue
                with open(os.path.join(outdir, f"{n:03d}.body"), "w", encoding="utf-8") as b:
                    b.write("\n".join(body) + "\n")
                index.write(f"{n:03d}\t{where}\t" + "\t".join(words) + "\n")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
