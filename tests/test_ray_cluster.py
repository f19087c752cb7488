"""Searches against a real Ray cluster started by the test with ``ray start --head`` on
localhost: joining it with ``ray_address="auto"``, leaving it running afterwards, not
joining it with ``ray_address=None``, and cancelling every unfinished trial on it when the
search stops early.

The cluster gets its own temporary directory and free ports; teardown stops only the
processes of that cluster (found by its directory), never other Ray instances on the
machine (``ray stop`` would stop them all).
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

import trial_callbacks
from cerebros import SearchFailedError, SimpleCerebrosRandomSearch
from trial_callbacks import RayProbe

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(),
                                reason="finds the cluster's processes in /proc")

RAY_CLI = Path(sys.executable).with_name("ray")  # the venv's, else the one on PATH


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def processes_mentioning(text):
    """Process ids whose command line contains ``text``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return [pid for pid in found if pid != os.getpid()]


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def parent(pid):
    """The parent's process id of a running process; None once it has exited."""
    try:
        state, ppid = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:2]
    except OSError:
        return None
    return None if state == "Z" else int(ppid)


def ray_worker_titles():
    """The process titles of this machine's Ray workers ("ray::IDLE", "ray::_ray_trial", ...)."""
    titles = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        if title.startswith("ray::"):
            titles.append(f"{cmdline.parent.name} {title.strip()}")
    return titles


def wait_until(condition, seconds, message):
    """Poll ``condition`` until true; after ``seconds`` fail with ``message`` (a string, or a
    function giving one at that moment)."""
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, message() if callable(message) else message
        time.sleep(0.2)


class Cluster:
    def __init__(self, address, temp_dir, block):
        self.address, self.temp_dir, self.block = address, temp_dir, block

    def is_its_address(self, gcs_address):
        """Whether a worker's GCS address is this cluster's (Ray may report the head by the
        machine's IP address rather than 127.0.0.1: the port tells them apart)."""
        return gcs_address.rsplit(":", 1)[1] == self.address.rsplit(":", 1)[1]

    def processes(self):
        return processes_mentioning(self.temp_dir)

    def connect(self):
        if ray.is_initialized():
            ray.shutdown()
        ray.init(address=self.address, log_to_driver=False)
        return ray


def refresh_ray_auth():
    """Make this process's Ray reread RAY_AUTH_MODE and the token (both cached; Ray refreshes
    them the same way when it turns token authentication on itself)."""
    ray._raylet.Config.initialize("")
    ray._raylet.AuthenticationTokenLoader.instance().reset_cache()


def use_token_auth(patch, token):
    patch.setenv("RAY_AUTH_MODE", "token")
    patch.setenv("RAY_AUTH_TOKEN", token)
    patch.delenv("RAY_AUTH_TOKEN_PATH", raising=False)
    refresh_ray_auth()


@pytest.fixture(scope="module")
def cluster():
    if ray.is_initialized():
        ray.shutdown()
    # Ray 2.60: `ray start` turns token authentication on when ~/.ray/auth_token exists (any
    # earlier local ray.init() writes one), and a driver joining by address sends the token
    # only with RAY_AUTH_MODE=token. Use token mode with a token of the test's own on both
    # sides (the cluster inherits the environment), so that the test depends neither on what
    # earlier Ray sessions left in the home directory nor writes there.
    patch = pytest.MonkeyPatch()
    use_token_auth(patch, secrets.token_hex(32))
    # A short path: Ray's unix sockets live under it.
    temp_dir = tempfile.mkdtemp(prefix="crbray_", dir="/tmp")
    port, client, agent, agent_grpc, node_manager, object_manager, metrics, dashboard = \
        free_ports(8)
    command = [str(RAY_CLI if RAY_CLI.exists() else "ray"), "start", "--head", "--block",
               "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "2",
               "--temp-dir", temp_dir, "--disable-usage-stats", "--include-dashboard", "false",
               "--ray-client-server-port", str(client),
               "--dashboard-agent-listen-port", str(agent),
               "--dashboard-agent-grpc-port", str(agent_grpc),
               "--node-manager-port", str(node_manager),
               "--object-manager-port", str(object_manager),
               "--metrics-export-port", str(metrics), "--dashboard-port", str(dashboard)]
    log = open(Path(temp_dir) / "ray_start.log", "w")
    block = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    address = f"127.0.0.1:{port}"
    try:
        cluster = Cluster(address, temp_dir, block)
        deadline, problem = time.time() + 120, None
        while True:  # connect as a search's driver would, until the head has its 2 CPUs
            assert block.poll() is None, (Path(temp_dir) / "ray_start.log").read_text()[-3000:]
            try:
                cpus = cluster.connect().cluster_resources().get("CPU")
            except Exception as error:  # not up yet
                cpus, problem = None, error
            finally:
                if ray.is_initialized():
                    ray.shutdown()
            if cpus == 2:
                break
            assert time.time() < deadline, f"the Ray head never came up: {problem!r}, {cpus} CPUs"
            time.sleep(1)
        # Test-only callbacks are not installed in the workers' environment: ship them by value.
        ray.cloudpickle.register_pickle_by_value(trial_callbacks)
        yield cluster
    finally:
        if ray.is_initialized():
            ray.shutdown()
        block.send_signal(signal.SIGTERM)  # `ray start --block` stops what it started
        try:
            block.wait(timeout=30)
        except subprocess.TimeoutExpired:
            block.kill()
        deadline = time.time() + 30
        while (left := processes_mentioning(temp_dir)) and time.time() < deadline:
            for pid in left:  # only this cluster's processes: they name its directory
                try:
                    os.kill(pid, signal.SIGKILL if time.time() > deadline - 20 else signal.SIGTERM)
                except ProcessLookupError:
                    pass
            time.sleep(0.5)
        log.close()
        shutil.rmtree(temp_dir, ignore_errors=True)
        patch.undo()
        refresh_ray_auth()


def probes(directory):
    return {int(p.stem.split("_")[1]): json.loads(p.read_text())
            for p in Path(directory).glob("trial_*.json")}


def test_a_search_joins_a_running_cluster_with_auto_and_leaves_it_running(
        cluster, small_search, tmp_path, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    seen = tmp_path / "probes"
    seen.mkdir()
    before = set(cluster.processes())
    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=2, backend="ray", ray_address="auto",
        callbacks=[RayProbe(str(seen))]))
    search.run_random_search()
    frame = pd.read_csv(tmp_path / "project" / "oracle.csv")
    assert (frame.status == "completed").all() and frame.trial_number.nunique() == 2
    ran = probes(seen)
    assert sorted(ran) == [0, 1]
    # Every trial ran in a worker of the test's cluster (its address; a worker still running
    # is a process of the cluster's directory, or, retitled "ray::IDLE" by Ray, which
    # rewrites its command line, the child of one: its raylet).
    assert all(cluster.is_its_address(info["gcs_address"]) for info in ran.values()), ran
    processes = set(cluster.processes())
    for info in ran.values():
        raylet = parent(info["pid"])
        assert raylet is None or {info["pid"], raylet} & processes, (info, processes)
    # The search disconnected but did not stop the cluster it joined.
    assert not ray.is_initialized()
    assert before <= set(cluster.processes()), "the cluster's own processes are still running"
    connected = cluster.connect()
    try:
        assert connected.cluster_resources().get("CPU") == 2
        assert connected.get(connected.remote(lambda: 41 + 1).remote(), timeout=60) == 42
    finally:
        connected.shutdown()


def test_ray_address_none_starts_its_own_instance_beside_a_running_cluster(
        cluster, small_search, tmp_path, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    seen = tmp_path / "probes"
    seen.mkdir()
    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=2, backend="ray", n_workers=2, ray_address=None,
        callbacks=[RayProbe(str(seen))]))
    search.run_random_search()
    ran = probes(seen)
    assert sorted(ran) == [0, 1]
    private = {info["gcs_address"] for info in ran.values()}
    assert len(private) == 1 and not cluster.is_its_address(private.pop()), ran
    assert not ray.is_initialized(), "the instance it started is shut down again"
    # ... and that private instance's processes are gone, the test's cluster is not.
    wait_until(lambda: not any(alive(info["pid"]) for info in ran.values()), 30,
               "the private instance's workers outlived the search")
    connected = cluster.connect()
    try:
        assert connected.cluster_resources().get("CPU") == 2
    finally:
        connected.shutdown()


def test_a_search_that_stops_early_cancels_its_unfinished_trials_on_the_cluster(
        cluster, small_search, tmp_path, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    seen = tmp_path / "probes"
    seen.mkdir()
    # The caller is connected to the cluster already, and stays connected after the search:
    # only cancelling, not disconnecting, can stop the search's tasks here.
    connected = cluster.connect()
    try:
        # 2 CPUs: trials 0 and 1 start; trial 1 holds its worker; trial 0 fails once trial 1
        # is running, and with max_consecutive_failed_trials=1 the search stops there, with
        # trial 1 still running and trials 2-5 queued.
        search = SimpleCerebrosRandomSearch(**small_search(
            number_of_architecture_moities_to_try=6, backend="ray", ray_address="auto",
            max_consecutive_failed_trials=1,
            callbacks=[RayProbe(str(seen), fail_trial=0, fail_after=1, hold=True)]))
        with pytest.raises(SearchFailedError, match="fails on purpose"):
            search.run_random_search()
        stopped = time.time()
        assert connected.is_initialized(), "the search leaves the caller's connection alone"
        ran = probes(seen)
        # Ray may start queued trial 2 on trial 0's CPU while the driver still records trial
        # 0's failure; what counts is that no trial starts after the search has stopped.
        assert {0, 1} <= set(ran) <= {0, 1, 2}, ran
        # The held trials' workers are killed, nothing else starts, the cluster's CPUs are free.
        for trial in set(ran) - {0}:
            wait_until(lambda: not alive(ran[trial]["pid"]), 30,
                       f"the cancelled trial {trial}'s worker still runs")
        wait_until(lambda: connected.available_resources().get("CPU") == 2, 60,
                   lambda: f"CPUs still held on the cluster: {connected.available_resources()}; "
                           f"Ray workers: {ray_worker_titles()}")
        time.sleep(3)
        late = {t: p["time"] - stopped for t, p in probes(seen).items() if p["time"] > stopped}
        assert not late, f"queued trial(s) started after the search stopped: {late}"
    finally:
        connected.shutdown()
    frame = pd.read_csv(tmp_path / "project" / "oracle.csv")
    assert frame.groupby("trial_number").status.first().to_dict() == {0: "failed"}
