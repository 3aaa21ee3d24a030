"""The settings file's line scanner: each top-level key on the line it is written on, whatever the values hold."""

from __future__ import annotations

import json
import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from eksproxy_gen.toml_lines import top_level_lines

KEY = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
TRAP = st.sampled_from(["proxy = 1", "[table]", "select = [", "# x = 1", "'''", 'a = """', "]", "}"])


@st.composite
def toml_values(draw: st.DrawFn) -> str:
    """A TOML value as people write them, some over several lines, holding lines that look like keys."""
    kind = draw(st.sampled_from(["str", "literal", "multi", "multi_literal", "array", "inline", "int", "escaped"]))
    trap = draw(TRAP)
    if kind == "str":
        return json.dumps(f"{trap} # not a comment")
    if kind == "literal":
        return "'" + trap.replace("'", "") + "'"
    if kind == "multi":
        return '"""\n' + trap.replace('"""', '') + '\nmore = 2\n"""'
    if kind == "multi_literal":
        return f"'''\n{trap.replace(chr(39), '')}\n'''"
    if kind == "array":
        return f'[\n  "a",  # {trap}\n  [1, 2],\n  {json.dumps(trap)},\n]'
    if kind == "inline":
        return "{ x = 1, y = " + json.dumps(trap) + " }"
    if kind == "escaped":
        return '"""\\\n  line \\"quoted\\" \\\n  end"""'
    return str(draw(st.integers()))


@settings(max_examples=200, deadline=None)
@given(top=st.lists(st.tuples(KEY, toml_values(), st.booleans()), min_size=1, max_size=6, unique_by=lambda t: t[0]),
       tables=st.lists(st.tuples(KEY, st.lists(st.tuples(KEY, toml_values()), max_size=3, unique_by=lambda t: t[0])),
                       max_size=3, unique_by=lambda t: t[0]))
def test_each_top_level_key_is_found_on_its_line(top: list[tuple[str, str, bool]],
                                                 tables: list[tuple[str, list[tuple[str, str]]]]) -> None:
    lines: list[str] = ["# settings"]
    expected: dict[str, int] = {}
    names = {key for key, _value, _blank in top}
    for key, value, blank in top:
        if blank:
            lines.append("")
        expected[key] = len(lines) + 1
        lines += f"{key} = {value}".split("\n")
    for name, body in tables:
        if name in names:
            continue
        expected[name] = len(lines) + 1
        lines.append(f"[{name}]")
        for key, value in body:
            lines += f"{key} = {value}".split("\n")
    text = "\n".join(lines) + "\n"
    assert set(tomllib.loads(text)) == set(expected)
    assert top_level_lines(text) == expected
