"""Run as a separate process (python -I render_child.py MEM_MB MAX_CHARS): unpickle stdin, print JSON.

User-pickled data can run arbitrary code, allocate without bound or never finish; here it can
only hurt this short-lived process, which has an address-space cap and is killed on timeout.
"""

import json
import pickle
import reprlib
import resource
import sys


def type_name(value: object) -> str:
    cls = type(value)
    module = cls.__module__ or ""
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def render(value: object, max_chars: int) -> dict[str, object]:
    r = reprlib.Repr()
    r.maxlevel = 6
    r.maxlist = r.maxtuple = r.maxset = r.maxfrozenset = r.maxdeque = r.maxarray = 1000
    r.maxdict = 1000
    r.maxstring = max_chars
    r.maxlong = 10000
    r.maxother = max_chars
    if type(value).__module__.split(".")[0] in ("pandas", "numpy"):
        text = repr(value)   # their reprs already summarise big values
    else:
        text = r.repr(value)
    out: dict[str, object] = {"type": type_name(value), "text": text[:max_chars],
                              "truncated": len(text) > max_chars}
    if isinstance(value, (dict, list, str, int, float, bool)) or value is None:
        try:
            encoded = json.dumps(value)
        except (TypeError, ValueError):
            encoded = None
        if encoded is not None and len(encoded) <= max_chars:
            out["json"] = value
    return out


def main() -> None:
    mem_mb, max_chars = int(sys.argv[1]), int(sys.argv[2])
    limit = mem_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    data = sys.stdin.buffer.read()
    try:
        value = pickle.loads(data)
        result = render(value, max_chars)
    except MemoryError:
        result = {"error": f"the value needs more than the worker's {mem_mb} MiB memory cap"}
    except BaseException as exc:  # noqa: BLE001 - anything the user's pickle throws is a rendering error
        result = {"error": f"cannot unpickle or render: {type(exc).__name__}: {exc}"[:2000]}
    sys.stdout.write(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
