"""Metaflow's configuration module by its name (``metaflow.metaflow_config``).

core_runtime's own settings live in ``contract.settings`` (FLOWSCOPE_*); this module holds the
values Metaflow extension packages add through their ``config`` extension point
(``metaflow_extensions.<org>.config.mfextinit_<org>``), which a flow reads as
``from core_runtime.metaflow_config import NAME`` — see ``core_runtime.extensions``.
"""
