"""Read a YAML file (or accept an already-parsed dict) with errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from accelsim.config.errors import ConfigError

# Nesting beyond this is no config file; PyYAML's composer recurses once per level, so without
# the bound a deep file ends in RecursionError.
MAX_DEPTH = 64
# Nodes a document may hold once every alias is expanded (a "billion laughs" file has few
# nodes but expands to ~10**9); shipped files have a few hundred.
MAX_EXPANDED_NODES = 100_000
# Longer integer literals are rejected before Python's int() (4300-digit limit) sees them.
MAX_INT_CHARS = 100


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with a bound on nesting depth."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):  # noqa: ANN001, ANN201 - PyYAML's signature
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None, None, f"nesting deeper than {MAX_DEPTH} levels", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_size(node: yaml.Node, label: str) -> int:
    """Nodes of the document with every alias expanded; raises on self-reference or excess."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(n: yaml.Node) -> int:
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise _yaml_error(label, "an alias that refers to itself", n.start_mark)
        open_nodes.add(key)
        total = 1
        if (
            isinstance(n, yaml.ScalarNode)
            and n.tag == "tag:yaml.org,2002:int"
            and len(n.value) > MAX_INT_CHARS
        ):
            raise _yaml_error(label, f"an integer of at most {MAX_INT_CHARS} digits", n.start_mark)
        if isinstance(n, yaml.SequenceNode):
            children = n.value
        elif isinstance(n, yaml.MappingNode):
            children = [part for pair in n.value for part in pair]
        else:
            children = []
        for child in children:
            total += size(child)
            if total > MAX_EXPANDED_NODES:
                raise _yaml_error(
                    label,
                    f"aliases that expand to more than {MAX_EXPANDED_NODES} values",
                    n.start_mark,
                )
        open_nodes.discard(key)
        sizes[key] = total
        return total

    return size(node)


def _at(mark: Any) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _yaml_error(label: str, problem: str, mark: Any = None) -> ConfigError:
    return ConfigError(label, None, f"valid YAML ({problem}{_at(mark)})")


def _position(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f" at line {line}, column {column}"


def parse_yaml(text: str, label: str) -> Any:
    """Parse one YAML document; every failure is a ConfigError naming ``label``."""
    loader = None
    try:
        loader = _Loader(text)  # the reader checks every character here
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, label)
        return loader.construct_document(node)
    except ConfigError:
        raise
    except yaml.reader.ReaderError as err:
        # a character YAML does not allow (a NUL byte, other control characters)
        what = f"#x{err.character:04x}" if isinstance(err.character, int) else repr(err.character)
        raise ConfigError(
            label,
            None,
            f"valid YAML (a character YAML does not allow, {what}{_position(text, err.position)})",
        ) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "syntax error"
        raise _yaml_error(label, problem, mark) from None
    except yaml.YAMLError as err:
        raise _yaml_error(label, str(err) or "syntax error") from None
    except ValueError as err:
        # e.g. an integer beyond Python's 4300-digit conversion limit
        raise _yaml_error(label, f"a value Python cannot convert: {str(err)[:80]}") from None
    except (RecursionError, MemoryError):
        raise _yaml_error(label, "a document too deeply nested or too large to read") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml_mapping(
    source: str | Path | dict[str, Any], label: str | None = None
) -> tuple[dict[str, Any], str]:
    """Return ``(mapping, label)``; ``label`` names the source in error messages.

    A dict is taken as already parsed; pass ``label`` to say where it came from (for example
    the file a sweep point was derived from).
    """
    if isinstance(source, dict):
        return source, label or "<dict>"
    path = Path(source)
    label = str(source)
    if not path.exists():
        raise ConfigError(label, None, "an existing file", "no such file")
    if path.is_dir():
        raise ConfigError(label, None, "a YAML file", "a directory")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(label, None, "a readable UTF-8 YAML file", str(err)) from None
    data = parse_yaml(text, label)
    if data is None:
        raise ConfigError(label, None, "a non-empty YAML mapping", "an empty file")
    if not isinstance(data, dict):
        raise ConfigError(label, None, "a YAML mapping at the top level", type(data).__name__)
    return data, label
