"""Print a TCP port that is free on this machine, for a local `opencdmo serve`."""

import socket

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    print(probe.getsockname()[1])
