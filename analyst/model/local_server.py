"""Child process that serves a GGUF with llama.cpp (xllamacpp) on 127.0.0.1.

Started by ``analyst.model.local``. Prints the server's address on stdout once it listens, then
serves until its stdin closes — which happens when the parent exits, however it exits.
"""

from __future__ import annotations

import argparse
import sys


def main() -> None:
    """Parse flags, start the server, print its address, wait for stdin to close."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--ctx", type=int, default=8192)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=1)
    args = parser.parse_args()

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.n_ctx = args.ctx * args.parallel  # llama.cpp splits the context across slots
    params.n_parallel = args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.verbosity = -1  # llama.cpp is noisy; what it still says goes to the log file
    server = xllamacpp.Server(params)
    print(server.listening_address, flush=True)
    sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or died
    del server


if __name__ == "__main__":
    main()
