"""Child process of ``unpickle_in_worker``: unpickle stdin, print a JSON preview on stdout.

Run as a script (no package imports) so the parent controls exactly what is loaded. The memory
cap is set before reading anything; the parent enforces the time limit by killing us.
"""

import io
import json
import pickle
import resource
import sys


def main() -> None:
    mem_mb = int(sys.argv[1])
    max_chars = int(sys.argv[2])
    limit = mem_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    data = sys.stdin.buffer.read()
    try:
        value = pickle.Unpickler(io.BytesIO(data)).load()
        cls = type(value)
        text = repr(value)
        out = {"ok": True, "type": f"{cls.__module__}.{cls.__qualname__}".removeprefix("builtins."),
               "text": text[:max_chars], "truncated": len(text) > max_chars}
    except MemoryError:
        out = {"ok": False, "error": f"memory limit of {mem_mb} MB exceeded"}
    except BaseException as exc:  # noqa: BLE001 - whatever user code raises while unpickling
        out = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:1000]}
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    main()
