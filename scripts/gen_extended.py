"""The extended constructs of gen_programs.py (--extended): what hand-written code uses and the
first families lack. Statements the Sim families may also propose (floats from `/`, `**`,
abs/min/max/round, conditional expressions, chained comparisons, ord/chr and more str methods,
filtering comprehensions, sets, del), and the `scan` family: one loop over a list or a text
with one to three accumulators updated under compound conditions, early exits and index loops.

Only programs generated with extended=True use this file, so the first corpus stays the same.
"""

from gen_blocks import ACCS, LISTS, STRS, VARS, WORDLISTS, func, small


def arith_extras(g, names, new):
    """Extra integer/float statements over the int variables `names` (at least one)."""
    a, b = g.pick(names), g.pick(names)
    c = g.int(2, 9)
    return [f"{new} = {a} / {c}", f"{new} = round({a} / {c}, {g.int(1, 2)})",
            f"{new} = {a} ** 2", f"{new} = abs({a} - {b})", f"{new} = max({a}, {b})",
            f"{new} = min({a}, {b}, {g.int(0, 20)})", f"{new} = {a} if {a} > {b} else {b}",
            f"{new} = {g.int(0, 5)} < {a} < {g.int(6, 30)}", f"{new} = {a} % {c} == 0",
            f"{new} = -{a} + {b} * {c}"]


def string_extras(g, value_name, value, ints, new_s, new_i, new_l):
    """Extra statements on the string variable `value_name` holding `value`."""
    v = value_name
    ch = g.pick(value) if value else "a"
    opts = [f"{new_s} = {v}.title()", f"{new_s} = {v}.capitalize()", f"{new_s} = {v}.strip()",
            f"{new_i} = {v}.startswith({value[:2]!r})", f"{new_i} = {v}.endswith({ch!r})",
            f"{new_i} = {v}.isalpha()", f"{new_s} = {v} * 2", f"{new_l} = {v}.split({ch!r})",
            f"{new_s} = {v}.center({len(value) + 2}, '*')", f"{new_i} = {ch!r} in {v}",
            f"{new_l} = list({v})", f"{new_l} = sorted({v})", f"{new_s} = {v}.zfill(6)"]
    if value:
        opts += [f"{new_i} = ord({v}[0])", f"{new_s} = chr(ord({v}[-1]) + {g.int(1, 3)})",
                 f"{new_i} = {v}.index({ch!r})", f"{new_s} = {v}[1:-1]"]
    if ints:
        opts += [f"{new_s} = str({g.pick(ints)})", f"{new_s} = {v} + str({g.pick(ints)})"]
    return opts


def list_extras(g, name, cur, new_l, new_i):
    """Extra statements on the list variable `name` holding `cur`."""
    c = g.int(0, 20)
    opts = [f"{new_l} = [e for e in {name} if e > {c}]", f"{new_l} = [e * e for e in {name}]",
            f"{new_i} = len(set({name}))", f"{new_l} = sorted(set({name}))",
            f"{new_l} = list(range({g.int(0, 3)}, {g.int(4, 7)}))", f"{new_i} = {c} not in {name}",
            f"{new_i} = any(e > {c} for e in {name})", f"{new_i} = all(e >= 0 for e in {name})",
            f"{new_l} = {name}[:]", f"{new_l} = {name}[::-1]", f"{new_l} = [0] * {g.int(1, 4)}"]
    if cur:
        i = g.int(0, len(cur) - 1)
        opts += [f"{new_i} = min({name})", f"{new_i} = {name}.count({g.pick(cur)})",
                 f"{new_i} = sum({name}) / len({name})", f"del {name}[{i}]",
                 f"{new_l} = list(zip({name}, {name}[1:]))", f"{new_i} = {name}[{i}] + {name}[-1]",
                 f"{new_l} = list(enumerate({name}))[:3]"]
    return opts


def dict_extras(g, d, cur, new):
    """Extra statements on the dict variable `d` holding `cur`."""
    c = g.int(0, 20)
    opts = [f"{new} = sorted({d}.items())", f"{new} = {{k: v * 2 for k, v in {d}.items()}}",
            f"{new} = [k for k in {d} if {d}[k] > {c}]", f"{new} = dict({d})",
            f"{new} = {{v: k for k, v in {d}.items()}}", f"{new} = len({d}) > {g.int(1, 3)}"]
    if cur:
        key = g.pick(list(cur))
        opts += [f"{new} = max({d}, key={d}.get)", f"del {d}[{key!r}]",
                 f"{new} = {d}.get({key!r}) * {g.int(2, 3)}", f"{new} = min({d}.values())"]
    return opts


# ---- the scan family -------------------------------------------------------------------------

def _condition(g, x, best=None):
    c, d = g.int(0, 30), g.int(31, 80)
    opts = [f"{x} > {c}", f"{x} % 2 == 0", f"{x} < {d} and {x} != {c}", f"{c} <= {x} <= {d}",
            f"not {x} % 3", f"{x} in ({c}, {d}, {g.int(0, 9)})", f"{x} < 0 or {x} > {d}"]
    if best:
        opts.append(f"{x} > {best}")
    return g.pick(opts)


def _int_accumulators(g, x, seq):
    """(init lines, loop-body lines, result expressions) of 1-3 accumulators over ints."""
    kinds = g.shuffled(["sum", "count", "best", "list", "dict", "text", "prev"])[:g.int(1, 3)]
    init, body, result = [], [], []
    for kind in kinds:
        acc = g.name(ACCS, VARS, LISTS) if kind != "list" else g.name(LISTS)
        expr = g.pick([x, f"{x} * 2", f"{x} - {g.int(1, 9)}", f"abs({x})", f"{x} // 2",
                       f"{x} ** 2"])
        if kind == "sum":
            init.append(f"{acc} = 0")
            body.append([f"{acc} += {expr}"])
            result.append(g.pick([acc, f"{acc} / len({seq})", f"round({acc} / len({seq}), 1)"]))
        elif kind == "count":
            init.append(f"{acc} = 0")
            body.append([f"if {_condition(g, x)}:", f"    {acc} += 1"])
            result.append(acc)
        elif kind == "best":
            cmp = g.pick([">", "<"])
            if g.chance(0.3):
                init.append(f"{acc} = None")
                body.append([f"if {acc} is None or {x} {cmp} {acc}:", f"    {acc} = {x}"])
            elif g.chance(0.5):
                init.append(f"{acc} = {seq}[0]")
                body.append([f"if {x} {cmp} {acc}:", f"    {acc} = {x}"])
            else:
                init.append(f"{acc} = {seq}[0]")
                body.append([f"{acc} = {'max' if cmp == '>' else 'min'}({acc}, {x})"])
            result.append(acc)
        elif kind == "list":
            init.append(f"{acc} = []")
            body.append([f"if {_condition(g, x)}:", f"    {acc}.append({expr})"])
            result.append(g.pick([acc, f"len({acc})"]))
        elif kind == "dict":
            init.append(f"{acc} = {{}}")
            key = g.pick([f"{x} % {g.int(2, 4)}", x, f"{x} > {g.int(0, 20)}"])
            body.append(g.pick([[f"{acc}[{key}] = {acc}.get({key}, 0) + 1"],
                                [f"if {key} not in {acc}:", f"    {acc}[{key}] = []",
                                 f"{acc}[{key}].append({x})"]]))
            result.append(acc)
        elif kind == "text":
            init.append(f'{acc} = ""')
            body.append([f"{acc} += str({x}) + {g.pick(['-', ',', ' ', ''])!r}"])
            result.append(g.pick([acc, f"{acc}.strip()"]))
        else:
            diff = g.name(["step", "gap", "delta", "change"])
            init.append(f"{acc} = {seq}[0]")
            body.append([f"{diff} = {x} - {acc}", f"{acc} = {x}"])
            result.append(acc)
    return init, body, result


def _text_accumulators(g, x, per_word):
    kinds = g.shuffled(["count", "build", "list", "dict", "longest"])[:g.int(1, 3)]
    init, body, result = [], [], []
    for kind in kinds:
        acc = g.name(ACCS, STRS, VARS) if kind != "list" else g.name(WORDLISTS, LISTS)
        if kind == "count":
            test = g.pick([f"{x} in 'aeiou'", f"{x}.isupper()", f"{x} == ' '", f"len({x}) > 3",
                           f"{x}.startswith('t')", f"{x} != {x}.lower()"])
            init.append(f"{acc} = 0")
            body.append([f"if {test}:", f"    {acc} += 1"])
        elif kind == "build":
            expr = g.pick([f"{x}.upper()", f"{x}[0]", f"{x}[::-1]", f"chr(ord({x}[0]) + 1)",
                           f"{x}.capitalize()", f"{x} * 2"])
            init.append(f'{acc} = ""')
            body.append([f"{acc} += {expr}"] if g.chance(0.6) else
                        [f"if {x}.isalpha():", f"    {acc} += {expr}", "else:",
                         f"    {acc} += {g.pick(['_', '-', '.'])!r}"])
        elif kind == "list":
            init.append(f"{acc} = []")
            body.append([f"{acc}.append({g.pick([f'len({x})', f'{x}.title()', f'ord({x}[0])', x])})"])
        elif kind == "dict":
            init.append(f"{acc} = {{}}")
            body.append([g.pick([f"{acc}[{x}] = {acc}.get({x}, 0) + 1", f"{acc}[{x}] = len({x})",
                                 f"{acc}[{x}[0]] = {x}"])])
        else:
            init.append(f'{acc} = ""')
            body.append([f"if len({x}) > len({acc}):", f"    {acc} = {x}"])
        result.append(acc)
    if kinds[0] == "build" and g.chance(0.3) and not per_word:
        result[0] = f"{result[0]}.strip()"
    return init, body, result


def _scan_source(g):
    """(params, args, body) of one scan program."""
    if g.chance(0.6):
        seq, x = g.name(LISTS), g.name(["x", "v", "num", "item", "value", "n"])
        data = [g.int(-10, 60) for _ in range(g.int(2, 5))]
        init, parts, result = _int_accumulators(g, x, seq)
        i = g.name(["i", "j", "idx", "pos"])
        header = g.pick([[f"for {x} in {seq}:"], [f"for {x} in {seq}[1:]:"],
                         [f"for {i} in range(len({seq})):", f"    {x} = {seq}[{i}]"],
                         [f"for {i}, {x} in enumerate({seq}):"], [f"for {x} in sorted({seq}):"],
                         [f"for {x} in reversed({seq}):"]])
        params, args = [seq], [data]
    else:
        s = g.name(STRS)
        per_word = g.chance(0.5)
        x = g.name(["word", "w", "token", "part"]) if per_word else g.name(["ch", "c", "letter"])
        words = [g.word(5) for _ in range(g.int(1, 2) if not per_word else g.int(2, 4))]
        if g.chance(0.3):
            words[0] = words[0].capitalize()
        init, parts, result = _text_accumulators(g, x, per_word)
        header = [g.pick([f"for {x} in {s}.split():", f"for {x} in {s}.split(' '):"])
                  if per_word else g.pick([f"for {x} in {s}:", f"for {x} in {s}.lower():"])]
        params, args = [s], [" ".join(words)]
    body_lines = [line for part in g.shuffled(parts) for line in part]
    exit_ = []
    if g.chance(0.25):  # an early exit, before the updates
        test = _condition(g, x) if isinstance(args[0], list) else f"{x} == {x}.upper()"
        exit_ = [f"if {test}:", g.pick(["    break", "    break", "    continue"])]
    loop = header + ["    " + line for line in exit_ + body_lines]
    ret = result[0] if len(result) == 1 or g.chance(0.3) else ", ".join(result)
    return params, args, init + loop + [f"return {ret}"]


def fam_scan(g):
    """A loop over a list or a text with accumulators; retried until it runs and stays small."""
    for _ in range(20):
        name = g.name(["scan", "summarize", "tally", "check_all", "stats", "walk_items"])
        params, args, body = _scan_source(g)
        lines = func(name, params, body)
        ns = {}
        try:
            exec("\n".join(lines), ns)
            if small(ns[name](*args)):
                return [(name, lines)], name, args
        except Exception:
            pass
        g.used.clear()
    return [(name, lines)], name, args
