"""/api/-/plugins (every plugin found, with its error if any) and the plugins' static files.

Plugin files are served under /-/plugins/{id}/... (outside /api/, and a path no flow name can
take). A path that leaves the plugin's folder, a disabled or broken plugin: 404. Every file carries
a CSP that sandboxes it, so even opened directly (not in the UI's iframe) it has no access to the
UI's origin unless the operator allowed it.
"""

from __future__ import annotations

from aiohttp import web

from backend.api import respond
from backend.errors import not_found
from backend.keys import PLUGINS
from backend.plugins.manifest import PLUGINS_ROOT
from backend.routes import Route


def _csp(allow_same_origin: bool) -> str:
    sandbox = "sandbox allow-scripts" + (" allow-same-origin" if allow_same_origin else "")
    # No network from panels: their data comes from the host through the SDK (postMessage).
    return ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self'; connect-src 'none'; "
            f"frame-ancestors 'self'; base-uri 'none'; form-action 'none'; {sandbox}")


async def list_plugins(request: web.Request) -> web.Response:
    registry = request.app[PLUGINS]
    plugins = registry.scan()
    return respond.page(request, [p.as_json() for p in plugins], None,
                        allow_same_origin=registry.allow_same_origin)


async def plugin_file(request: web.Request) -> web.StreamResponse:
    registry = request.app[PLUGINS]
    plugin_id = request.match_info["id"]
    rel = request.match_info["path"]
    if plugin_id == "sdk":
        root = (PLUGINS_ROOT / "sdk").resolve()
    else:
        plugin = registry.get(plugin_id)
        if plugin is None:
            raise not_found(f"no such plugin (or it is disabled or invalid): {plugin_id}")
        root = plugin.folder.resolve()
    # resolve() follows symlinks and '..', so this also stops a symlink pointing out of the folder.
    candidate = root / "manifest.json"
    try:
        candidate = (root / rel).resolve()
        found = candidate.is_relative_to(root) and candidate.is_file()
    except (OSError, ValueError):   # a name too long, a NUL: no such file either
        found = False
    # The manifest is configuration (link templates may name internal hosts), not a panel asset:
    # it is only shown through /api/-/plugins.
    if not found or candidate == root / "manifest.json":
        raise not_found(f"no such file in plugin {plugin_id}: {rel[:200]}")
    headers = {"Content-Security-Policy": _csp(registry.allow_same_origin),
               "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache",
               "Referrer-Policy": "no-referrer"}
    return web.FileResponse(candidate, headers=headers)


ROUTES = [
    Route("/api/-/plugins", list_plugins,
          "Every plugin found: manifest, enabled, and the error of a bad one.", (), "list", "meta",
          operation="listPlugins", item="Plugin", envelope={"allow_same_origin": {"type": "boolean"}}),
    Route("/-/plugins/{id}/{path:.+}", plugin_file,
          "A file of a plugin (sandboxing CSP, nosniff); paths outside the plugin's folder are 404.",
          (), "bytes", "plugins", operation="getPluginFile"),
]
