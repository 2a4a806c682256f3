"""The carrier's contract, enforced: every request is checked against the OpenAPI file first.

The file (portal/upstream/contract/carrier.yaml) is written from the carrier's pages; the sandbox
reads it as data and imports nothing of the portal. A request that breaks it is answered 422
with one violation per breach, each naming the field and the rule, before anything else runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import Message
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

CONTRACT_PATH = Path(__file__).resolve().parent.parent / "portal/upstream/contract/carrier.yaml"
_BASE_URI = "urn:carrier-contract"


@dataclass(frozen=True)
class Violation:
    field: str
    rule: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "rule": self.rule, "message": self.message}


@dataclass(frozen=True)
class Operation:
    """One operation of the contract: its required headers and its body's validator."""

    name: str
    required_headers: tuple[str, ...]
    header_schemas: dict[str, dict[str, Any]]
    body: Draft202012Validator | None

    def check(self, headers: Message, raw_body: bytes) -> list[Violation]:
        found = self._check_headers(headers)
        if self.body is not None:
            found += self._check_body(headers, raw_body)
        return found

    def _check_headers(self, headers: Message) -> list[Violation]:
        found = []
        for name in self.required_headers:
            if not (headers.get(name) or "").strip():
                found.append(Violation(f"header {name}", "required", f"{name} is required"))
        for name, schema in self.header_schemas.items():
            value = headers.get(name)
            if value is None or (name in self.required_headers and not value.strip()):
                continue
            for error in Draft202012Validator(schema).iter_errors(value):
                found.append(Violation(f"header {name}", error.validator, error.message))
        return found

    def _check_body(self, headers: Message, raw_body: bytes) -> list[Violation]:
        media_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media_type != "application/json":
            shown = media_type or "none"
            return [
                Violation("content-type", "media type", f"must be application/json, not {shown}")
            ]
        try:
            body = json.loads(raw_body)
        except (ValueError, UnicodeDecodeError):
            return [Violation("(body)", "json", "the body is not valid JSON")]
        errors = sorted(self.body.iter_errors(body), key=lambda error: list(error.absolute_path))
        return [violation for error in errors for violation in _violations(error)]


def _field(path: Any, extra: str | None = None) -> str:
    parts = [*path, extra] if extra is not None else list(path)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(body)"


def _violations(error: ValidationError) -> list[Violation]:
    """One violation per breach, with the field it is about (not its parent object)."""
    instance, rule = error.instance, error.validator
    if rule == "additionalProperties" and isinstance(instance, dict):
        known = set(error.schema.get("properties", {}))
        return [
            Violation(
                _field(error.absolute_path, key), "unknown field", f"{key} is not in the contract"
            )
            for key in instance
            if key not in known
        ]
    if rule == "required" and isinstance(instance, dict):
        return [
            Violation(_field(error.absolute_path, key), "required", f"{key} is required")
            for key in error.validator_value
            if key not in instance
        ]
    if rule == "format":
        rule = f"format {error.validator_value}"
    elif rule == "type":
        rule = f"type {error.validator_value}"
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    return [Violation(_field(error.absolute_path), str(rule), message)]


@cache
def _document() -> dict[str, Any]:
    return yaml.safe_load(CONTRACT_PATH.read_text())


def _registry(document: dict[str, Any]) -> Registry:
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    return Registry().with_resource(_BASE_URI, resource)


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = document
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


def _operation(document: dict[str, Any], registry: Registry, spec: dict[str, Any]) -> Operation:
    required, schemas = [], {}
    for parameter in (_resolve(document, p) for p in spec.get("parameters", [])):
        if parameter["in"] != "header":
            continue
        schemas[parameter["name"]] = parameter.get("schema", {})
        if parameter.get("required"):
            required.append(parameter["name"])
    body = None
    content = spec.get("requestBody", {}).get("content", {}).get("application/json")
    if content:
        pointer = content["schema"]["$ref"]
        body = Draft202012Validator(
            {"$ref": f"{_BASE_URI}{pointer}"},
            registry=registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
    return Operation(spec["operationId"], tuple(required), schemas, body)


@cache
def operations() -> dict[str, Operation]:
    """Every operation of the contract by its operationId (the sandbox's endpoint names)."""
    document = _document()
    registry = _registry(document)
    found = {}
    for methods in document["paths"].values():
        for spec in methods.values():
            operation = _operation(document, registry, spec)
            found[operation.name] = operation
    return found


def _repeated_change_requests(raw_body: bytes) -> list[Violation]:
    """The one rule of the care order a schema cannot say: each changeRequestId unique."""
    try:
        changes = json.loads(raw_body)["careOrderRequest"]["changeRequest"]
        ids = [change["changeRequestId"] for change in changes]
    except (ValueError, KeyError, TypeError):
        return []  # the schema has said what is wrong with this body
    repeated = sorted({str(i) for i in ids if ids.count(i) > 1})
    return [
        Violation(
            "careOrderRequest.changeRequest",
            "unique changeRequestId",
            f"changeRequestId {change_id} is repeated within the order",
        )
        for change_id in repeated
    ]


RULES_BEYOND_SCHEMA = {"care_order": _repeated_change_requests}


def check_request(endpoint: str, headers: Message, raw_body: bytes) -> list[Violation]:
    """The request's breaches of the contract; none for an endpoint the contract lacks."""
    operation = operations().get(endpoint)
    if operation is None:
        return []
    found = operation.check(headers, raw_body)
    rule_beyond_schema = RULES_BEYOND_SCHEMA.get(endpoint)
    return found + rule_beyond_schema(raw_body) if rule_beyond_schema else found
