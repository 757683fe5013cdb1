"""Manifest validation: every bad manifest is rejected with a message that names the field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from backend.plugins.manifest import PLUGINS_ROOT, ManifestError, load_manifest, validate_manifest
from backend.plugins.registry import PluginRegistry
from contract.settings import load_settings
from tests.plugins.plugin_helpers import panel_manifest, write_plugin


def link_manifest(url: str, **extra: Any) -> dict[str, Any]:
    return {"id": "links", "name": "Links", "version": "1", "kind": "link", "slots": ["task-details"],
            "links": [{"label": "Logs", "url": url}], **extra}


@pytest.mark.parametrize(("manifest", "message"), [
    ({k: v for k, v in panel_manifest("p").items() if k != "slots"}, "slots: is required"),
    (panel_manifest("p", slots=["sidebar"]), "slots[0]: 'sidebar' is not one of"),
    (panel_manifest("p", slots=[]), "slots: [] should be non-empty"),
    (panel_manifest("Bad_Id"), "id: 'Bad_Id' does not match"),
    (panel_manifest("sdk"), "id: "),
    (panel_manifest("p", kind="widget"), "kind: 'widget' is not one of"),
    (panel_manifest("p", height="tall"), "height: 'tall' is not of type 'integer'"),
    (panel_manifest("p", colour="red"), "(top level): unknown field ('colour' was unexpected)"),
    ({k: v for k, v in panel_manifest("p").items() if k != "entry"}, "entry: is required"),
    (panel_manifest("p", entry="../../etc/passwd.html"), "entry: '../../etc/passwd.html' does not match"),
    (panel_manifest("p", links=[{"label": "x", "url": "https://x"}]), "links: only link plugins"),
    (link_manifest("javascript:alert(1)"), "links[0].url: 'javascript:alert(1)' does not match"),
    (link_manifest("https://x/?id={task.secret.thing}"), "links[0].url: unknown placeholder {task.secret.thing}"),
    (link_manifest("https://x/", slots=["run-tab"]), "slots[0]: 'run-tab' is not one of"),
    ({**link_manifest("https://x/"), "links": [{"label": "x"}]}, "links[0].url: is required"),
    ({**link_manifest("https://x/"), "links": [{"label": "x", "url": "https://x", "slots": ["home-header"]}]},
     "links[0].slots: 'home-header' is not among the plugin's slots"),
    ([1, 2], "(top level): [1, 2] is not of type 'object'"),
])
def test_bad_manifest_names_the_field(manifest: Any, message: str) -> None:
    with pytest.raises(ManifestError) as info:
        validate_manifest(manifest)
    assert str(info.value).startswith(message), str(info.value)


def test_good_link_manifest_with_every_kind_of_placeholder() -> None:
    url = ("https://x/?f={flow}&r={run}&s={step}&t={task}&p={pathspec}&u={run.user}"
           "&c={task.metadata.container_id}&lr={run.parameters.learning_rate}&st={task.status}")
    assert validate_manifest(link_manifest(url))["links"][0]["url"] == url


def test_invalid_json_and_missing_entry_file(tmp_path: Path) -> None:
    broken = write_plugin(tmp_path, "broken", '{"id": "broken",')
    with pytest.raises(ManifestError, match=r"manifest.json: invalid JSON at line 1 column"):
        load_manifest(broken)
    no_entry = write_plugin(tmp_path, "noentry", panel_manifest("noentry", entry="main.html"))
    with pytest.raises(ManifestError, match=r"^entry: file 'main.html' not found"):
        load_manifest(no_entry)


def test_shipped_plugins_are_valid() -> None:
    found = PluginRegistry.from_settings(load_settings()).scan()
    by_id = {p.id: p for p in found}
    assert {"external-links", "step-durations", "skeleton"} <= set(by_id)
    assert all(p.error is None for p in found), [(p.id, p.error) for p in found]
    # The examples that only make sense once edited ship turned off.
    assert by_id["step-durations"].enabled and not by_id["skeleton"].enabled
    schema = json.loads((PLUGINS_ROOT / "manifest.schema.json").read_text())
    assert set(schema["properties"]["slots"]["items"]["enum"]) == {"run-header", "task-details", "run-tab",
                                                                   "home-header"}


def test_registry_keeps_bad_plugins_with_their_error(tmp_path: Path) -> None:
    write_plugin(tmp_path, "good", panel_manifest("good"))
    write_plugin(tmp_path, "bad", panel_manifest("bad", slots=["nowhere"]))
    write_plugin(tmp_path, "twin", panel_manifest("good"))
    (tmp_path / "not-a-plugin").mkdir()
    settings = load_settings().replace(plugin_dirs=f"{tmp_path}:{tmp_path / 'missing'}",
                                          plugins_disabled="good")
    found = {p.folder.name: p for p in PluginRegistry.from_settings(settings).scan() if p.source != "builtin"}
    assert set(found) == {"good", "bad", "twin", "missing"}
    assert found["good"].error is None and not found["good"].enabled
    assert found["bad"].error is not None and found["bad"].error.startswith("slots[0]: 'nowhere'")
    assert found["twin"].error is not None and "already used" in found["twin"].error
    assert found["missing"].error == f"plugin directory '{tmp_path / 'missing'}' does not exist"
