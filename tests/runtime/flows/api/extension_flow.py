"""A flow using what the metaflow_extensions.acme package adds (tests/runtime/extensions)."""

import os

from core_runtime import FlowSpec, acme_greeting, acme_team, audited, card, current, step


@acme_team
class ExtensionFlow(FlowSpec):
    @audited(label="train")
    @card(type="acme_card")
    @step
    def start(self):
        from core_runtime.exception import AcmeQuotaExceeded
        from core_runtime.metaflow_config import ACME_REGION
        from core_runtime.plugins.frameworks.pytorch import AcmePytorchParallelDecorator
        from core_runtime.plugins.greeting import WORD

        self.seen = (ACME_REGION, AcmeQuotaExceeded.headline, WORD, acme_greeting("ada"),
                     AcmePytorchParallelDecorator.name, os.environ["ACME_AUDIT"], current.acme_team)
        self.next(self.fragile)

    @audited
    @step
    def fragile(self):
        self.before = 1
        if self.before:
            raise KeyError("no such key")   # @audited handles a KeyError: the run goes on
        self.next(self.end)

    @step
    def end(self):
        self.team_in_end = current.acme_team


if __name__ == "__main__":
    ExtensionFlow()
