"""Requests checked against Google's discovery documents, the way Google's front end checks them.

google-api-python-client ships the discovery documents of Sheets v4, Calendar v3 and Gmail v1.
A request whose method a document describes (matched by HTTP method and path template) is
refused with Google's 400 INVALID_ARGUMENT when it carries a query parameter the method does not
define, or a body field its request schema does not define, so a typo in a request formsync
builds fails in the tests rather than against Google. Routes no document describes (the
emulator's /token) are not checked. Where a document is loose (`any`, `additionalProperties`
maps, objects without `properties`), anything is accepted.

The wording, as Google answers it:
  - query: `Invalid JSON payload received. Unknown name "uploadType": Cannot bind query
    parameter. Field 'uploadType' could not be found in request message.` (Gmail drafts.create
    on its non-upload path, r-lib/gmailr#72; the same sentence for `refresh_tokens` is among
    the errors of firebase.google.com/docs/reference/rest/auth, "Exchange a refresh token").
  - body, top level: `Invalid JSON payload received. Unknown name "requests": Cannot find
    field.` (Sheets, googleapis/google-api-nodejs-client#1380).
  - body, nested: `Invalid JSON payload received. Unknown name "DeleteRange" at 'requests[0]':
    Cannot find field.` with a google.rpc.BadRequest detail whose fieldViolation has that
    `field` (Sheets through googleapiclient, googleapis/google-api-python-client#930). The path
    names proto fields in snake_case: `at 'requests[0].update_sheet_properties.properties'`
    (theoephraim/node-google-spreadsheet#523); a map entry is `<map>[<index>].value`, and several
    unknown names are joined by newlines, one fieldViolation each (the Gemini refusals quoted in
    decolua/9router#2309, and Docs in googleapis/google-api-php-client-services#163); a top-level
    one has no `field` (decolua/9router#1876).
Field names are accepted in lowerCamelCase or as the original proto name, as the proto3 JSON
mapping requires of parsers (protobuf.dev, Language Guide (proto3), "JSON Mapping").
"""

from __future__ import annotations

import functools
import json
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from formsync.emulator.server import ApiError, ApiRequest

DOCUMENTS = {"sheets": ("sheets", "v4"), "calendar": ("calendar", "v3"), "gmail": ("gmail", "v1")}
# Global in every document, yet refused off an upload path (r-lib/gmailr#72).
_UPLOAD_PARAMETERS = frozenset({"uploadType", "upload_protocol"})
_INVALID = "Invalid JSON payload received. "
_TEMPLATE_PART = re.compile(r"\{(\+?)([^}]+)\}")

Schema = Mapping[str, Any]


@dataclass(frozen=True)
class Method:
    """One discovery method on one path (its plain path, or its media-upload path)."""

    id: str  # e.g. "sheets.spreadsheets.values.batchGet"
    http_method: str
    pattern: re.Pattern[str]
    literal: int  # characters outside {…}: when several templates match, the longest wins
    parameters: frozenset[str]  # the query parameters it takes, the global ones included
    request: str | None  # the schema of its body, if it takes one


@dataclass(frozen=True)
class Document:
    methods: tuple[Method, ...]
    schemas: Mapping[str, Schema]

    def method(self, http_method: str, path: str) -> Method | None:
        """The method a request on this raw (percent-encoded) path calls, if described."""
        found = [m for m in self.methods
                 if m.http_method == http_method and m.pattern.fullmatch(path)]
        return max(found, key=lambda m: m.literal, default=None)

    def unknown_fields(self, schema: str, body: Any) -> list[tuple[str, str]]:
        """(path, name) of each body field the schema does not define, in body order."""
        return list(_unknown(self.schemas, {"$ref": schema}, body, ""))


@functools.cache
def document(api: str) -> Document | None:
    """The indexed discovery document of an emulated API ("sheets", "calendar", "gmail")."""
    if api not in DOCUMENTS:
        return None
    from googleapiclient.discovery_cache import get_static_doc

    text = get_static_doc(*DOCUMENTS[api])
    return None if text is None else _index(json.loads(text))


def check_request(route_name: str, request: ApiRequest) -> None:
    """Raise Google's 400 for an unknown query parameter or body field, else do nothing."""
    doc = document(route_name.partition(".")[0])
    method = doc.method(request.method, request.path) if doc else None
    if doc is None or method is None:
        return
    violations = [{"description": _unbound(name)} for name in request.query
                  if name not in method.parameters]
    body = _json_body(request) if method.request and not violations else None
    if method.request and body is not None:
        violations = [_cannot_find(path, name)
                      for path, name in doc.unknown_fields(method.request, body)]
    if violations:
        message = "\n".join(violation["description"] for violation in violations)
        raise ApiError(400, message, "INVALID_ARGUMENT", details=[
            {"@type": "type.googleapis.com/google.rpc.BadRequest",
             "fieldViolations": violations}])


# ---------------------------------------------------------------------------------------------
# Indexing a document


def _index(raw: Mapping[str, Any]) -> Document:
    base = urllib.parse.urlsplit(raw.get("rootUrl", "/")).path + raw.get("servicePath", "")
    global_parameters = frozenset(raw.get("parameters", {}))
    methods: list[Method] = []
    for method in _all_methods(raw):
        own = frozenset(method.get("parameters", {}))
        request = method.get("request", {}).get("$ref")
        methods.append(_method(method, base + method["path"],
                               own | (global_parameters - _UPLOAD_PARAMETERS), request))
        for protocol in method.get("mediaUpload", {}).get("protocols", {}).values():
            methods.append(_method(method, protocol["path"], own | global_parameters, request))
    return Document(tuple(methods), raw.get("schemas", {}))


def _all_methods(resource: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from resource.get("methods", {}).values()
    for child in resource.get("resources", {}).values():
        yield from _all_methods(child)


def _method(method: Mapping[str, Any], template: str, parameters: frozenset[str],
            request: str | None) -> Method:
    # RFC 6570: {name} expands without "/", {+name} may contain one.
    regex, literal, end = "", 0, 0
    for part in _TEMPLATE_PART.finditer(template):
        regex += re.escape(template[end:part.start()]) + (".+" if part[1] else "[^/]+")
        literal += part.start() - end
        end = part.end()
    regex += re.escape(template[end:])
    return Method(method["id"], method["httpMethod"], re.compile(regex),
                  literal + len(template) - end, parameters, request)


# ---------------------------------------------------------------------------------------------
# Walking a body


def _unknown(schemas: Mapping[str, Schema], schema: Schema, value: Any,
             path: str) -> Iterator[tuple[str, str]]:
    schema = schemas.get(schema["$ref"], {}) if "$ref" in schema else schema
    entries = schema.get("additionalProperties")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            yield from _unknown(schemas, schema["items"], item, f"{path}[{index}]")
    elif isinstance(value, dict) and "properties" in schema:
        yield from _unknown_properties(schemas, schema, value, path)
    elif isinstance(value, dict) and isinstance(entries, dict):
        for index, item in enumerate(value.values()):
            yield from _unknown(schemas, entries, item, f"{path}[{index}].value")


def _unknown_properties(schemas: Mapping[str, Schema], schema: Schema, value: dict[str, Any],
                        path: str) -> Iterator[tuple[str, str]]:
    fields: Mapping[str, Schema] = schema["properties"]
    for key, item in value.items():
        name = key if key in fields else _camel(key)
        if name in fields:
            yield from _unknown(schemas, fields[name], item,
                                f"{path}.{_snake(name)}" if path else _snake(name))
        elif "additionalProperties" not in schema:
            yield path, key


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


# ---------------------------------------------------------------------------------------------
# Google's wording


def _json_body(request: ApiRequest) -> Any:
    content_type = request.header("Content-Type")
    if not request.body or (content_type and "json" not in content_type):
        return None
    try:
        return json.loads(request.body)
    except ValueError:
        return None  # the handler answers Google's parse error


def _unbound(name: str) -> str:
    return (f'{_INVALID}Unknown name "{name}": Cannot bind query parameter. '
            f"Field '{name}' could not be found in request message.")


def _cannot_find(path: str, name: str) -> dict[str, str]:
    if not path:
        return {"description": f'{_INVALID}Unknown name "{name}": Cannot find field.'}
    return {"field": path,
            "description": f"{_INVALID}Unknown name \"{name}\" at '{path}': Cannot find field."}
