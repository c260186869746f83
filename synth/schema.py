"""One record schema per run, checked as each row's records are made.

Parquet needs one type per column, and `datasets.Dataset.from_list` takes its columns from the
first record: a field that only later records carry is silently dropped, and a field that is an int
in one record and a string in another fails only when the dataset is written, after all generation.
`RecordSchema` catches both at the row that causes them, naming the row and the field.

A schema is a small JSON-able tree of kinds: `"null" "bool" "int" "float" "str"`, `[kind]` for a
list, `{field: kind}` for a mapping. It comes from the recipe (`Recipe.record_schema`) or from the
first records of the run. Top-level fields are then fixed (a missing one is fine: it is null); inside
mappings new keys may appear (parquet stores the union). `None` fits every kind and an int fits a float.

>>> s = RecordSchema()
>>> s.check({"a": 1, "m": {"x": None}, "l": []}, "row 1")
>>> s.check({"a": 2.5, "m": {"x": "t", "y": True}, "l": ["u"]}, "row 2")
>>> s.fields
{'a': 'float', 'm': {'x': 'str', 'y': 'bool'}, 'l': ['str']}
>>> s.check({"a": "no"}, "row 3")
Traceback (most recent call last):
...
synth.schema.RecordSchemaError: row 3: record field 'a' is str here but float in earlier records: give a field one type in every record (None when it has no value)
>>> s.check({"b": 1}, "row 4")
Traceback (most recent call last):
...
synth.schema.RecordSchemaError: row 4: record field 'b' is not in the run's schema (a, m, l): return every field in every record (None when it has no value), or declare the recipe's record_schema
"""

from __future__ import annotations

from typing import Any

from synth.errors import SynthError

Kind = Any  # str | list | dict, see the module docstring
_SCALARS = {type(None): "null", bool: "bool", int: "int", float: "float", str: "str"}


class RecordSchemaError(SynthError):
    """A record does not fit the run's schema (fatal: the recipe must be fixed)."""


class RecordSchema:
    """The run's record fields and their kinds; `check` widens it or raises RecordSchemaError."""

    def __init__(self, fields: dict[str, Kind] | None = None) -> None:
        self.fields: dict[str, Kind] = dict(fields or {})
        self.fixed = bool(fields)  # top-level fields are fixed once the first record is seen
        self.changed = False

    def check(self, record: dict, where: str) -> None:
        fields = self.fields
        for key, value in record.items():
            old = fields.get(key)
            if old is not None and (old == "str" if type(value) is str else fits(old, value)):
                continue  # the common case, without building anything (most fields are text)
            if old is None:
                if self.fixed:
                    raise RecordSchemaError(
                        f"{where}: record field {key!r} is not in the run's schema ({', '.join(fields)}): return "
                        "every field in every record (None when it has no value), or declare the recipe's record_schema")
                old = "null"
            new = merge(old, value, key, where)
            if new != old or key not in fields:
                fields[key] = new
                self.changed = True
        self.fixed = True

    def arrow(self):
        """The pyarrow schema of the dataset's columns."""
        import pyarrow as pa

        return pa.schema([(k, arrow_type(v)) for k, v in self.fields.items()])


def fits(kind: Kind, value: Any) -> bool:
    """Whether `value` already fits `kind` (no widening needed); fast, it runs on every record."""
    t = type(value)
    if t is str:
        return kind == "str"
    if value is None:
        return True
    if t is dict:
        if type(kind) is not dict:
            return False
        for k, v in value.items():
            sub = kind.get(k)
            if sub is None or not (sub == "str" if type(v) is str else fits(sub, v)):  # text inline: most values
                return False
        return True
    if t is list:
        if type(kind) is not list:
            return False
        elem = kind[0]
        for v in value:  # a loop, not all(<generator>): cheaper for the short lists records hold
            if not fits(elem, v):
                return False
        return True
    if t is int:
        return kind == "int" or kind == "float"
    if t is float or t is bool:
        return kind == _SCALARS[t]
    return False  # anything else takes the slow path


def merge(kind: Kind, value: Any, path: str, where: str) -> Kind:
    """`kind` widened to hold `value`; RecordSchemaError when it cannot."""
    scalar = _SCALARS.get(type(value))
    if scalar is None and not isinstance(value, (list, tuple, dict)):
        scalar = "str"  # other values are written as text (dates, paths)
    if scalar is not None:
        if scalar == kind or scalar == "null":
            return kind
        if kind == "null":
            return scalar
        if {scalar, kind} == {"int", "float"}:
            return "float"
        raise _conflict(path, scalar, kind, where)
    if isinstance(value, (list, tuple)):
        if kind != "null" and not isinstance(kind, list):
            raise _conflict(path, "a list", kind, where)
        elem = kind[0] if isinstance(kind, list) else "null"
        new = elem
        for item in value:
            new = merge(new, item, path + "[]", where)
        return kind if isinstance(kind, list) and new == elem else [new]
    if kind != "null" and not isinstance(kind, dict):
        raise _conflict(path, "a mapping", kind, where)
    fields = kind if isinstance(kind, dict) else {}
    out = fields
    for key, item in value.items():
        old = fields.get(key, "null")
        new = merge(old, item, f"{path}.{key}", where)
        if new != old or key not in fields:
            if out is fields:
                out = dict(fields)
            out[key] = new
    return out if out is not fields or kind == "null" else kind


def _describe(kind: Kind) -> str:
    return "a list" if isinstance(kind, list) else "a mapping" if isinstance(kind, dict) else kind


def _conflict(path: str, got: str, kind: Kind, where: str) -> RecordSchemaError:
    return RecordSchemaError(f"{where}: record field {path!r} is {got} here but {_describe(kind)} in earlier "
                             "records: give a field one type in every record (None when it has no value)")


def arrow_type(kind: Kind):
    import pyarrow as pa

    if isinstance(kind, list):
        return pa.list_(arrow_type(kind[0]))
    if isinstance(kind, dict):
        return pa.struct([(k, arrow_type(v)) for k, v in kind.items()])
    return {"null": pa.null(), "bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(),
            "str": pa.string()}[kind]
