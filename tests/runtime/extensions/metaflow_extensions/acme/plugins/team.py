from typing import Any, ClassVar

from core_runtime import current
from core_runtime.decorators import FlowDecorator


class TeamDecorator(FlowDecorator):
    options: ClassVar[dict[str, Any]] = {"team": dict(default="nobody", show_default=True, help="who owns the run")}

    def flow_init(self, flow, graph, environment, flow_datastore, metadata, logger, echo, options):
        current._update_env({"acme_team": options["team"]})
