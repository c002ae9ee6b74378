"""`baton teams package`: the Teams app package to upload (manifest.json and its two icons in
one zip), made from adapters/teams/manifest.json with this Baton's app id and public domain.

The manifest in the repository carries placeholders (the nil GUID for the app id,
baton.example.com for the domain); the package replaces them and checks the result against
Teams' own manifest schema (1.29, shipped beside it) before writing anything.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import zipfile
from importlib import metadata, resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from baton.settings import Settings

MANIFEST = "manifest.json"
ICONS = ("color.png", "outline.png")
SCHEMA = "schemas/MicrosoftTeams.v1.29.schema.json"
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
PLACEHOLDER_DOMAIN = "baton.example.com"
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
#: Zip entries dated 1980-01-01 (zip's epoch): the same settings make the same file.
_EPOCH = (1980, 1, 1, 0, 0, 0)


class PackageError(Exception):
    """Why no package was written, in one line."""


def app_id(settings: Settings) -> str:
    """BATON_TEAMS_APP_ID, which must be the bot's Microsoft App ID (a GUID)."""
    given = (settings.teams_app_id or "").strip()
    if not given:
        raise PackageError("BATON_TEAMS_APP_ID is not set: the package needs the bot's "
                           "Microsoft App ID (Azure Bot → Configuration).")
    if not _GUID.fullmatch(given) or given == PLACEHOLDER_ID:
        raise PackageError(f"BATON_TEAMS_APP_ID: expected the bot's Microsoft App ID, a GUID "
                           f"like 1b4e28ba-2fa1-11d2-883f-0016d3cca427, got {given!r}")
    return given.lower()


def domain(given: str | None, settings: Settings) -> str:
    """The host name Teams reaches Baton at: --domain (a name or an https URL), else the
    host of BATON_PUBLIC_URL."""
    if given is None and settings.public_url is None:
        raise PackageError("No domain for the app: give --domain baton.example.com or set "
                           "BATON_PUBLIC_URL=https://baton.example.com.")
    source = "--domain" if given is not None else "BATON_PUBLIC_URL"
    text = (given if given is not None else settings.public_url or "").strip()
    host = _host(text)
    if host is None:
        raise PackageError(f"{source}: expected a public host name such as baton.example.com "
                           f"(or an https:// address), got {text!r}")
    return host


def _host(text: str) -> str | None:
    """The DNS name in `text` (a bare name or an https URL), or None if it is not one Teams
    could reach: no IP addresses, no single-label names, no wildcards."""
    if "://" in text:
        try:
            parts = urlsplit(text)
            name = parts.hostname if parts.scheme == "https" and not parts.username else None
        except ValueError:
            return None
    else:
        name = text
    if not name or name == PLACEHOLDER_DOMAIN:
        return None
    try:
        name = name.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or labels[-1].isdigit():
        return None
    return name if all(_LABEL.fullmatch(label) for label in labels) else None


def template() -> dict[str, Any]:
    """adapters/teams/manifest.json, as shipped."""
    found: dict[str, Any] = json.loads(_resource(MANIFEST).decode("utf-8"))
    return found


def _resource(name: str) -> bytes:
    return resources.files("adapters.teams").joinpath(name).read_bytes()


def manifest(base: dict[str, Any], app: str, host: str, *, website: str | None = None,
             version: str | None = None) -> dict[str, Any]:
    """The template with this app id (the app's and the bot's) and domain; the developer's
    pages at `website` (default: https://<domain>/)."""
    text = json.dumps(base).replace(PLACEHOLDER_ID, app)
    filled: dict[str, Any] = json.loads(text)
    page = website or f"https://{host}/"
    filled["developer"] |= {"websiteUrl": page, "privacyUrl": page, "termsOfUseUrl": page}
    filled["validDomains"] = [host]
    if version:
        filled["version"] = version
    return filled


def check(found: dict[str, Any]) -> None:
    """PackageError naming the first place where `found` breaks Teams' manifest schema."""
    import jsonschema

    schema = json.loads(_resource(SCHEMA).decode("utf-8"))
    error = jsonschema.exceptions.best_match(jsonschema.Draft4Validator(schema).iter_errors(found))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "the manifest"
        raise PackageError(f"The manifest would not pass Teams' 1.29 schema: {where}: "
                           f"{error.message}")


def write(out: Path, found: dict[str, Any]) -> None:
    """The zip: manifest.json and the icons at its root, as Teams wants them. Written beside
    `out` first and moved into place, so a failure leaves no half-written package."""
    entries = [(MANIFEST, (json.dumps(found, indent=2, ensure_ascii=False) + "\n").encode())]
    entries += [(icon, _resource(icon)) for icon in ICONS]
    folder = out.parent if str(out.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=".baton-teams-", suffix=".zip", dir=folder)
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for name, data in entries:
                entry = zipfile.ZipInfo(name, date_time=_EPOCH)
                entry.compress_type = zipfile.ZIP_DEFLATED
                entry.external_attr = 0o644 << 16
                archive.writestr(entry, data)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def package(settings: Settings, out: Path, *, domain_name: str | None = None,
            website: str | None = None) -> dict[str, Any]:
    """Write the package to `out`; return the manifest it holds. PackageError if it cannot."""
    app = app_id(settings)
    host = domain(domain_name, settings)
    if website is not None and ("://" not in website or _host(website) is None):
        raise PackageError(f"--website: expected an https:// address, got {website!r}")
    found = manifest(template(), app, host, website=website, version=_version())
    check(found)
    try:
        write(out, found)
    except OSError as exc:
        raise PackageError(f"Cannot write {out}: {exc.strerror or exc}") from None
    return found


def _version() -> str | None:
    try:
        return metadata.version("baton")
    except metadata.PackageNotFoundError:
        return None


def command(settings: Settings, args: argparse.Namespace) -> int:
    """`baton teams package`: 0 with the package written, 2 with one line saying why not."""
    try:
        found = package(settings, args.out, domain_name=args.domain, website=args.website)
    except PackageError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"Wrote {args.out}: the Teams app for bot {found['id']} at {found['validDomains'][0]}"
          f" (version {found['version']}). Upload it in Teams: Apps → Manage your apps → "
          f"Upload an app.")
    return 0
