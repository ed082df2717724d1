"""The YAML source of a config: parsed with every node's position kept, bounded against hostile
documents, and turned into plain Python for the checks; positions turn a field path back into a
line and column for the messages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import MaxDepthExceededError
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from relaydesk.config.problems import ConfigProblem, Issue, Path_

DEMO_CONFIG_PATH = Path(__file__).with_name("demo.yaml")
# A real organisation nests a dozen levels; these bound what a hostile document costs to load.
MAX_YAML_DEPTH = 64
MAX_YAML_VALUES = 1_000_000


def read_text(path: Path) -> str | ConfigProblem:
    """The file's text, or the problem that stops it being read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return ConfigProblem(str(path), 0, 0, "", f"cannot read the file: {exc}")


def parse(text: str, filename: str) -> CommentedMap | ConfigProblem:
    """The document as ruamel's round-trip mapping, or the one problem that stops it being one."""
    yaml = YAML(typ="rt")
    # Composing recurses once per level: a document of nested brackets would exhaust the stack.
    yaml.max_depth = MAX_YAML_DEPTH
    try:
        document = yaml.load(text)
    except MaxDepthExceededError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        return ConfigProblem(
            filename, line, column, "", f"the document nests deeper than {MAX_YAML_DEPTH} levels"
        )
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        message = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid YAML"
        return ConfigProblem(filename, line, column, "", f"YAML syntax error: {message}")
    except YAMLError as exc:
        return ConfigProblem(filename, 1, 1, "", f"YAML error: {exc}")
    if document is None:
        return ConfigProblem(filename, 1, 1, "", "the file is empty")
    if expanded_size(document, MAX_YAML_VALUES) > MAX_YAML_VALUES:
        message = (
            f"the document expands to more than {MAX_YAML_VALUES:,} values through its aliases "
            "(*name): write the repeated parts out, or repeat them less"
        )
        return ConfigProblem(filename, 1, 1, "", message)
    if not isinstance(document, CommentedMap):
        return ConfigProblem(filename, 1, 1, "", "the file must be a mapping with an 'organization' key")
    return document


def expanded_size(value: Any, limit: int) -> int:
    """How many values `value` holds once every alias is expanded, counting up to just past `limit`.

    An alias shares its anchor's object, so nine aliases of nine aliases of ... are a few lines of
    YAML but billions of values for whatever walks them; each shared object is sized once here.
    """
    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        if isinstance(node, dict):
            children: Iterable[Any] = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = node
        else:
            return 1
        known = sizes.get(id(node))
        if known is None:
            total = 1
            for child in children:
                total += size(child)
                if total > limit:
                    break
            known = sizes[id(node)] = total
        return known

    return size(value)


def is_demo(path: Path) -> bool:
    try:
        return path.resolve() == DEMO_CONFIG_PATH.resolve()
    except OSError:
        return False


def plain(node: Any) -> Any:
    """ruamel's annotated containers and scalars as plain Python (they go into JSON columns)."""
    if isinstance(node, Mapping):
        return {str(k) if not isinstance(k, str) else k: plain(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, datetime | date):
        return node.isoformat()
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


# --------------------------------------------------------------------------- positions


def located(filename: str, document: CommentedMap, issue: Issue) -> ConfigProblem:
    line, column = position(document, issue.path, issue.at_key)
    return ConfigProblem(filename, line, column, format_path(issue.path), issue.message, issue.severity)


def format_path(path: Iterable[str | int]) -> str:
    out = ""
    for elem in path:
        if isinstance(elem, int):
            out += f"[{elem}]"
        else:
            out += f".{elem}" if out else str(elem)
    return out


def position(document: CommentedMap, path: Path_, at_key: bool) -> tuple[int, int]:
    """1-based line and column of the deepest node of `path` present in the document."""
    node: Any = document
    line, column = 0, 0
    for index, elem in enumerate(path):
        last = index == len(path) - 1
        if isinstance(node, CommentedMap) and elem in node:
            line, column = node.lc.key(elem) if (last and at_key) else node.lc.value(elem)
            node = node[elem]
        elif isinstance(node, CommentedSeq) and isinstance(elem, int) and 0 <= elem < len(node):
            line, column = node.lc.item(elem)
            node = node[elem]
        else:
            break
    return line + 1, column + 1
