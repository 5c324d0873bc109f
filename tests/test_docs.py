"""The documentation site: every public name documented, every page in the nav, docstrings
that mkdocstrings renders without warnings. Backend-independent and fast (no site build:
`make docs` runs `mkdocs build --strict`)."""

import importlib
import logging
import pathlib
import re
import textwrap

import pytest

import kloss

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# Pages under docs/generated/ are written by `python -m docgen` at build time.
GENERATED = "generated/"
# The family modules: those whose `__all__` makes up `kloss.__all__`.
FAMILIES = sorted(
    name
    for name, value in vars(kloss).items()
    if isinstance(value, type(kloss))
    and value.__name__ == f"kloss.{name}"
    and set(getattr(value, "__all__", ())) <= set(kloss.__all__)
    and getattr(value, "__all__", ())
)

yaml = pytest.importorskip("yaml", reason="PyYAML comes with mkdocs (requirements/ci.txt)")


def _config():
    # safe_load: mkdocs.yml must stay free of Python tags (`!!python/name:`).
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text())


def _nav_pages(nav):
    """Every page path of the nav, in order."""
    out = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            out += _nav_pages(value)
        else:
            out.append(value)
    return out


def _python_options(config):
    for plugin in config["plugins"]:
        if isinstance(plugin, dict) and "mkdocstrings" in plugin:
            return plugin["mkdocstrings"]["handlers"]["python"]["options"]
    raise AssertionError("mkdocs.yml has no mkdocstrings plugin")


_DIRECTIVE = re.compile(r"^::: ([\w.]+)[ \t]*\n((?:[ \t]+.*\n|[ \t]*\n(?=[ \t]))*)", re.M)


def _directives():
    """(page, identifier, local options) of every `::: identifier` in the hand-written pages."""
    out = []
    for page in sorted(DOCS.rglob("*.md")):
        rel = page.relative_to(DOCS).as_posix()
        if rel.startswith(GENERATED):
            continue
        for m in _DIRECTIVE.finditer(page.read_text() + "\n"):
            block = yaml.safe_load(textwrap.dedent(m.group(2))) if m.group(2).strip() else None
            out.append((rel, m.group(1), (block or {}).get("options") or {}))
    return out


def _documented_names(identifier, options):
    """The public kloss names that the directive `::: identifier` renders."""
    module_name, _, attr = identifier.rpartition(".")
    try:
        target = importlib.import_module(identifier)
    except ModuleNotFoundError:
        target = getattr(importlib.import_module(module_name), attr)
    if isinstance(target, type(kloss)):  # a module: its __all__ (or an explicit member list)
        members = options.get("members")
        names = list(target.__all__) if members in (None, True) else list(members or [])
        return {n for n in names if getattr(kloss, n, None) is getattr(target, n)}
    return {n for n in kloss.__all__ if getattr(kloss, n) is target}


def test_every_public_name_is_on_an_api_page():
    options = _python_options(_config())
    # A global member list or filter would hide names from every module directive.
    assert "members" not in options and "filters" not in options, options
    documented = set()
    for page, identifier, local in _directives():
        assert page.startswith("api/"), f"{page}: `::: {identifier}` outside docs/api/"
        documented |= _documented_names(identifier, local)
    missing = sorted(set(kloss.__all__) - documented)
    assert not missing, f"not rendered on any API page: {missing}"


def test_every_family_has_a_guide_and_an_api_page_in_the_nav():
    assert len(FAMILIES) >= 13, FAMILIES
    nav = _nav_pages(_config()["nav"])
    for family in FAMILIES:
        for page in (f"{family}.md", f"api/{family}.md"):
            assert page in nav, f"{page} is not in the mkdocs.yml nav"
            assert (DOCS / page).is_file(), page
        assert f"::: kloss.{family}\n" in (DOCS / "api" / f"{family}.md").read_text()


def test_nav_pages_exist_and_cover_every_page():
    nav = _nav_pages(_config()["nav"])
    assert len(nav) == len(set(nav)), "a page is listed twice"
    for page in nav:
        assert page.endswith(".md"), page
        if not page.startswith(GENERATED):  # generated pages exist after `python -m docgen`
            assert (DOCS / page).is_file(), f"the nav lists {page}, which does not exist"
    pages = {
        p.relative_to(DOCS).as_posix()
        for p in DOCS.rglob("*.md")
        if not p.relative_to(DOCS).as_posix().startswith(GENERATED)
    }
    assert not pages - set(nav), f"pages missing from the nav: {sorted(pages - set(nav))}"
    for page in ("generated/gallery.md", "generated/migration.md"):
        assert page in nav
    for page in ("generated/benchmarks.md", "generated/agreement.md"):
        assert page in nav


def test_docstrings_render_without_griffe_warnings(caplog):
    """What `mkdocs build --strict` would reject: each public object's docstring, parsed as
    mkdocstrings parses it (same parser, options and extension), logs no warning."""
    griffe = pytest.importorskip("griffe", reason="griffe comes with mkdocstrings (docs deps)")
    options = _python_options(_config())
    extensions = griffe.load_extensions(
        *[str(ROOT / e) if e.startswith("docgen/") else e for e in options["extensions"]]
    )
    package = griffe.load(
        "kloss",
        search_paths=[str(ROOT)],
        extensions=extensions,
        docstring_parser=options["docstring_style"],
        docstring_options=options.get("docstring_options", {}),
    )
    objects = [package["KlossLoss"]]
    for family in FAMILIES:
        module = package[family]
        objects.append(module)
        objects += [module[name] for name in importlib.import_module(f"kloss.{family}").__all__]
    caplog.set_level(logging.WARNING, logger="griffe")
    parsed = 0
    for obj in objects:
        obj = obj.final_target if obj.is_alias else obj
        assert obj.docstring is not None, f"{obj.path} has no docstring"
        sections = obj.docstring.parse()
        parsed += 1
        if obj.is_class and obj.path != "kloss._internal.KlossLoss":
            kinds = {s.kind.value for s in sections}
            assert {"parameters", "examples"} <= kinds, f"{obj.path}: {sorted(kinds)}"
        assert "{" + "options}" not in obj.docstring.value, obj.path  # template filled in
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not warnings, "\n".join(warnings)
    assert parsed == len(kloss.__all__) + len(FAMILIES)
