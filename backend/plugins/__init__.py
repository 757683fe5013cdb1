"""Plugins: discovery and validation of plugin folders, and serving their files."""
