"""Metaflow's ``metaflow.plugins`` namespace on core_runtime: modules a flow or an extension
imports by Metaflow's path (``core_runtime.plugins.frameworks.pytorch``). A Metaflow extension
may add modules here or replace one (``__mf_promote_submodules__``, see ``core_runtime.extensions``).
"""
