"""The CI fuzz step tolerates only the fuzzing tool's own known bug, never a failed check or
another error (.ci/fuzz_only_tool_errors.py)."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "fuzz_only_tool_errors.py"
spec = importlib.util.spec_from_file_location("fuzz_only_tool_errors", SCRIPT)
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)

CASE = '<testsuites><testsuite><testcase name="POST /api/x/">{}</testcase></testsuite></testsuites>'


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", 0),  # every check passed
        ("<error>Runtime Error\nAST constructor recursion depth mismatch (before=1)</error>", 0),
        ("<failure>Server error: 500</failure>", 1),
        ("<error>Runtime Error\nConnection refused</error>", 1),
        (
            "<error>AST constructor recursion depth mismatch</error><failure>Schema</failure>",
            1,
        ),
    ],
)
def test_only_the_known_tool_error_is_tolerated(tmp_path, body, code):
    (tmp_path / "junit-1.xml").write_text(CASE.format(body))
    assert tool.main(str(tmp_path)) == code


def test_no_report_is_a_failure(tmp_path):
    assert tool.main(str(tmp_path)) == 1
