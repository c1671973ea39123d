"""A real tensorboard server on 127.0.0.1 serves the scalars of a run through its HTTP API."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

from amsgrad_repro import cli


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_tensorboard_serves_the_logged_scalars(tmp_path):
    assert cli.main(["online", "--steps", "2000", "--log-every", "50", "--logdir", str(tmp_path)]) == 0
    summary = json.load(open(os.path.join(tmp_path, os.listdir(tmp_path)[0], "summary.json")))
    port = free_port()
    tensorboard = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    server = subprocess.Popen([tensorboard, "--logdir", str(tmp_path), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/data/plugin/scalars"
    try:
        deadline, tags = time.time() + 90, {}
        while time.time() < deadline and len(tags) < 2:
            try:
                tags = {run: t for run, t in get_json(f"{base}/tags").items() if "batch/x" in t}
            except OSError:
                pass
            time.sleep(0.5)
        assert len(tags) == 2, tags
        run = next(r for r in tags if r.endswith("Online_adam/epoch-0"))
        query = urllib.parse.urlencode({"run": run, "tag": "batch/x"})
        points = get_json(f"{base}/scalars?{query}")
        assert [p[1] for p in points] == list(range(50, 2001, 50))
        final = [r for r in summary["runs"] if r["optimizer"] == "adam"][0]
        assert abs(points[-1][2] - final["final_x"]) < 0.05  # x_2000 against x_2001
    finally:
        server.terminate()
        server.wait(timeout=30)
