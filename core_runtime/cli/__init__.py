"""The ``python flow.py <command>`` command line: run, resume, spin, show, check, --help."""
