"""Validation of request and response bodies against Discord's OpenAPI spec.

The spec lives outside the project (../shared/discord-api-spec/openapi.json); when it is absent
validation is skipped. One referencing.Registry holds the whole document, and each
(operation, direction, content type/status) gets one compiled validator, cached.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

DEFAULT_SPEC_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "discord-api-spec" / "openapi.json"
ROOT_URI = "urn:discord-openapi"


def _pointer(*parts: str) -> str:
    return "/".join(quote(p.replace("~", "~0").replace("/", "~1"), safe="@") for p in parts)


def _coerce_attachment_ids(body: Any) -> Any:
    """discord.py sends attachments[].id as an int (the files[n] index, or an existing id);
    Discord accepts it though the spec's SnowflakeType is string-only. Stringify before checking."""
    def fix(container: Any) -> None:
        if isinstance(container, dict) and isinstance(container.get("attachments"), list):
            for att in container["attachments"]:
                if isinstance(att, dict) and isinstance(att.get("id"), int) and not isinstance(att.get("id"), bool):
                    att["id"] = str(att["id"])

    if not isinstance(body, dict):
        return body
    needs = any(isinstance(c, dict) and isinstance(c.get("attachments"), list) for c in (body, body.get("data")))
    if not needs:
        return body
    body = copy.deepcopy(body)
    fix(body)
    fix(body.get("data"))
    return body


class SpecValidator:
    def __init__(self, spec_path: Path | None = None) -> None:
        path = Path(spec_path) if spec_path else DEFAULT_SPEC_PATH
        self.available = path.is_file()
        self.path = path
        if not self.available:
            return
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        self.spec = json.loads(path.read_text(encoding="utf-8"))
        self._registry = Registry().with_resource(ROOT_URI, Resource(contents=self.spec, specification=DRAFT202012))
        self._validator_cls = Draft202012Validator
        self._cache: dict[tuple, Any] = {}

    def _validator(self, *pointer_parts: str):
        key = pointer_parts
        if key not in self._cache:
            node: Any = self.spec
            for part in pointer_parts:
                node = node.get(part) if isinstance(node, dict) else None
                if node is None:
                    self._cache[key] = None
                    return None
            # A $ref into the registered document, so "#/components/schemas/..." inside resolves.
            schema = {"$ref": f"{ROOT_URI}#/{_pointer(*pointer_parts)}"}
            self._cache[key] = self._validator_cls(schema, registry=self._registry)
        return self._cache[key]

    def check_request(self, method: str, template: str, content_type: str, body: Any) -> str | None:
        """None if valid (or nothing to check), else a short description of the first problem."""
        if not self.available:
            return None
        v = self._validator("paths", template, method.lower(), "requestBody", "content", content_type, "schema")
        if v is None:
            return None
        return self._first_error(v, _coerce_attachment_ids(body))

    def check_response(self, method: str, template: str, status: int, body: Any) -> str | None:
        if not self.available or body is None:
            return None
        if status >= 400 and isinstance(body, dict) and "errors" in body:
            # Known mismatch: the spec types errors.*._errors[].code as an integer, while Discord
            # sends strings ("BASE_TYPE_MAX_LENGTH"); the error tree is left unchecked.
            body = {k: v for k, v in body.items() if k != "errors"}
        op = self.spec["paths"].get(template, {}).get(method.lower(), {})
        responses = op.get("responses", {})
        key = str(status) if str(status) in responses else f"{str(status)[0]}XX"
        resp = responses.get(key)
        if resp is None:
            return f"status {status} is not documented for this operation"
        if "$ref" in resp:  # e.g. #/components/responses/ClientErrorResponse
            parts = resp["$ref"].lstrip("#/").split("/")
            v = self._validator(*parts, "content", "application/json", "schema")
        else:
            v = self._validator("paths", template, method.lower(), "responses", key,
                                "content", "application/json", "schema")
        if v is None:
            return None
        return self._first_error(v, body)

    @staticmethod
    def _first_error(validator: Any, instance: Any) -> str | None:
        from jsonschema.exceptions import best_match

        error = best_match(validator.iter_errors(instance))
        if error is None:
            return None
        # For anyOf/oneOf unions ("not valid under any of the given schemas") the useful error is
        # the deepest one: the branch that matched the discriminator and failed further in.
        def leaves(err):
            if not err.context:
                yield err
            for sub in err.context or ():
                yield from leaves(sub)

        if error.context:
            error = max(leaves(error), key=lambda e: (len(e.absolute_path), e.validator not in ("enum", "const")))
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        message = error.message if len(error.message) < 300 else error.message[:300] + "..."
        return f"{message} at {where}"


@lru_cache(maxsize=4)
def load(spec_path: str | None) -> SpecValidator:
    """One parsed spec per path per process: parsing 1 MB of JSON per test would add up."""
    return SpecValidator(Path(spec_path) if spec_path else None)
