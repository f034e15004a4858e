"""Programs the trace tests share."""

# The example of trace-format.md: `f` is the entry, called by the last line (not traced).
SPEC_EXAMPLE = """\
def double(x):
    y = x * 2
    return y

def f(n):  # << START_OF_TRACE
    total = 0
    for i in range(n):
        total += double(i)
    return total

f(2)
"""
