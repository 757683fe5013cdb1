"""The plugin settings, declared into the shared registry (imported by backend.settings)."""

from __future__ import annotations

from core_runtime.settings import Setting, declare, parse_bool

declare(
    Setting("plugin_dirs", None, str,
            "Extra directories of plugins, separated by ':' (each subfolder with a manifest.json is "
            "a plugin); the built-in plugins/ folder is always searched."),
    Setting("plugins_disabled", None, str,
            "Comma-separated plugin ids to turn off (listed as disabled, files not served)."),
    Setting("plugins_allow_same_origin", False, parse_bool,
            "Let panel iframes run with the UI's origin (allow-same-origin). Off: panels are opaque "
            "and cannot read the UI's DOM, cookies or API directly."),
)

PLUGIN_SETTINGS = ("plugin_dirs", "plugins_disabled", "plugins_allow_same_origin")
