"""Bulk loading with PostgreSQL's COPY (psycopg's `Cursor.copy`), for the volume seeder.

`bulk_create` on PostgreSQL builds one INSERT per batch whose values psycopg quotes in
Python; COPY streams rows instead and is several times faster for hundreds of thousands
of rows. Model instances keep Django's defaults (set when they are built), and each value
goes through the field's own `pre_save` / `get_db_prep_save`, so JSON, arrays, `auto_now`
dates and foreign keys are stored exactly as `save()` would store them (`as_given` names
`auto_now` dates whose set value is kept, for back-dated synthetic rows). Rows that others
point at take their primary keys from the table's own sequence first (`reserve_ids`); rows
without one get theirs from the database as they are written."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """`count` fresh primary keys from the model's id sequence (nobody else will get them)."""
    if count <= 0:
        return []
    table = model._meta.db_table
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, model._meta.pk.column, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _stored_fields(model: type[Model], *, with_pk: bool) -> list[Field]:  # type: ignore[type-arg]
    return [
        field
        for field in model._meta.concrete_fields
        if not field.generated and (with_pk or not field.primary_key)
    ]


def copy_models(
    model: type[Model], objects: Sequence[Model], *, as_given: Collection[str] = ()
) -> int:
    """Write the instances with one COPY; returns how many were written. Either every
    instance has its primary key set or none has (the database then numbers them)."""
    if not objects:
        return 0
    with_pk = objects[0].pk is not None
    if any((obj.pk is not None) != with_pk for obj in objects):
        raise ValueError(f"copy_models({model.__name__}): set every primary key or none")
    fields = _stored_fields(model, with_pk=with_pk)
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: the proxy costs a lookup a cell
    quote = db.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    written = 0
    with db.cursor() as cursor:
        raw: Any = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(sql) as copy:
            for obj in objects:
                copy.write_row(
                    [
                        field.get_db_prep_save(
                            getattr(obj, field.attname)
                            if field.name in as_given
                            else field.pre_save(obj, True),
                            db,
                        )
                        for field in fields
                    ]
                )
                written += 1
    return written
