"""Names and values for the few statements spelled out in SQL instead of built by the ORM
(provisioning.job_progress, runs.flow_rows): on the hot path of every provisioning job,
building them through the ORM cost more worker CPU than sending them (docs/performance.md).

Names come from the models (quoted by the database's own rules) and values always go as
parameters, each through its model field's adaptation, so that what is stored, and what is
loaded back, is what the ORM would have stored and loaded. The SQL is written to run on
PostgreSQL and SQLite alike."""

from __future__ import annotations

from functools import cache

from django.db import DEFAULT_DB_ALIAS, connection, connections


def db_value(model, name: str, value):
    """`value` as the field `name` of `model` stores it (a JSON field's text, SQLite's dates)."""
    return model._meta.get_field(name).get_db_prep_save(value, connection)


# What follows is the same for every statement of a process, and is worked out once per
# database backend: asking the ORM for it on every row was a fifth of a provisioning job's
# worker CPU (each `connection.…` goes through a thread-local proxy, and each converter list is
# built anew). Keyed by the backend's vendor, which is what quoting and converters depend on.


def table(model) -> str:
    return _quoted(connection.vendor, model._meta.db_table)


def column(model, name: str) -> str:
    return _quoted(connection.vendor, model._meta.get_field(name).column)


def pk(model) -> str:
    return _quoted(connection.vendor, model._meta.pk.column)


def columns(model, alias: str = "") -> str:
    """Every concrete column of `model`, in the model's order (what `loaded_instance` takes)."""
    return _columns(connection.vendor, model, alias)


@cache
def _quoted(vendor: str, name: str) -> str:
    return connection.ops.quote_name(name)


@cache
def _columns(vendor: str, model, alias: str) -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + _quoted(vendor, f.column) for f in model._meta.concrete_fields)


@cache
def _converters(vendor: str, model, field) -> tuple:
    """The field's column and the functions the ORM passes its loaded values through, for this
    backend (none for most columns on PostgreSQL)."""
    column = field.get_col(model._meta.db_table)
    converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
    return column, tuple(converters)


def loaded_instance(model, values, fields=None):
    """A row of every concrete column of `model` (in `columns` order), or of `fields` only (in
    the model's order: the others deferred), as the ORM would load it: each value through its
    column's converters (JSON text decoded, SQLite's dates parsed)."""
    fields = model._meta.concrete_fields if fields is None else fields
    db = connections[DEFAULT_DB_ALIAS]  # the thread's own: looked up once per row
    loaded = [_loaded(db, model, f, v) for f, v in zip(fields, values, strict=True)]
    return model.from_db(db.alias, [f.attname for f in fields], loaded)


def loaded_value(model, name: str, value):
    """One column's value as the ORM would load it."""
    return _loaded(connections[DEFAULT_DB_ALIAS], model, model._meta.get_field(name), value)


def _loaded(db, model, field, value):
    column, converters = _converters(db.vendor, model, field)
    for convert in converters:
        value = convert(value, column, db)
    return value
