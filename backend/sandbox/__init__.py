"""Reading untrusted pickles: the safe decoder (safe_pickle.py) and the sandboxed child (child.py).

See docs/security.md. The child's modules (confine, namespaces, limits, landlock, seccomp,
syscalls, render, attempts) import only the standard library, so the child loads nothing else
before it is confined.
"""
