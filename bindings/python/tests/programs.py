"""Programs the trace tests share."""

import os

_EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "examples", "programs")

# The example of trace-format.md: `f` is the entry, called by the last line (not traced).
with open(os.path.join(_EXAMPLES, "spec_example.py"), encoding="utf-8") as _f:
    SPEC_EXAMPLE = _f.read()
