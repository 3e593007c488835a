"""Outcomes of flow runs that the control plane can force, in the order they are used.

An outcome is "completed", "failed" (the export step fails), "partial" (completed with
`numError > 0`), or an object: {"status": ..., "numRecords": n, "numError": n, "numIgnore": n,
"queueSeconds": s, "runSeconds": s, "errorCode": ..., "errorMessage": ..., "errorSource": ...}.
"""

from sandbox.exceptions import InvalidField

OUTCOME_ALIASES = {
    "completed": {"status": "completed"},
    "failed": {"status": "failed"},
    "partial": {"status": "completed", "partial": True},
    "completed_with_errors": {"status": "completed", "partial": True},
}


def outcome_from_json(item: object) -> dict:
    """A forced outcome: "completed", "failed", "partial", or an object with counts/timings."""
    if isinstance(item, str):
        if item not in OUTCOME_ALIASES:
            raise InvalidField(f"Unknown outcome {item!r}.", field="outcomes")
        return dict(OUTCOME_ALIASES[item])
    if not isinstance(item, dict):
        raise InvalidField("Each outcome must be a string or an object.", field="outcomes")
    status = item.get("status", "completed")
    if status not in OUTCOME_ALIASES:
        raise InvalidField(f"Unknown outcome status {status!r}.", field="status")
    outcome = dict(OUTCOME_ALIASES[status])
    for name in ("numRecords", "numError", "numIgnore"):
        if name in item:
            value = item[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidField(f"{name} must be a non-negative integer.", field=name)
            outcome[name] = value
    for name in ("queueSeconds", "runSeconds"):
        if name in item:
            value = item[name]
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
                raise InvalidField(f"{name} must be a non-negative number.", field=name)
            outcome[name] = float(value)
    for name in ("errorCode", "errorMessage", "errorSource"):
        if name in item:
            outcome[name] = str(item[name])
    records = outcome.get("numRecords")
    if records is not None and outcome.get("numError", 0) + outcome.get("numIgnore", 0) > records:
        raise InvalidField("numError + numIgnore cannot exceed numRecords.", field="numError")
    return outcome
