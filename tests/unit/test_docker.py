"""The container files as Compose and Docker read them (there is no Docker engine here to run
them): the image is built once and run by every Baton service, the compose file needs no
Compose newer than the ones in common use (no long `env_file:` syntax, 2.24+), the Slack and
Teams settings reach the replicas from a .env beside it, and volumes hold Baton's data in a
directory of its own, never over the image's own files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from baton.settings import PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def final_stage() -> list[str]:
    """The Dockerfile's instructions after its last FROM, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    last = max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    return lines[last + 1:]


def instruction(name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in final_stage()
            if line.split(None, 1)[0].upper() == name]


def baton_services() -> dict[str, dict[str, Any]]:
    services = compose()["services"]
    built = [s["image"] for s in services.values() if "build" in s]
    return {name: s for name, s in services.items() if s.get("image") in built}


def test_the_image_is_built_once_and_every_baton_service_runs_it() -> None:
    services = compose()["services"]
    builders = [name for name, service in services.items() if "build" in service]
    assert builders == ["migrate"]
    assert set(baton_services()) == {"migrate", "baton-1", "baton-2"}
    for name, service in baton_services().items():
        if name != "migrate":  # run what migrate built; never looked for in a registry
            assert service.get("pull_policy") == "never", name
            assert service["depends_on"]["migrate"] == \
                {"condition": "service_completed_successfully"}, name


def test_no_compose_feature_newer_than_the_versions_in_common_use() -> None:
    for name, service in compose()["services"].items():
        env_file = service.get("env_file", [])
        entries = env_file if isinstance(env_file, list) else [env_file]
        assert all(isinstance(entry, str) for entry in entries), \
            f"{name}: env_file as path/required needs Compose 2.24"
        assert not {"develop", "include", "models"} & set(service), name
    assert "include" not in compose()


def test_the_platform_settings_reach_every_replica_from_dot_env() -> None:
    wanted = {f"{PREFIX}{field.upper()}" for field in Settings.model_fields
              if field.startswith(("slack_", "teams_")) and field != "teams_local"}
    for name, service in baton_services().items():
        environment = service["environment"]
        for variable in wanted:
            assert environment.get(variable) == f"${{{variable}:-}}", (name, variable)


def test_volumes_hold_data_in_a_directory_of_its_own() -> None:
    volume_dirs = [path for line in instruction("VOLUME") for path in re.findall(r'"([^"]+)"',
                                                                                  line)]
    assert volume_dirs == ["/var/lib/baton"]
    data = volume_dirs[0]
    workdir = instruction("WORKDIR")[-1]
    assert not (workdir == data or workdir.startswith(data + "/") or data.startswith(workdir))
    environment = " ".join(instruction("ENV"))
    assert f"BATON_DATA_DIR={data}" in environment
    assert f"BATON_DATABASE_URL=sqlite+aiosqlite:///{data}/baton.db" in environment
    assert f"--home-dir {data}" not in " ".join(instruction("RUN"))  # not the user's home

    for name, service in baton_services().items():
        for volume in service["volumes"]:
            _source, target, *mode = volume.split(":")
            if mode == ["ro"]:  # a configuration file, read-only, outside the data
                assert target.startswith("/etc/baton/"), (name, volume)
            else:
                assert target == data or target.startswith(data + "/"), (name, volume)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"volume at `{data}`" in readme
