"""Holding a simulator's traffic to a house's Swagger 2.0 model (Amazon publishes its
SP-API models in Swagger 2.0), with ``jsonschema``.

``SwaggerModel(path)`` reads the model; ``request_errors`` checks one request's body, query
and path parameters against an operation's parameters, ``response_errors`` one answer's body
against the schema the operation documents for its status. Both return readable problems
(empty when the traffic conforms). Swagger 2.0 schemas are JSON Schema draft 4 plus a few
keywords of their own (``x-…``, ``example``) that validators ignore; ``$ref`` points into the
model's ``definitions``. Formats (``date-time``) are checked where a checker is installed.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from jsonschema import Draft4Validator, FormatChecker

#: parameter keys that describe the parameter rather than its value
_PARAMETER_KEYS = {"name", "in", "required", "description", "schema", "collectionFormat"}
_SCALARS = {"integer": int, "number": float}


class SwaggerModel:
    """One Swagger 2.0 document and the operations it declares, by ``operationId``."""

    def __init__(self, path: Path):
        self.document = json.loads(path.read_text(encoding="utf-8"))
        self.definitions = self.document.get("definitions", {})
        #: operationId -> (HTTP method, path template, operation)
        self.operations: dict[str, tuple[str, str, dict[str, Any]]] = {}
        for template, item in self.document["paths"].items():
            for method, operation in item.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    self.operations[operation["operationId"]] = (method.upper(), template,
                                                                 operation)
        self._validator = lru_cache(maxsize=None)(self._build_validator)

    def _build_validator(self, schema_json: str) -> Draft4Validator:
        schema = {**json.loads(schema_json), "definitions": self.definitions}
        return Draft4Validator(schema, format_checker=FormatChecker())

    def schema_errors(self, schema: Mapping[str, Any], value: Any, where: str) -> list[str]:
        """What is wrong with ``value`` under ``schema`` (refs into the model's definitions)."""
        validator = self._validator(json.dumps(schema, sort_keys=True))
        return [f"{where}{_path(error.absolute_path)}: {error.message}"
                for error in sorted(validator.iter_errors(value), key=lambda e: list(e.path))]

    def request_errors(self, operation_id: str, *, body: Any = None,
                       query: Mapping[str, str] | None = None,
                       path: Mapping[str, str] | None = None) -> list[str]:
        """Problems with a request to ``operation_id``: a missing or malformed body, a
        required parameter left out, a parameter of the wrong type or length."""
        _method, _template, operation = self.operations[operation_id]
        errors: list[str] = []
        supplied = {"query": query or {}, "path": path or {}}
        for parameter in operation.get("parameters", []):
            name, place = parameter["name"], parameter["in"]
            if place == "body":
                if body is None:
                    if parameter.get("required"):
                        errors.append("body: a JSON body is required")
                    continue
                errors += self.schema_errors(parameter["schema"], body, "body")
                continue
            values = supplied.get(place, {})
            if name not in values:
                if parameter.get("required"):
                    errors.append(f"{place} parameter {name} is required")
                continue
            schema = {k: v for k, v in parameter.items() if k not in _PARAMETER_KEYS}
            raw = values[name]
            try:
                value = _SCALARS.get(parameter.get("type", ""), str)(raw)
            except ValueError:
                errors.append(f"{place} parameter {name}: {raw!r} is not an "
                              f"{parameter['type']}")
                continue
            errors += self.schema_errors(schema, value, f"{place} parameter {name}")
        return errors

    def response_errors(self, operation_id: str, status: int, body: Any) -> list[str]:
        """Problems with an answer of ``status`` to ``operation_id``: a status the operation
        does not document, or a body its schema rejects."""
        _method, _template, operation = self.operations[operation_id]
        response = operation["responses"].get(str(status))
        if response is None:
            return [f"status {status} is not documented for {operation_id}"]
        if "schema" not in response:
            return []
        return self.schema_errors(response["schema"], body, "answer")


def _path(parts) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
