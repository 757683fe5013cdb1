"""@pypi steps that pin Python: one to a version this machine may have (3.12), one to a version
the runtime cannot run on inside a task (3.8): the second runs on the runtime's Python, with a
notice on its task instead of a failure."""

import sys

from core_runtime import FlowSpec, pypi, step


class PinnedPythonFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.old)

    @pypi(packages={"tabulate": "0.9.0"}, python="3.8")
    @step
    def old(self):
        self.old_python = f"{sys.version_info[0]}.{sys.version_info[1]}"
        self.next(self.end)

    @pypi(python="3.12")
    @step
    def end(self):
        self.end_python = f"{sys.version_info[0]}.{sys.version_info[1]}"


if __name__ == "__main__":
    PinnedPythonFlow()
