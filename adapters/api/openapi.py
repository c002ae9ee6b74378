"""The OpenAPI 3.1 document of /api/v1, made from the operations below and the JSON Schema of
the pydantic models that validate each request, and a reference page rendered from it."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from adapters.api import models as m
from bot.clients import Scope
from bot.items import Kind, State

PREFIX = "/api/v1"


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    team: str | None = Field(None, max_length=128, description="Only this team's items (the "
                                                                "token's team).")
    state: State | None = Field(None, description="Only items in this state.")
    kind: Kind | None = None
    updated_since: datetime | None = Field(None, description="Only items changed at or after "
                                                             "this time (RFC 3339).")
    cursor: str | None = Field(None, max_length=10, description="`next_cursor` of the page "
                                                                "before.")
    limit: int = Field(50, ge=1, le=100)


class GetQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    wait: float = Field(0, ge=0, le=120, description=(
        "Seconds to wait for the item to change before answering (long-poll): the answer "
        "comes as soon as it changes (a state, a decision, a comment), or at the timeout with "
        "the item as it is."))
    version: int | None = Field(None, ge=0, description=(
        "With `wait`: answer at once if the item's version is already past this one."))


class IdPath(BaseModel):
    id: int = Field(ge=1, le=2_147_483_647, description="The item's number.")


class WebhookPath(BaseModel):
    id: int = Field(ge=1, le=2_147_483_647, description="The webhook's id.")


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str
    summary: str
    scope: Scope
    body: Any = None  # a model or a TypeAdapter
    query: type[BaseModel] | None = None
    path_params: type[BaseModel] | None = None
    response: type[BaseModel] | None = m.ItemOut
    status: int = 200
    errors: tuple[int, ...] = (401, 403, 429)
    description: str = ""
    idempotent_key: bool = False


NEW_ITEM = TypeAdapter(m.NewItem)

OPERATIONS: tuple[Operation, ...] = (
    Operation("create_item", "post", "/items", "Raise a handoff, exception or approval",
              Scope.WRITE, body=NEW_ITEM, status=201, errors=(401, 403, 409, 413, 422, 429),
              idempotent_key=True, description=(
                  "The item is raised as the token's owner (or the client itself), shows on "
                  "the card and the trail as made by this client, and reaches people in chat "
                  "like any other. A repeated request with the same `Idempotency-Key` answers "
                  "200 with the first result and raises nothing new.")),
    Operation("list_items", "get", "/items", "List the items this token may see", Scope.READ,
              query=ListQuery, response=m.ItemPage, errors=(401, 403, 422, 429),
              description="Its team's items and those it raised, by number, a page at a time."),
    Operation("get_item", "get", "/items/{id}", "Get an item with its decisions and trail",
              Scope.READ, query=GetQuery, path_params=IdPath, errors=(401, 403, 404, 422, 429),
              description="With `wait`, a long-poll: see the parameter."),
    Operation("comment_item", "post", "/items/{id}/comments", "Comment on an item",
              Scope.WRITE, body=m.Comment, path_params=IdPath,
              errors=(401, 403, 404, 409, 413, 422, 429)),
    Operation("cancel_item", "post", "/items/{id}/cancel", "Cancel an item it raised",
              Scope.WRITE, body=m.Cancel, path_params=IdPath,
              errors=(401, 403, 404, 409, 413, 422, 429)),
    Operation("approve_item", "post", "/items/{id}/approve", "Approve, as the token's owner",
              Scope.DECIDE, body=m.Approve, path_params=IdPath,
              errors=(401, 403, 404, 409, 413, 422, 429),
              description="Only for tokens granted `items:decide`, acting for a person who is "
                          "an approver whose turn it is."),
    Operation("reject_item", "post", "/items/{id}/reject", "Reject, as the token's owner",
              Scope.DECIDE, body=m.Reject, path_params=IdPath,
              errors=(401, 403, 404, 409, 413, 422, 429),
              description="As approve; a reason (`comment`) is required."),
    Operation("list_webhooks", "get", "/webhooks", "List this token's webhooks",
              Scope.WEBHOOKS, response=m.WebhookList),
    Operation("create_webhook", "post", "/webhooks", "Register a callback URL",
              Scope.WEBHOOKS, body=m.NewWebhook, response=m.WebhookOut, status=201,
              errors=(401, 403, 404, 413, 422, 429), description=(
                  "Signed deliveries of item.created, item.changed, approval.decided, "
                  "exception.resolved and sla.breached, for every item the token may see or "
                  "for one item.")),
    Operation("delete_webhook", "delete", "/webhooks/{id}", "Remove a webhook",
              Scope.WEBHOOKS, path_params=WebhookPath, response=None, status=204,
              errors=(401, 403, 404, 429)),
)


def _schema_of(model: Any) -> tuple[str, Any]:
    if isinstance(model, TypeAdapter):
        return "NewItem", model
    return model.__name__, TypeAdapter[Any](model)


@cache
def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (built once)."""
    inputs: list[tuple[str, Any]] = []
    for op in OPERATIONS:
        if op.body is not None:
            inputs.append(_schema_of(op.body))
    outputs = [m.ItemOut, m.ItemPage, m.WebhookOut, m.WebhookList, m.Problem]
    keyed: list[tuple[str, Literal["validation", "serialization"], TypeAdapter[Any]]] = [
        (name, "validation", adapter) for name, adapter in inputs]
    keyed += [(model.__name__, "serialization", TypeAdapter[Any](model)) for model in outputs]
    refs, defs = TypeAdapter.json_schemas(
        keyed, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    ref_of: dict[str, dict[str, Any]] = {}
    for (name, _mode), schema in refs.items():
        if "$ref" in schema:
            ref_of[name] = schema
        else:
            schemas[name] = schema
            ref_of[name] = {"$ref": f"#/components/schemas/{name}"}
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(PREFIX + op.path, {})[op.method] = _operation(op, ref_of, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Baton API", "version": "1.0.0", "description": (
            "Raise handoffs, exceptions and approvals from pipelines and AI agents; people "
            "decide in chat; get the decision back by long-poll or signed webhook. Every "
            "call needs `Authorization: Bearer <token>` (`baton token create`). Errors are "
            "RFC 9457 problem details (`application/problem+json`).")},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "A token from `baton token create`."}},
            "responses": {str(code): _problem(code) for code in
                          (400, 401, 403, 404, 409, 413, 422, 429)},
        },
        "security": [{"bearer": []}],
    }


def _problem(code: int) -> dict[str, Any]:
    from adapters.api.errors import TITLES

    headers: dict[str, Any] = {}
    if code == 429:
        headers["Retry-After"] = {"description": "Seconds to wait before retrying.",
                                  "schema": {"type": "integer"}}
    if code == 401:
        headers["WWW-Authenticate"] = {"schema": {"type": "string"}}
    return {"description": TITLES[code], "headers": headers, "content": {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _parameters(model: type[BaseModel], where: str,
                schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.get("$defs", {}))
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema["properties"].items():
        description = prop.pop("description", "")
        prop.pop("title", None)
        params.append({"name": name, "in": where, "required": where == "path" or
                       name in required, "schema": prop, "description": description})
    return params


def _operation(op: Operation, ref_of: dict[str, dict[str, Any]],
               schemas: dict[str, Any]) -> dict[str, Any]:
    also = " (or `items:write`, `items:decide`)." if op.scope is Scope.READ else "."
    out: dict[str, Any] = {"operationId": op.id, "summary": op.summary,
                           "description": (op.description + f"\n\nScope: `{op.scope.value}`"
                                           + also).strip(),
                           "tags": ["webhooks" if "webhook" in op.id else "items"]}
    params: list[dict[str, Any]] = []
    if op.path_params is not None:
        params += _parameters(op.path_params, "path", schemas)
    if op.query is not None:
        params += _parameters(op.query, "query", schemas)
    if op.idempotent_key:
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                       "description": "Repeat a request safely: the same key and body give "
                                      "the first result; a different body gives 422."})
    if params:
        out["parameters"] = params
    if op.body is not None:
        name, _ = _schema_of(op.body)
        out["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": ref_of[name]}}}
    responses: dict[str, Any] = {}
    if op.response is not None:
        responses[str(op.status)] = {"description": "OK", "content": {
            "application/json": {"schema": ref_of[op.response.__name__]}}}
        if op.idempotent_key:
            responses["200"] = {"description": "A replay: the first result of this key.",
                                "content": {"application/json": {
                                    "schema": ref_of[op.response.__name__]}}}
    else:
        responses[str(op.status)] = {"description": "Done"}
    for code in op.errors:
        responses[str(code)] = {"$ref": f"#/components/responses/{code}"}
    out["responses"] = responses
    return out


def reference_html() -> str:
    """A readable page of every operation, its parameters, body and answers."""
    doc = document()
    schemas = doc["components"]["schemas"]
    parts = ["<!doctype html><html lang=en><meta charset=utf-8>",
             "<title>Baton API reference</title>",
             "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:62rem;margin:2rem auto;"
             "padding:0 1rem;color:#222}code,pre{background:#f4f4f4;padding:0 .2em}"
             "h2{border-top:1px solid #ddd;padding-top:1rem}table{border-collapse:collapse}"
             "td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;"
             "vertical-align:top}.m{font-weight:bold;text-transform:uppercase}</style>",
             f"<h1>{html.escape(doc['info']['title'])}</h1>",
             f"<p>{html.escape(doc['info']['description'])}</p>",
             f"<p>Machine-readable: <a href='{PREFIX}/openapi.json'>openapi.json</a> "
             "(OpenAPI 3.1).</p>"]
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            parts.append(f"<h2 id='{op['operationId']}'><span class=m>{method}</span> "
                         f"<code>{html.escape(path)}</code></h2>")
            parts.append(f"<p><b>{html.escape(op['summary'])}</b></p>")
            parts.append(f"<p>{html.escape(op['description'])}</p>")
            if op.get("parameters"):
                parts.append("<table><tr><th>parameter</th><th>in</th><th>type</th>"
                             "<th>about</th></tr>")
                for p in op["parameters"]:
                    parts.append(f"<tr><td><code>{html.escape(p['name'])}</code></td>"
                                 f"<td>{p['in']}</td><td>{html.escape(_type(p['schema']))}"
                                 f"</td><td>{html.escape(p.get('description', ''))}</td></tr>")
                parts.append("</table>")
            body = op.get("requestBody")
            if body:
                ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
                parts.append(f"<p>Body (JSON): <a href='#schema-{ref}'>{ref}</a></p>")
            answers = ", ".join(sorted(op["responses"]))
            parts.append(f"<p>Answers: {answers}</p>")
    parts.append("<h2>Schemas</h2>")
    for name, schema in schemas.items():
        parts.append(f"<h3 id='schema-{html.escape(name)}'>{html.escape(name)}</h3>")
        if schema.get("description"):
            parts.append(f"<p>{html.escape(schema['description'])}</p>")
        if "oneOf" in schema:
            kinds = ", ".join(_type(s) for s in schema["oneOf"])
            parts.append(f"<p>One of: {html.escape(kinds)}, told apart by "
                         f"<code>kind</code>.</p>")
        props = schema.get("properties", {})
        if props:
            required = set(schema.get("required", []))
            parts.append("<table><tr><th>field</th><th>type</th><th>about</th></tr>")
            for field_name, prop in props.items():
                star = " (required)" if field_name in required else ""
                parts.append(f"<tr><td><code>{html.escape(field_name)}</code>{star}</td>"
                             f"<td>{html.escape(_type(prop))}</td>"
                             f"<td>{html.escape(prop.get('description', ''))}</td></tr>")
            parts.append("</table>")
    return "\n".join(parts) + "\n</html>\n"


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[1]
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}))}"
    kind = schema.get("type", "any")
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)
