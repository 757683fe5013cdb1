"""A flow file's command line and failures behave as under pip ``metaflow`` (import swapped),
checked by running the same file under both: a malformed command line exits 2, as click's usage
errors do in Metaflow (scripts and CI tell "bad invocation" from "the run failed", which exits 1),
and is still one ``error:`` line here; ``run --namespace``; a bad foreach variable fails in
``self.next`` with Metaflow's words."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import FLOWS

FLOW = FLOWS / "cli_params_flow.py"


@pytest.mark.timeout(600)
@pytest.mark.parametrize("args, message", [
    (("run", "--dataset", "iris", "--epochs", "many"), "invalid value 'many' for --epochs"),
    (("run", "--dataset", "iris", "--shuffle", "maybe"), "invalid value 'maybe' for --shuffle"),
    (("run", "--dataset", "iris", "--grid", "{lr"), "invalid value '{lr' for --grid"),
    (("run", "--dataset", "iris", "--nope", "1"), "unknown option --nope for 'run'"),
    (("run",), "missing required parameter --dataset"),
    (("run", "--dataset", "iris", "--max-workers", "two"), "invalid value 'two' for --max-workers"),
    (("run", "--dataset", "iris", "extra"), "unexpected argument 'extra' for 'run'"),
    (("fly",), "unknown command 'fly'"),
    (("run", "--dataset", "iris", "--notes", "no-such-notes.txt"), "--notes: cannot read no-such-notes.txt"),
    (("--config-value", "settings", "{bad", "run", "--dataset", "iris"), "invalid JSON"),
    (("--config", "settings", "no-such.json", "run", "--dataset", "iris"), "cannot read"),
])
def test_bad_command_line_exits_2_like_metaflow(on_both, args, message):
    ours, theirs = on_both(FLOW, *args)
    assert theirs.returncode == 2, theirs.stderr[-2000:]
    assert ours.returncode == 2, ours.stderr
    lines = [ln for ln in ours.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], ours.stderr


@pytest.mark.timeout(600)
def test_failed_run_still_exits_1_like_metaflow(on_both):
    """The usage exit code is only for the command line: a run whose step fails exits 1 in both."""
    ours, theirs = on_both(FLOW, "run", "--dataset", "missing")
    assert theirs.returncode == ours.returncode == 1, (theirs.stderr[-2000:], ours.stderr)
    assert "no dataset named missing" in ours.stdout + ours.stderr


@pytest.mark.timeout(600)
def test_run_namespace_is_the_namespace_tasks_read_other_runs_in(flow_runner, metaflow, on_both):
    """``run --namespace NS``: a step reading another user's run through the client finds it, as
    in Metaflow; without the option the default namespace (``user:<me>``) hides it in both."""
    producer, consumer = FLOWS / "ns_producer_flow.py", FLOWS / "ns_consumer_flow.py"
    metaflow.run(producer, "run", extra_env={"METAFLOW_USER": "alice"})
    assert flow_runner(producer, "run", extra_env={"FLOWSCOPE_USER": "alice"}).returncode == 0

    ours, theirs = on_both(consumer, "run", "--namespace", "user:alice")
    assert theirs.returncode == 0, theirs.stdout[-3000:] + theirs.stderr[-3000:]
    assert ours.returncode == 0, ours.stdout[-2000:] + ours.stderr[-2000:]
    for out in (theirs.stdout + theirs.stderr, ours.stdout + ours.stderr):
        assert "ns user:alice value 42" in out

    ours, theirs = on_both(consumer, "run")
    assert theirs.returncode == ours.returncode == 1

    # "--namespace=" is the global namespace, as Metaflow's help says. (Metaflow 2.19 itself sets
    # it only in the runtime process: it hands "" to each task's ``step --namespace``, where
    # ``namespace("")`` matches nothing and the read fails with "Object not in namespace ''".)
    ours = flow_runner(consumer, "run", "--namespace=")
    assert ours.returncode == 0, ours.stdout[-2000:] + ours.stderr[-2000:]
    assert "ns None value 42" in ours.stdout + ours.stderr


@pytest.mark.timeout(600)
@pytest.mark.parametrize("mode, message", [
    ("empty", "Foreach iterator over shards in step start produced zero splits. Check your variable."),
    ("scalar", "Foreach variable self.shards in step start is not iterable. Please check details: "
               "'int' object is not iterable"),
    ("missing", "Foreach variable self.shards in step start does not exist. Check your variable."),
])
def test_bad_foreach_variable_fails_in_self_next_like_metaflow(on_both, mode, message):
    """Metaflow checks the foreach variable inside ``self.next``: the step fails at the user's
    ``self.next`` line with an InvalidNextException and these words (Metaflow's, without the
    asterisks it puts around names)."""
    ours, theirs = on_both(FLOWS / "foreach_misuse_flow.py", "run", "--mode", mode)
    assert theirs.returncode == ours.returncode == 1
    assert message in theirs.stdout + theirs.stderr
    out = ours.stdout + ours.stderr
    assert message in out and "InvalidNext" in out, out[-3000:]
    assert 'foreach_misuse_flow.py", line 18, in start' in out, out[-3000:]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("tags, message", [
    (("",), "Tags must not be empty string"),
    (("x" * 501,), "Tag is too long 501 > 500"),
    (tuple(f"t{i}" for i in range(51)), "Cannot increase size of tag set beyond 50"),
])
def test_bad_run_tags_are_refused_like_metaflow(on_both, db, tags, message):
    """``run --tag`` follows Metaflow's tag rules: the command fails (exit 1) before anything runs
    or is recorded."""
    args = ["run", "--dataset", "iris"] + [a for t in tags for a in ("--tag", t)]
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs")
        before = cur.fetchone()[0]
    ours, theirs = on_both(FLOW, *args)
    assert theirs.returncode == ours.returncode == 1, ours.stderr
    assert message in theirs.stdout + theirs.stderr
    assert ours.stderr.strip() == f"error: --tag: {message}"
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs")
        assert cur.fetchone()[0] == before


@pytest.mark.timeout(600)
def test_current_parameter_names_in_metaflow_order(on_both):
    """``current.parameter_names`` lists Parameters and Configs by name, in Metaflow's order (it
    walks ``dir()`` of the flow class: alphabetical), not in the order they are declared."""
    ours, theirs = on_both(FLOW, "run", "--dataset", "iris")
    assert theirs.returncode == 0, theirs.stdout[-3000:] + theirs.stderr[-3000:]
    assert ours.returncode == 0, ours.stderr[-2000:]
    line = "parameter_names ['batch', 'dataset', 'epochs', 'grid', 'notes', 'settings', 'shuffle']"
    assert line in theirs.stdout + theirs.stderr
    assert line in ours.stdout + ours.stderr, ours.stdout[-2000:]
