"""The HTML report in a real browser: Debian's chromium, headless.

Skipped (exit 77) when /usr/bin/chromium is absent. Otherwise: a report of a
violating run is rendered with --dump-dom (after its script ran) and with
--screenshot. The dumped DOM must show that the script ran to its end
(body data-ok="1") with no JavaScript error caught, and hold the lanes per
client, message arrows and the violation highlight. With #selftest the
page's script clicks the first violated verdict and steps the time cursor:
the operations that verdict names must be focused and the cursor must
show an event. The screenshot is kept in the build directory
(report-screenshot.png) as a test artifact."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser

from simtest import SCENARIOS, SIM, Failures, run

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--window-size=1400,2600"]


class Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.errors = None
        self._in_errors = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id") == "jserrors":
            self._in_errors = True
            self.errors = ""

    def handle_endtag(self, tag):
        self._in_errors = False

    def handle_data(self, data):
        if self._in_errors:
            self.errors += data

    def count(self, tag, cls):
        return len([1 for t, a in self.tags if t == tag and cls in (a.get("class") or "").split()])

    def body(self):
        return next((a for t, a in self.tags if t == "body"), {})


def chromium(args, profile):
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    return p.returncode, p.stdout, p.stderr


def main():
    if not os.path.exists(CHROMIUM):
        print(f"skipped: {CHROMIUM} is not installed (apt-get install chromium)")
        sys.exit(77)
    f = Failures()
    build_dir = os.path.dirname(os.path.abspath(SIM))
    with tempfile.TemporaryDirectory(prefix="simtest-browser-") as d:
        trace = os.path.join(d, "stale.jsonl")
        rc, _, err = run("run", os.path.join(SCENARIOS, "05_quorum_w1_r1_stale_reads.lua"), "--seed", "2",
                         "--quiet", "--trace", trace)
        f.check(rc == 0, f"run: exit {rc} {err}")
        html = os.path.join(d, "stale.html")
        rc, _, err = run("report", trace, "-o", html)
        f.check(rc == 0, f"report: exit {rc} {err}")
        url = "file://" + html

        rc, out, err = chromium(["--dump-dom", url], os.path.join(d, "profile1"))
        f.check(rc == 0 and "<body" in out, f"chromium --dump-dom: exit {rc} {err[-500:]}")
        dom = Dom()
        dom.feed(out)
        f.check(dom.body().get("data-ok") == "1", "the page's script did not finish (no body data-ok)")
        f.check(dom.errors == "", f"JavaScript errors: {dom.errors!r}")
        f.check(dom.count("g", "clientlane") == 3, f"{dom.count('g', 'clientlane')} client lanes, expected 3")
        f.check(dom.count("line", "msg") > 0, "no message arrow in the DOM")
        f.check(dom.count("rect", "viol") > 0, "no violation highlight in the DOM")
        f.check(dom.count("li", "verdict") > 5, "no verdict list in the DOM")
        f.check(dom.count("li", "violated") > 0, "no violated verdict in the DOM")

        rc, out, err = chromium(["--dump-dom", url + "#selftest"], os.path.join(d, "profile2"))
        dom = Dom()
        dom.feed(out)
        body = dom.body()
        f.check(body.get("data-ok") == "1" and dom.errors == "", f"selftest: script failed: {dom.errors!r}")
        f.check(int(body.get("data-focused", "0")) > 0, f"selftest: clicking the verdict focused {body.get('data-focused')} operations")
        f.check(re.search(r" ms  #\d+/\d+: \S", body.get("data-cursor", "")),
                f"selftest: cursor shows {body.get('data-cursor')!r}")
        f.check(" ms" in body.get("data-axis", ""), f"selftest: no time axis: {body.get('data-axis')!r}")
        # selecting a request highlights its messages (the client's request at least)
        f.check(int(body.get("data-reqfocus", "0")) > 0,
                f"selftest: selecting a request highlighted {body.get('data-reqfocus')} messages and notes")
        f.check(dom.count("rect", "red-ok") > 0 and dom.count("polyline", "use-sat") > 0,
                "no RED or USE time series in the DOM")

        shot = os.path.join(d, "shot.png")
        rc, _, err = chromium([f"--screenshot={shot}", url], os.path.join(d, "profile3"))
        ok = rc == 0 and os.path.exists(shot) and os.path.getsize(shot) > 10000
        f.check(ok, f"chromium --screenshot: exit {rc} {err[-300:]}")
        if ok:
            with open(shot, "rb") as img:
                f.check(img.read(8) == b"\x89PNG\r\n\x1a\n", "the screenshot is not a PNG")
            kept = os.path.join(build_dir, "report-screenshot.png")
            shutil.copyfile(shot, kept)
            print(f"screenshot kept: {kept}")
    f.finish()


if __name__ == "__main__":
    main()
