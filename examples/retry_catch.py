"""@retry for a flaky data source, @catch to carry on without an optional step.

    python examples/retry_catch.py run
"""

from core_runtime import FlowSpec, catch, current, retry, step


class FlakySourceFlow(FlowSpec):
    """Download with retries; an optional enrichment step may fail without failing the run."""

    @step
    def start(self):
        self.next(self.download)

    @retry(times=3, minutes_between_retries=0)
    @step
    def download(self):
        """Pretend the first two attempts hit a network error."""
        print(f"download attempt {current.retry_count}")
        if current.retry_count < 2:
            raise ConnectionError("connection reset by peer")
        self.rows = list(range(1000))
        self.next(self.enrich)

    @catch(var="enrich_error")
    @step
    def enrich(self):
        """An optional lookup service that is down today."""
        self.extra = {}
        raise TimeoutError("lookup service did not answer in 30 s")
        self.next(self.end)

    @step
    def end(self):
        if self.enrich_error:
            print(f"continuing without enrichment: {self.enrich_error}")
        print(f"{len(self.rows)} rows")


if __name__ == "__main__":
    FlakySourceFlow()
