"""Nothing reaches the network: enhance, evaluate (DNSMOS runs on onnxruntime, whose wheels send
telemetry unless told not to) and a notebook run in a network namespace with only loopback up,
under strace, and no connection may be attempted beyond 127.0.0.1, nor onnxruntime's telemetry start."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hifigan_edu import audio

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = ("127.", "::1", "::ffff:127.")
RESOLVERS = ("/run/systemd/resolve/",)  # a local DNS service, over a unix socket (nscd also serves passwd: not counted)


def can_isolate() -> str | None:
    """Why the test cannot run here, or None."""
    for tool in ("unshare", "strace", "ip"):
        if not shutil.which(tool):
            return f"needs {tool} (Debian: util-linux, strace, iproute2)"
    probe = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up && strace -f -o /dev/null true"], capture_output=True, text=True)
    if probe.returncode:
        return f"network namespaces or ptrace are not permitted here: {probe.stderr.strip()[:200]}"
    return None


def attempts(log: Path) -> list[str]:
    """The calls in an strace log that try to reach the network: a connection or datagram beyond
    loopback, or a name lookup (port 53 anywhere, or a local resolver's socket: it would forward it)."""
    out = []
    for line in log.read_text().splitlines():
        hosts = [a or b for a, b in re.findall(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"', line)]
        if any(not h.startswith(LOOPBACK) for h in hosts) or (hosts and "htons(53)" in line) or any(r in line for r in RESOLVERS):
            out.append(line.strip())
    return out


def offline(command: list[str], log: Path, timeout: int) -> subprocess.CompletedProcess:
    """Run ``command`` in a new network namespace with only loopback up, tracing its network calls into ``log``."""
    # --seccomp-bpf stops the traced processes only at these calls, so tracing costs next to nothing
    traced = " ".join(["strace", "-f", "--seccomp-bpf", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(log), *command])
    return subprocess.run(["unshare", "-n", "sh", "-c", f"ip link set lo up && {traced}"], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={"PATH": "/usr/bin:/bin", "HOME": str(log.parent),
                                                           "HIFIGAN_EDU_PROFILE": "ci", "HIFIGAN_EDU_THREADS": "2"})  # fmt: skip


WHY_NOT = can_isolate()


@pytest.mark.skipif(WHY_NOT is not None, reason=str(WHY_NOT))
def test_enhance_evaluate_and_a_notebook_make_no_connection_beyond_loopback(tmp_path):
    audio.save(tmp_path / "noisy.wav", 0.1 * np.random.default_rng(0).standard_normal(16000).astype(np.float32))
    py = [sys.executable, "-m", "hifigan_edu"]
    runs = {
        "enhance": (py + ["enhance", str(tmp_path / "noisy.wav"), str(tmp_path / "out.wav")], 300),
        # one synthetic item and one real one (DNSMOS, onnxruntime)
        "evaluate": (py + ["evaluate", "--items", "test-000", "test-003", "--out", str(tmp_path / "results")], 600),
        # a notebook executed by a Jupyter kernel (its messages go over loopback)
        "notebook 00": (py + ["course", "--only", "00", "--out", str(tmp_path / "build")], 900),
    }
    for name, (command, timeout) in runs.items():
        log = tmp_path / f"{name.replace(' ', '-')}.strace"
        done = offline(command, log, timeout)
        assert done.returncode == 0, f"{name} failed offline:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        assert log.stat().st_size or name == "enhance", f"{name}: strace logged nothing; was it traced?"
        beyond = attempts(log)
        assert not beyond, f"{name} tried to reach the network ({len(beyond)} calls), e.g. {beyond[:3]}"
    # onnxruntime's telemetry keeps an offline cache of its events; opted out, it creates none. (Its
    # uploader may not get round to connecting before a short run ends: this check does not wait for it.)
    assert not (tmp_path / ".cache" / "Microsoft").exists(), "onnxruntime's telemetry started (ORT_DISABLE_TELEMETRY unset?)"
    assert "DNSMOS" in (tmp_path / "results" / "evaluation.md").read_text()
    assert (tmp_path / "build" / "html").is_dir()


def test_attempts_are_recognised(tmp_path):
    log = tmp_path / "x.strace"
    log.write_text(
        '12 connect(9, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = -1 ENETUNREACH\n'
        '12 connect(9, {sa_family=AF_INET, sin_port=htons(41000), sin_addr=inet_addr("127.0.0.1")}, 16) = 0\n'
        '12 connect(9, {sa_family=AF_INET6, sin6_port=htons(443), inet_pton(AF_INET6, "2603:1030::1", &sin6_addr)}, 28) = -1\n'
        '12 connect(9, {sa_family=AF_UNIX, sun_path="/run/x"}, 110) = 0\n'
        '12 connect(9, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 0\n'
        '12 connect(9, {sa_family=AF_UNIX, sun_path="/run/systemd/resolve/io.systemd.Resolve"}, 110) = 0\n'
    )
    found = attempts(log)
    assert len(found) == 4 and "10.255.255.53" in found[0] and "2603:1030::1" in found[1]
    assert "127.0.0.53" in found[2] and "io.systemd.Resolve" in found[3]
