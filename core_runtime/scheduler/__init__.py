"""The local scheduler: runs a flow's tasks in forked processes and records them in Postgres.

Modules: ``plan`` (what a task needs), ``transitions`` (which tasks follow a finished one),
``process`` (fork, pipes, result file), ``child`` (what happens inside the task process),
``runner`` (the event loop: launch, stream logs, heartbeat, retry, timeout, finish),
``console`` (progress lines), ``resume`` (cloning an earlier run), ``spin`` (one step, unrecorded).
"""
