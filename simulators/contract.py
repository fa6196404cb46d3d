"""A house's published API document as the contract its simulator is held to.

``simulators/contracts/`` holds copies of the houses' own OpenAPI documents (JSON or YAML,
OpenAPI 3.0 or 3.1) and webhook descriptions (an OpenAPI 3.1 ``webhooks`` block or an
AsyncAPI 2.x/3.x document), copied from the product reference so the repository never reads
a path outside itself. ``Contract`` checks traffic against one of them with ``openapi-core``
(requests and answers) and ``jsonschema`` (webhook payloads and single components):

- ``request_problems(...)`` lists what the document finds wrong with a request the simulator
  received (unknown path or method, parameters, body). The simulator answers a request with
  problems with its house's own documented error; credentials are left to the simulator,
  which knows the house's answer to a wrong key.
- ``check_response(...)`` raises ``ContractViolation`` when an answer breaks the document. A
  simulator records the violation (see ``simulators.common``) so the test that caused it fails:
  a simulator that drifts from its house is a bug in the test suite, not a warning.
- ``check_webhook(...)`` and ``check_schema(...)`` raise ``ContractViolation`` for a webhook
  payload (or a component) the document rejects.

The simulator stands in for the house's first documented server, so requests are matched as if
they had been sent there, whatever port the simulator listens on (openapi-core's plain
``MockRequest``/``MockResponse`` carry them). openapi-core is given a copy of the document with
changes that do not change what conforms: no ``security`` requirements (credentials are the
simulator's to check, with the house's own 401), and no list-valued ``type`` where a parameter
reads it -- ``["string"]`` becomes ``"string"`` everywhere, a parameter's ``[T, "null"]``
becomes ``T`` and a ``null`` default no default (a query value is never JSON null, and
openapi-core 0.23 cannot deserialise a parameter whose ``type`` is a list).
"""
from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import yaml
from jsonschema import Draft7Validator, FormatChecker
from openapi_core import Config, OpenAPI
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse
from openapi_core.validation.request.exceptions import (
    MissingRequiredRequestBody,
    ParameterValidationError,
    SecurityValidationError,
)
from openapi_core.validation.response.exceptions import DataValidationError
from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7, DRAFT202012

#: where the copied house documents live
CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"

#: base URI under which a document's own ``#/...`` references resolve
_DOCUMENT_URI = "urn:house-document"


def _escape(name: str) -> str:
    """``name`` as one JSON-pointer segment."""
    return name.replace("~", "~0").replace("/", "~1")


def _for_openapi_core(document: dict) -> dict:
    """A copy of ``document`` without security requirements and without list-valued types
    where openapi-core reads parameters (see the module docstring)."""
    document = _single_types(copy.deepcopy(document))
    document.pop("security", None)
    for item in document.get("paths", {}).values():
        for key, operation in item.items():
            if key == "parameters":
                _narrow_parameters(operation)
            elif isinstance(operation, dict):
                operation.pop("security", None)
                _narrow_parameters(operation.get("parameters", []))
    _narrow_parameters(document.get("components", {}).get("parameters", {}).values())
    return document


def _single_types(node: Any) -> Any:
    """``node`` with every one-element ``type`` list replaced by its element, in place."""
    if isinstance(node, dict):
        if isinstance(node.get("type"), list) and len(node["type"]) == 1:
            node["type"] = node["type"][0]
        for value in node.values():
            _single_types(value)
    elif isinstance(node, list):
        for value in node:
            _single_types(value)
    return node


def _narrow_parameters(parameters: Iterable[dict]) -> None:
    for parameter in parameters:
        schema = parameter.get("schema", {})
        if isinstance(schema.get("type"), list) and "null" in schema["type"]:
            types = [t for t in schema["type"] if t != "null"]
            schema["type"] = types[0] if len(types) == 1 else types
        if "default" in schema and schema["default"] is None:
            del schema["default"]


class ContractViolation(AssertionError):
    """An answer or webhook that the house's own document rejects."""


def load_document(name: str) -> dict:
    """The parsed document ``name`` (a file in ``contracts/``), JSON or YAML by its suffix."""
    path = CONTRACTS_DIR / name
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return yaml.safe_load(text)


def _schema_error_lines(error: BaseException) -> list[str]:
    """One line per schema error under ``error`` (openapi-core wraps jsonschema's)."""
    lines = []
    for cause in (error, error.__cause__):
        for schema_error in getattr(cause, "schema_errors", None) or ():
            where = "/".join(str(part) for part in schema_error.absolute_path)
            lines.append(f"{where or '(root)'}: {schema_error.message}")
    return lines


def _describe(error: BaseException) -> list[str]:
    """Readable lines for one openapi-core error: what it is about, then each schema error."""
    details = _schema_error_lines(error)
    if isinstance(error, ParameterValidationError):
        cause = type(error).__name__ if details else error.__cause__ or error
        head = f"{error.location} parameter {error.name}: {cause}"
    else:
        head = str(error).split(":", 1)[0] if details else str(error)
    return [head] + [f"  {line}" for line in details]


class Contract:
    """One house's API document (and, optionally, its webhook document)."""

    def __init__(self, document: str, webhooks: str | None = None,
                 corrections: Callable[[dict], dict] | None = None):
        """``corrections`` changes the parsed document where the product reference says the
        house differs from it (a reconstructed document, see ``house-apis/README.md``)."""
        self.name = document
        self.document = load_document(document)
        if corrections is not None:
            self.document = corrections(self.document)
        self.openapi = OpenAPI.from_dict(_for_openapi_core(self.document),
                                         config=Config(spec_validator_cls=None))
        self.server = self.document["servers"][0]["url"].rstrip("/")
        self.webhook_document = load_document(webhooks) if webhooks else self.document

    # ------------------------------------------------------------------ requests

    def _request(self, method: str, path: str, query: Mapping | Iterable | None,
                 headers: Mapping | None, body: bytes | None, content_type: str | None):
        return MockRequest(self.server, method, path, args=query, headers=dict(headers or {}),
                           data=body or None,
                           content_type=(content_type or "application/json").lower())

    def request_problems(self, method: str, path: str, *, query: Mapping | Iterable | None = None,
                         headers: Mapping | None = None, body: bytes | None = None,
                         content_type: str | None = None) -> list[str]:
        """What the document rejects in this request, as readable lines (empty: it conforms).
        ``query`` is a mapping or a MultiDict (repeated names kept); ``body`` the raw bytes."""
        pointer = self._json_schema_pointer(method, path, content_type, "requestBody") \
            if body else None
        request = self._request(method, path, query, headers, None if pointer else body,
                                content_type)
        result = self.openapi.unmarshal_request(request)
        problems = []
        for error in result.errors:
            if isinstance(error, SecurityValidationError) or (
                    pointer and isinstance(error, MissingRequiredRequestBody)):
                continue
            problems.extend(_describe(error))
        if pointer:
            problems.extend(self._body_problems(pointer, body, "Request body"))
        return problems

    def _json_schema_pointer(self, method: str, path: str, content_type: str | None,
                             *where: str) -> str | None:
        """Where the JSON schema of a body of ``method path`` is in the document (``where``:
        ``"requestBody"``, or ``"responses", "<status>"``), when the body is JSON: such a
        body is checked with jsonschema, many times faster than openapi-core's
        unmarshalling (seconds for a batch of a hundred orders, or a page of 500)."""
        if (content_type or "application/json").split(";")[0].strip().lower() \
                != "application/json":
            return None
        pattern = self.operation(method, path)
        node = self.document["paths"].get(pattern, {}).get(method.lower(), {}) \
            if pattern else {}
        for part in where:
            node = node.get(part, {})
        if "schema" not in node.get("content", {}).get("application/json", {}):
            return None
        return (f"/paths/{_escape(pattern)}/{method.lower()}/"
                + "/".join(_escape(part) for part in where)
                + "/content/application~1json/schema")

    def _body_problems(self, pointer: str, body: bytes, what: str) -> list[str]:
        try:
            value = json.loads(body)
        except ValueError:
            return [f"{what} validation error", "  (root): the body is not JSON"]
        errors = sorted(self._validator(pointer, False).iter_errors(value),
                        key=lambda e: list(e.absolute_path))
        if not errors:
            return []
        return [f"{what} validation error"] + [
            f"  {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in errors]

    # ------------------------------------------------------------------ answers

    def operation(self, method: str, path: str) -> str | None:
        """The documented path pattern that ``method path`` matches (``None``: not documented)."""
        try:
            found = APICallPathFinder(self.openapi.spec).find(method.lower(), self.server + path)
        except PathError:
            return None
        return found.path_result.pattern

    def documents_status(self, method: str, path: str, status: int) -> bool:
        """Whether the operation at ``method path`` documents answers with ``status``
        (exactly, as a ``4XX`` range, or as ``default``)."""
        pattern = self.operation(method, path)
        if pattern is None:
            return False
        responses = self.document["paths"][pattern][method.lower()].get("responses", {})
        return any(code in responses for code in (str(status), f"{status // 100}XX", "default"))

    def check_response(self, method: str, path: str, status: int, body: bytes | None, *,
                       query: Mapping | Iterable | None = None, headers: Mapping | None = None,
                       content_type: str = "application/json") -> None:
        """Raise ``ContractViolation`` if the document rejects this answer to ``method path``.

        Error answers (4xx/5xx) that the operation does not document are the house's own,
        described in prose (houses.md), and are not checked here; an undocumented success
        status is a violation."""
        pointer = self._json_schema_pointer(method, path, content_type, "responses",
                                            str(status)) if body else None
        request = self._request(method, path, query, None, None, None)
        response = MockResponse(b"null" if pointer else body or b"", status_code=status,
                                headers=dict(headers or {}), content_type=content_type.lower())
        result = self.openapi.unmarshal_response(request, response)
        problems = []
        for error in result.errors:
            if (status >= 400 and isinstance(error, ResponseNotFound)) or (
                    pointer and isinstance(error, DataValidationError)):
                continue
            problems.extend(_describe(error))
        if pointer:
            problems.extend(self._body_problems(pointer, body, "Response data"))
        if problems:
            raise ContractViolation(
                f"{self.name}: answer {status} to {method.upper()} {path} breaks the document:\n"
                + "\n".join(problems))

    # ------------------------------------------------------------------ webhooks and parts

    @cache  # noqa: B019 - one validator per (contract, schema); contracts live for the process
    def _validator(self, pointer: str, from_webhooks: bool):
        """A jsonschema validator for the schema at JSON pointer ``pointer`` of the document."""
        document = self.webhook_document if from_webhooks else self.document
        if "asyncapi" in document:
            validator_cls, spec = Draft7Validator, DRAFT7
        elif str(document.get("openapi", "")).startswith("3.0"):
            validator_cls, spec = OAS30Validator, DRAFT7
        else:
            validator_cls, spec = OAS31Validator, DRAFT202012
        registry = Registry().with_resource(
            _DOCUMENT_URI, Resource(contents=document, specification=spec))
        return validator_cls({"$ref": f"{_DOCUMENT_URI}#{pointer}"}, registry=registry,
                             format_checker=FormatChecker())

    def _raise_for(self, validator, value: Any, what: str) -> None:
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
        if errors:
            lines = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                     for e in errors]
            raise ContractViolation(f"{what} breaks the document:\n  " + "\n  ".join(lines))

    def check_schema(self, component: str, value: Any) -> None:
        """Raise ``ContractViolation`` unless ``value`` is a valid
        ``components/schemas/<component>``."""
        if component not in self.document.get("components", {}).get("schemas", {}):
            raise KeyError(f"{self.name} has no schema {component!r}")
        self._raise_for(self._validator(f"/components/schemas/{component}", False), value,
                        f"{self.name}: {component}")

    def blank(self, component: str) -> Any:
        """An instance of ``components/schemas/<component>`` with every property present and
        nothing in it: null where the schema allows null, [] for arrays, a blank object for
        objects, else the first enum value or the type's zero. A simulator fills in what it
        knows, so its answers carry every property the document lists."""
        return self._blank({"$ref": f"#/components/schemas/{component}"})

    def _blank(self, schema: dict) -> Any:
        while "$ref" in schema:
            schema = self._resolve_in(self.document, schema["$ref"].lstrip("#"))
        if "allOf" in schema:
            merged: dict = {}
            for part in schema["allOf"]:
                value = self._blank(part)
                if isinstance(value, dict):
                    merged.update(value)
            return merged
        choices = schema.get("anyOf") or schema.get("oneOf")
        if choices:
            if any(c.get("type") == "null" for c in choices):
                return None
            return self._blank(choices[0])
        kind = schema.get("type")
        if isinstance(kind, list):
            if "null" in kind or schema.get("nullable"):
                return None
            kind = kind[0]
        if schema.get("nullable"):
            return None
        if "enum" in schema:
            return schema["enum"][0]
        if kind == "object" or "properties" in schema:
            return {name: self._blank(part)
                    for name, part in schema.get("properties", {}).items()}
        return {"array": [], "string": "", "integer": 0, "number": 0.0,
                "boolean": False}.get(kind)

    @staticmethod
    def _resolve_in(document: dict, pointer: str) -> dict:
        node = document
        for part in pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def webhook_schema_pointer(self, name: str) -> str:
        """The JSON pointer of webhook ``name``'s payload schema in the webhook document: an
        OpenAPI 3.1 ``webhooks`` entry, or an AsyncAPI channel (2.x ``subscribe.message``,
        3.x ``messages``), following the message's ``$ref``."""
        document = self.webhook_document
        if "webhooks" in document and "asyncapi" not in document:
            return (f"/webhooks/{name}/post/requestBody/content/application~1json/schema")
        channel = document["channels"][name]
        if "subscribe" in channel or "publish" in channel:
            operation = "subscribe" if "subscribe" in channel else "publish"
            pointer = f"/channels/{_escape(name)}/{operation}/message"
        else:
            pointer = f"/channels/{_escape(name)}/messages/{next(iter(channel['messages']))}"
        message = self._resolve(pointer)
        while "$ref" in message:
            pointer = message["$ref"].lstrip("#")
            message = self._resolve(pointer)
        return f"{pointer}/payload" if "payload" in message else ""

    def _resolve(self, pointer: str) -> dict:
        return self._resolve_in(self.webhook_document, pointer)

    def check_webhook(self, name: str, payload: Any) -> None:
        """Raise ``ContractViolation`` if webhook ``name``'s ``payload`` breaks the webhook
        document."""
        pointer = self.webhook_schema_pointer(name)
        if not pointer:
            raise KeyError(f"{self.name}: webhook {name!r} has no payload schema")
        self._raise_for(self._validator(pointer, True), payload, f"{self.name}: webhook {name}")
