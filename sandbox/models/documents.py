"""Operations on stored documents: dotted paths, secret masking, write bodies, JSON Patch."""

import re

import jsonpatch
import jsonpointer

from sandbox import assumptions
from sandbox.exceptions import InvalidField, MissingRequiredField

MISSING = object()


def get_path(doc: object, dotted: str) -> object:
    value = doc
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def masked(doc: dict, secret_paths: tuple[str, ...]) -> dict:
    """A copy of `doc` with every present, non-null secret replaced by "******".

    Only the dicts along a secret's path are copied; the rest is shared with the stored doc.
    """
    result = doc
    for path in secret_paths:
        parts = path.split(".")
        if get_path(doc, path) in (MISSING, None):
            continue
        if result is doc:
            result = dict(doc)
        target = result
        for part in parts[:-1]:
            target[part] = dict(target[part])
            target = target[part]
        target[parts[-1]] = assumptions.MASKED_SECRET
    return result


def writable_fields(body: dict) -> dict:
    """The client's fields of a POST or PUT body: server-owned fields are ignored."""
    return {key: value for key, value in body.items() if key not in assumptions.SERVER_FIELDS}


def require_object(body: object, what: str = "The request body") -> dict:
    if not isinstance(body, dict):
        raise InvalidField(f"{what} must be a JSON object.")
    return body


def apply_json_patch(doc: dict, operations: object, allowed: re.Pattern | None) -> dict:
    """Apply an RFC 6902 patch to a copy of `doc`, refusing paths the resource does not allow."""
    if not isinstance(operations, list) or not operations:
        raise InvalidField("The request body must be a non-empty JSON Patch array.")
    for operation in operations:
        if not isinstance(operation, dict) or not isinstance(operation.get("path"), str):
            raise InvalidField("Each JSON Patch operation needs an op and a path.")
        for key in ("path", "from"):
            path = operation.get(key)
            if path is None:
                continue
            top = path.split("/")[1] if path.count("/") >= 1 else ""
            if top in assumptions.SERVER_FIELDS or (allowed and not allowed.match(path)):
                raise InvalidField(f"The path {path} may not be patched.", field=path)
    try:
        patched = jsonpatch.apply_patch(doc, operations)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise InvalidField(f"The JSON Patch could not be applied: {exc}") from None
    if not isinstance(patched, dict):
        raise InvalidField("The JSON Patch must leave an object.")
    return patched


def check_name(doc: dict, *, required: bool = True, max_length: int = 100) -> None:
    name = doc.get("name")
    if name is None or name == "":
        if required:
            raise MissingRequiredField("name")
        return
    if not isinstance(name, str):
        raise InvalidField("name must be a string.", field="name")
    if len(name) > max_length:
        raise InvalidField(f"name must be at most {max_length} characters.", field="name")
