"""Finding plugins: the built-in plugins/ folder plus the folders named by FLOWSCOPE_PLUGIN_DIRS.

Every subfolder with a manifest.json is a plugin. A bad one is kept in the list with its error
(never silently skipped), so the plugins page can say what to fix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backend.plugins.manifest import PLUGINS_ROOT, ManifestError, load_manifest
from contract.settings import Settings


@dataclass
class Plugin:
    id: str
    folder: Path
    source: str                      # "builtin" or the configured directory it came from
    manifest: dict[str, Any] | None = None
    error: str | None = None
    enabled: bool = True

    @property
    def usable(self) -> bool:
        return self.manifest is not None and self.error is None and self.enabled

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "folder": str(self.folder), "source": self.source,
                                "enabled": self.enabled, "error": self.error}
        if self.manifest is not None:
            data["manifest"] = self.manifest
            if self.manifest["kind"] == "panel":
                data["entry_url"] = f"/-/plugins/{self.id}/{self.manifest['entry']}"
        return data


@dataclass
class PluginRegistry:
    roots: list[tuple[Path, str]]
    disabled: frozenset[str]
    allow_same_origin: bool
    plugins: list[Plugin] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: Settings) -> PluginRegistry:
        roots: list[tuple[Path, str]] = [(PLUGINS_ROOT, "builtin")]
        for raw in (settings.plugin_dirs or "").split(os.pathsep):
            if raw.strip():
                roots.append((Path(raw.strip()).expanduser(), raw.strip()))
        disabled = frozenset(p.strip() for p in (settings.plugins_disabled or "").split(",") if p.strip())
        return cls(roots, disabled, settings.plugins_allow_same_origin)

    def scan(self) -> list[Plugin]:
        """Re-reads every root (cheap: a few small files), so a new plugin shows without a restart."""
        found: list[Plugin] = []
        by_id: dict[str, Plugin] = {}
        for root, source in self.roots:
            if not root.is_dir():
                found.append(Plugin(id=root.name or str(root), folder=root, source=source,
                                    error=f"plugin directory {str(root)!r} does not exist"))
                continue
            for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
                # plugins/sdk holds the SDK, not a plugin.
                if not (folder / "manifest.json").exists():
                    continue
                plugin = self._load(folder, source)
                if plugin.manifest is not None and plugin.id in by_id:
                    plugin.error = f"id: {plugin.id!r} is already used by {by_id[plugin.id].folder}"
                elif plugin.manifest is not None:
                    by_id[plugin.id] = plugin
                found.append(plugin)
        self.plugins = found
        return found

    def _load(self, folder: Path, source: str) -> Plugin:
        try:
            manifest = load_manifest(folder)
        except ManifestError as exc:
            return Plugin(id=folder.name, folder=folder, source=source, error=str(exc))
        return Plugin(id=manifest["id"], folder=folder, source=source, manifest=manifest,
                      enabled=manifest.get("enabled", True) and manifest["id"] not in self.disabled)

    def get(self, plugin_id: str) -> Plugin | None:
        """The usable plugin with this id; an unknown id triggers a rescan (a plugin just added)."""
        for attempt in range(2):
            if attempt:
                self.scan()
            for plugin in self.plugins:
                if plugin.id == plugin_id:
                    return plugin if plugin.usable else None
        return None
