"""@pypi with a package the index does not have: the run must not start."""

from core_runtime import FlowSpec, pypi, step


class MissingPackageFlow(FlowSpec):
    @pypi(packages={"flowscope-test-no-such-package": "1.0.0"})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    MissingPackageFlow()
