"""Child process that serves a GGUF with llama.cpp (xllamacpp) on 127.0.0.1.

Started by ``analyst.model.local``. Prints the server's address on stdout once it listens, then
serves until its stdin closes — which happens when the parent exits, however it exits.

With ``--state FILE`` the server starts from what an earlier one had read: every slot is
restored from FILE (llama.cpp's slot save/restore) before the address is printed, and slot 0 is
saved there when stdin closes. Every call begins with the same system text, so the next process
reuses those tokens instead of computing them (about 1,200 tokens, some 30 s on two cores). The
prompt cache only ever reuses a token-for-token identical prefix, so a state saved under other
prompts costs nothing but the restore.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

# llama.cpp's drafts that need no draft model: the next tokens are looked up in what the slot
# has already seen (the prompt, and the reply so far). Quotes copied from the article are
# exactly what such a lookup predicts.
SPECULATIVE = {
    "ngram-simple": "COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE",
    "ngram-map-k": "COMMON_SPECULATIVE_TYPE_NGRAM_MAP_K",
    "ngram-mod": "COMMON_SPECULATIVE_TYPE_NGRAM_MOD",
}


def main() -> None:
    """Parse flags, start the server, print its address, wait for stdin to close."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--ctx", type=int, default=8192)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--speculative", choices=sorted(SPECULATIVE), default=None)
    parser.add_argument("--draft-match", type=int, default=4)  # n-gram looked up
    parser.add_argument("--draft-max", type=int, default=16)  # tokens drafted at most
    parser.add_argument("--draft-model", type=Path, default=None)  # a smaller model drafts
    parser.add_argument("--draft-min-p", type=float, default=0.75)  # stop drafting below this
    parser.add_argument("--batch", type=int, default=None)  # n_batch (llama.cpp: 2048)
    parser.add_argument("--ubatch", type=int, default=None)  # n_ubatch (llama.cpp: 512)
    parser.add_argument("--flash-attn", choices=("auto", "on", "off"), default="auto")
    parser.add_argument("--kv-type", choices=("f16", "q8_0"), default="f16")
    # llama.cpp repacks Q4_K weights for its CPU kernels. Measured on this project's machine
    # (2 cores; benchmarks/server_settings.py, two runs): without it a 2,500-token prompt read
    # at 94 tokens/s against 64-78, and replies were written 15-25 % slower; but whole reports
    # (benchmarks/local_model.py) took the same time either way (10.7 / 13.6 / 17.4 s against
    # 10.1 / 13.0 / 18.0), so llama.cpp's default stays.
    parser.add_argument("--repack", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--warmup", action="store_true")
    parser.add_argument("--state", type=Path, default=None)
    args = parser.parse_args()

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.n_ctx = args.ctx * args.parallel  # llama.cpp splits the context across slots
    params.n_parallel = args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    # Warmup runs an empty decode before the server listens: it only costs start time here.
    params.warmup = args.warmup
    if args.batch:
        params.n_batch = args.batch
    if args.ubatch:
        params.n_ubatch = args.ubatch
    flash = {"auto": "AUTO", "on": "ENABLED", "off": "DISABLED"}[args.flash_attn]
    params.flash_attn_type = getattr(
        xllamacpp.llama_flash_attn_type, f"LLAMA_FLASH_ATTN_TYPE_{flash}"
    )
    if args.kv_type == "q8_0":
        params.cache_type_k = params.cache_type_v = xllamacpp.ggml_type.GGML_TYPE_Q8_0
    params.no_extra_bufts = not args.repack
    if args.draft_model is not None:
        # The small model proposes up to --draft-max tokens, stopping where it is unsure; the
        # large one checks them in one batch and keeps what it would have said itself.
        draft = params.speculative.draft
        params.speculative.types = [
            xllamacpp.common_speculative_type.COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE
        ]
        draft.mparams.path = str(args.draft_model)
        draft.n_max = args.draft_max
        draft.n_min = 0
        draft.p_min = args.draft_min_p
        draft.cpuparams.n_threads = args.threads
        draft.cpuparams_batch.n_threads = args.threads
    elif args.speculative:
        kind = getattr(xllamacpp.common_speculative_type, SPECULATIVE[args.speculative])
        params.speculative.types = [kind]
        for sizes in (params.speculative.ngram_simple, params.speculative.ngram_map_k):
            sizes.size_n = args.draft_match
            sizes.size_m = args.draft_max
        params.speculative.ngram_mod.n_match = args.draft_match
        params.speculative.ngram_mod.n_max = args.draft_max
        params.speculative.ngram_mod.n_min = 1
    if args.state is not None:
        # llama.cpp appends the file name to this path as it is: it needs its separator.
        params.slot_save_path = os.path.join(args.state.parent, "")
        params.endpoint_slots = True
    params.verbosity = -1  # llama.cpp is noisy; what it still says goes to the log file
    server = xllamacpp.Server(params)
    address = server.listening_address
    if args.state is not None and args.state.is_file():
        for slot in range(args.parallel):
            _slot_action(address, slot, "restore", args.state.name)
    print(address, flush=True)
    sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or died
    if args.state is not None:
        # Saved under a name of its own, then renamed: a process restoring at the same time
        # never reads half a file. A server that answered nothing (a process that only
        # started it) has nothing worth keeping, and must not replace a state that has.
        partial = args.state.parent / f"{args.state.name}.{os.getpid()}.partial"
        if _slot_action(address, 0, "save", partial.name).get("n_saved", 0):
            os.replace(partial, args.state)
        partial.unlink(missing_ok=True)
    del server


def _slot_action(address: str, slot: int, action: str, filename: str) -> dict[str, Any]:
    """Ask the server to save or restore one slot: its answer, or ``{}`` when that failed
    (which only means a colder start)."""
    request = urllib.request.Request(
        f"{address}/slots/{slot}?action={action}",
        data=json.dumps({"filename": filename}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read() or b"{}")
    except (OSError, urllib.error.URLError, ValueError):
        return {}
    return answer if isinstance(answer, dict) else {}


if __name__ == "__main__":
    main()
