"""Namespaces: Metaflow's semantics on tags ∪ system tags; default user:<current user>."""

from __future__ import annotations

import pytest
from client_recorder import Recorder

from contract.settings import Settings
from core_runtime.client import (
    Flow,
    FlowscopeNamespaceMismatch,
    Run,
    default_namespace,
    get_namespace,
    namespace,
)


def test_default_namespace_is_current_user(client_settings: Settings) -> None:
    assert default_namespace() == "user:tester"
    assert get_namespace() == "user:tester"
    assert namespace(None) is None and get_namespace() is None
    assert namespace("user:bob") == "user:bob" and get_namespace() == "user:bob"


def test_runs_filtered_by_namespace(client_settings: Settings, recorder: Recorder, flow_name: str) -> None:
    mine = recorder.run(flow_name)
    bobs = recorder.run(flow_name, user="bob", tags=("experiment",))
    flow = Flow(flow_name)
    assert [r.id for r in flow] == [mine.run_id]
    with pytest.raises(FlowscopeNamespaceMismatch, match=f"{flow_name}/{bobs.run_id} is not in the current "
                                                         "namespace 'user:tester'"):
        Run(f"{flow_name}/{bobs.run_id}")
    namespace("user:bob")
    assert [r.id for r in flow] == [bobs.run_id]
    assert Run(f"{flow_name}/{bobs.run_id}").user == "bob"
    namespace("experiment")                  # any user tag works as a namespace
    assert [r.id for r in flow] == [bobs.run_id]
    namespace(None)
    assert [r.id for r in flow] == [bobs.run_id, mine.run_id]
    assert [r.id for r in flow.runs("experiment")] == [bobs.run_id]
    assert Run(f"{flow_name}/{bobs.run_id}", _namespace_check=True).id == bobs.run_id
    default_namespace()
    with pytest.raises(FlowscopeNamespaceMismatch):
        flow[bobs.run_id]


def test_unreachable_database_is_a_clear_error(settings: Settings) -> None:
    from core_runtime.client import FlowscopeClientError, configure

    bad = "host=127.0.0.1 port=1 dbname=x user=flowscope_reader password=secret connect_timeout=2"
    configure(settings.replace(dsn=bad, reader_dsn=bad))
    try:
        with pytest.raises(FlowscopeClientError, match=r"cannot connect to the database at .*port=1") as info:
            Flow("Anything")
        assert "secret" not in str(info.value)
    finally:
        configure(settings)
