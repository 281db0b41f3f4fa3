"""Read a commented YAML file into plain data and remember the line of every value, so that a
validation error can name file, line and field ("rules.yaml:41: rules[3].route: …").

Only YAML's safe subset is accepted; a key that appears twice in one mapping is an error
(YAML would silently keep the last, which hides a mistake in a hand-edited file).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class YamlError(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def load(text: str, filename: str) -> tuple[Any, dict[Path, int]]:
    """Parse `text`; return the data and a map from each value's path to its 1-based line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(Problem(filename, line, "", f"not valid YAML: {problem}")) from None
    lines: dict[Path, int] = {}
    if node is None:
        return {}, lines
    constructor = yaml.SafeLoader("")
    return _build(node, (), lines, constructor, filename), lines


def _build(
    node: yaml.Node, path: Path, lines: dict[Path, int], constructor: yaml.SafeLoader, filename: str
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | bool) or isinstance(key, bool):
                key = str(key)
            if key in out:
                raise YamlError(
                    Problem(
                        filename,
                        key_node.start_mark.line + 1,
                        dotted((*path, key)),
                        "this key appears twice",
                    )
                )
            out[key] = _build(value_node, (*path, key), lines, constructor, filename)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(child, (*path, index), lines, constructor, filename)
            for index, child in enumerate(node.value)
        ]
    return constructor.construct_object(node, deep=True)


def line_of(lines: dict[Path, int], path: Sequence[str | int]) -> int | None:
    """The line of the deepest part of `path` that exists in the file."""
    probe = tuple(path)
    while probe:
        if probe in lines:
            return lines[probe]
        probe = probe[:-1]
    return lines.get(())


def dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
