import os
from typing import Any, ClassVar

from core_runtime.decorators import StepDecorator


class AuditDecorator(StepDecorator):
    """Stamps every task: what ran before, after and around the step."""

    defaults: ClassVar[dict[str, Any]] = {"label": "default"}

    def task_pre_step(self, step_name, task_datastore, metadata, run_id, task_id, flow, graph,
                      retry_count, max_user_code_retries, ubf_context, inputs):
        os.environ["ACME_AUDIT"] = f"{self.attributes['label']}:{step_name}"

    def task_decorate(self, step_func, flow, graph, retry_count, max_user_code_retries, ubf_context):
        def wrapped():
            flow.audit_wrapped = True
            return step_func()

        return wrapped

    def task_post_step(self, step_name, flow, graph, retry_count, max_user_code_retries):
        flow.audit = (self.attributes["label"], step_name, graph[step_name].type)

    def task_exception(self, exception, step_name, flow, graph, retry_count, max_user_code_retries):
        flow.audit_handled = f"{type(exception).__name__}: {exception}"
        return isinstance(exception, KeyError)
