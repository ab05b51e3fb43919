"""The course cannot rot: every command in a ```sh block of docs/course/*.md
is run, in order, one temporary working directory per lesson (build/sim and
scenarios/ are symlinks there to SIM and the source tree's scenarios), and
must exit with the code the lesson states (a trailing `# exit N` comment;
0 if none). A ```text block that follows a ```sh block shows output: each
of its non-empty lines (except "...", which marks a cut) must appear, as a
line or part of one, in what that block's commands printed (stdout and
stderr, in order), so a lesson may trim lines but not invent them."""
import glob
import os
import re
import subprocess
import sys
import time

from simtest import ROOT, SIM, Failures, tmpdir

COURSE = os.path.join(ROOT, "docs", "course")
EXIT = re.compile(r"\s+#\s*exit\s+(\d+)\s*$")


def blocks(path):
    """The lesson's fenced blocks, in order: (language, [lines])."""
    out, lang, body = [], None, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if lang is None:
                m = re.match(r"^```(\w*)\s*$", line)
                if m:
                    lang, body = m.group(1) or "plain", []
            elif line.startswith("```"):
                out.append((lang, body))
                lang = None
            else:
                body.append(line)
    assert lang is None, f"{path}: a fenced block is not closed"
    return out


def commands(body):
    """(command, expected exit) for each command line of a sh block."""
    out = []
    for line in body:
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        s = s.removeprefix("$ ")
        m = EXIT.search(s)
        out.append((s[:m.start()] if m else s, int(m.group(1)) if m else 0))
    return out


def run_lesson(f, path):
    name = os.path.basename(path)
    bs = blocks(path)
    n_cmds = 0
    with tmpdir() as d:
        os.symlink(os.path.join(ROOT, "scenarios"), os.path.join(d, "scenarios"))
        os.mkdir(os.path.join(d, "build"))
        os.symlink(os.path.abspath(SIM), os.path.join(d, "build", "sim"))
        last_out = None
        for lang, body in bs:
            if lang == "sh":
                last_out = ""
                for cmd, want in commands(body):
                    n_cmds += 1
                    # what a student types: sim itself, and a few tools to look at its files
                    f.check(cmd.split(" ", 1)[0] in ("build/sim", "cat", "ls", "grep"),
                            f"{name}: a command that is not build/sim, cat, ls or grep: {cmd}")
                    p = subprocess.run(["/bin/sh", "-c", cmd], cwd=d, capture_output=True, text=True,
                                       timeout=120)
                    last_out += p.stdout + p.stderr
                    f.check(p.returncode == want,
                            f"{name}: `{cmd}` exited {p.returncode}, the lesson says {want}:\n"
                            f"{(p.stdout + p.stderr)[-1500:]}")
            elif lang == "text" and last_out is not None:
                for shown in body:
                    s = shown.strip()
                    if not s or s == "...":
                        continue
                    f.check(s in last_out, f"{name}: shown line not in the output: {s!r}\n"
                                           f"--- output was:\n{last_out[:3000]}")
                last_out = None
    return n_cmds


def main():
    f = Failures()
    lessons = sorted(glob.glob(os.path.join(COURSE, "*.md")))
    f.check(len(lessons) >= 11, f"docs/course has {len(lessons)} pages, expected README and 10 lessons")
    total, t0 = 0, time.monotonic()
    for path in lessons:
        n = run_lesson(f, path)
        if os.path.basename(path) != "README.md":
            f.check(n >= 1, f"{os.path.basename(path)}: no ```sh command to run")
        total += n
    # the README names every lesson, in order
    readme = open(os.path.join(COURSE, "README.md"), encoding="utf-8").read()
    for path in lessons:
        b = os.path.basename(path)
        if b != "README.md":
            f.check(f"({b})" in readme, f"README.md does not link {b}")
    print(f"{total} commands from {len(lessons)} pages in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    # the checker of this test can fail: a wrong exit and an invented line are caught
    with tmpdir() as d:
        bad = os.path.join(d, "bad.md")
        with open(bad, "w", encoding="utf-8") as out:
            out.write("```sh\nbuild/sim run scenarios/01_replication_lag.lua --seed 1 --no-trace  # exit 1\n```\n"
                      "```text\nthis line is not printed\n```\n")
        g = Failures()
        import io
        import contextlib
        with contextlib.redirect_stderr(io.StringIO()):
            run_lesson(g, bad)
        f.check(len(g.failed) == 2, f"the lesson checker missed a wrong exit or an invented line: {g.failed}")
    f.finish()


if __name__ == "__main__":
    main()
