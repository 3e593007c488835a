"""Names and values for the few statements spelled out in SQL instead of built by the ORM
(provisioning.job_progress, runs.flow_rows): on the hot path of every provisioning job,
building them through the ORM cost more worker CPU than sending them (docs/performance.md).

Names come from the models (quoted by the database's own rules) and values always go as
parameters, each through its model field's adaptation, so that what is stored, and what is
loaded back, is what the ORM would have stored and loaded. The SQL is written to run on
PostgreSQL and SQLite alike."""

from __future__ import annotations

from django.db import connection


def db_value(model, name: str, value):
    """`value` as the field `name` of `model` stores it (a JSON field's text, SQLite's dates)."""
    return model._meta.get_field(name).get_db_prep_save(value, connection)


def table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model, name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def pk(model) -> str:
    return connection.ops.quote_name(model._meta.pk.column)


def columns(model, alias: str = "") -> str:
    """Every concrete column of `model`, in the model's order (what `loaded_instance` takes)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(
        prefix + connection.ops.quote_name(f.column) for f in model._meta.concrete_fields
    )


def _converted(model, field, value):
    column = field.get_col(model._meta.db_table)
    for convert in connection.ops.get_db_converters(column) + column.get_db_converters(connection):
        value = convert(value, column, connection)
    return value


def loaded_instance(model, values, fields=None):
    """A row of every concrete column of `model` (in `columns` order), or of `fields` only (in
    the model's order: the others deferred), as the ORM would load it: each value through its
    column's converters (JSON text decoded, SQLite's dates parsed)."""
    fields = model._meta.concrete_fields if fields is None else fields
    loaded = [_converted(model, f, v) for f, v in zip(fields, values, strict=True)]
    return model.from_db(connection.alias, [f.attname for f in fields], loaded)


def loaded_value(model, name: str, value):
    """One column's value as the ORM would load it."""
    return _converted(model, model._meta.get_field(name), value)
