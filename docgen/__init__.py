"""Generators of the documentation pages that are computed, not written by hand.

`python -m docgen --out docs/generated` runs each generator module's
`write(out_dir, **kwargs) -> list[pathlib.Path]` (see `docgen/__main__.py`); `make docs` then
builds the site with `mkdocs build --strict`.

This module also holds `KlossDocstrings`, the griffe extension that `mkdocs.yml` loads for
mkdocstrings (it imports nothing heavy at module level).
"""

import importlib
import inspect
import re

# `{name}` placeholders that a module fills in at import time (`cls.__doc__.format(...)`).
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _runtime_object(path):
    """The object at dotted `path` (`kloss.segmentation.Dice`), imported; None if absent."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name, None)
            if obj is None:
                return None
        return obj
    return None


try:
    import griffe
except ImportError:  # only the docs build needs griffe
    griffe = None

_ITEM = re.compile(r"^(\w+): (.*)$")


def _call_arguments_as_list(text):
    """`text` with the entries of each `Call arguments:` block as a Markdown list.

    griffe renders that Keras-style section as an admonition of plain Markdown, where the
    `name: description` entries would run together into one paragraph.
    """
    out = []
    title = None  # indentation of the current block's title, None outside a block
    entry = None  # indentation of its entries, once seen
    for line in text.split("\n"):
        stripped = line.lstrip()
        depth = len(line) - len(stripped)
        if title is not None and stripped and depth <= title:
            title = entry = None  # the block ended
        if title is None:
            if stripped == "Call arguments:":
                title = depth
            out.append(line)
            continue
        if stripped and entry is None:
            entry = depth
        match = _ITEM.match(stripped) if stripped and depth == entry else None
        out.append(" " * depth + f"- `{match[1]}`: {match[2]}" if match else line)
    return "\n".join(out)


# kloss's docstrings title their examples `Example:` (Keras's house style); griffe's Google
# parser reads only `Examples:` as an examples section (`>>>` blocks become Python code).
_EXAMPLE_TITLE = re.compile(r"^([ \t]*)Example:[ \t]*$", re.M)

if griffe is not None:

    class KlossDocstrings(griffe.Extension):
        """Adapts kloss's docstrings to mkdocstrings, without changing what `help()` shows.

        - Runtime docstrings: mkdocstrings reads docstrings statically (no import), but a
          few kloss classes share argument lists through a template (`{options}`, `{args}`,
          `{reductions}`) that their module fills in when it is imported. For those objects
          only (a `{name}` placeholder in the static text), the docstring is replaced by the
          runtime `__doc__`, so the page shows exactly `help(kloss.Dice)`. Other objects are
          not imported.
        - `Example:` section titles are read as `Examples:`, so the doctests render as
          highlighted Python sessions instead of Markdown quotes.
        """

        def on_object(self, *, obj, **kwargs):
            doc = obj.docstring
            if doc is None:
                return
            text = doc.value
            if _PLACEHOLDER.search(text):
                runtime = _runtime_object(obj.path)
                text = inspect.cleandoc(getattr(runtime, "__doc__", None) or "") or text
            text = _EXAMPLE_TITLE.sub(r"\1Examples:", text)
            text = _call_arguments_as_list(text)
            if text == doc.value:
                return
            obj.docstring = griffe.Docstring(
                text,
                lineno=doc.lineno,
                endlineno=doc.endlineno,
                parent=obj,
                parser=doc.parser,
                parser_options=doc.parser_options,
            )
