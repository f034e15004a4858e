"""The program families of gen_programs.py. Each builder takes a G (the program's random
choices) and returns (funcs, entry, args): funcs a list of (name, lines of the def), entry the
name of the entry function, args the literal arguments of its call."""

import gen_extended as ext
from gen_blocks import (ACCS, DICTS, FUNCS, LISTS, STRS, VARS, WORDLISTS, Sim, func, grow,
                        one, target)


def fam_arith(g):
    params = [g.name(VARS) for _ in range(g.int(1, 3))]
    args = [g.int(0, 30) for _ in params]
    sim = Sim(dict(zip(params, args)))
    ops = ["+", "-", "*", "//", "%"]

    def operand():
        names = sim.names(int)
        return g.pick(names) if names and g.chance(0.7) else str(g.int(1, 12))

    def proposal():
        names = sim.names(int)
        if g.extended and g.chance(0.3):
            return g.pick(ext.arith_extras(g, names, g.fresh(VARS, ACCS)))
        op = g.pick(ops)
        if g.chance(0.25):  # augmented assignment of an existing variable
            return f"{g.pick(names)} {op}= {g.int(2, 9)}"
        left = operand()
        if g.chance(0.25):
            inner = operand()
            if inner != left:  # no (u - u)
                left = f"({left} {g.pick(['+', '-'])} {inner})"
        right = str(g.int(2, 9)) if op in ("//", "%") else operand()
        return f"{g.fresh(VARS, ACCS)} = {left} {op} {right}"

    grow(g, sim, proposal, g.int(2, 5))
    last = target(sim.lines[-1]) if sim.lines else params[0]
    ret = last
    if g.chance(0.3) and len(sim.names(int)) > 1:
        ret = f"{last} {g.pick(['+', '-', '*'])} {g.pick([n for n in sim.names(int) if n != last])}"
    return one(g, params, sim.lines + [f"return {ret}"], args)


def _small_expr(g, x):
    c = g.int(1, 9)
    return g.pick([f"{x} * {c}", f"{x} - {c}", f"{c}", f"{x} // {c + 1}", f"-{x}", f"{x} + {c}"])


def fam_branch(g):
    kind = g.pick(["chain", "nested", "flags", "two", "bools"])
    res = g.name(ACCS)
    if kind in ("two", "bools"):
        a, b = g.name(VARS), g.name(VARS)
        av, bv, t = g.int(-5, 20), g.int(-5, 20), g.int(0, 12)
        if g.chance(0.2):
            bv = av
        if kind == "bools":
            ok, same = g.name(["ok", "le", "flag"]), g.name(["same", "eq", "tie"])
            body = [f"{ok} = {a} <= {b}", f"{same} = {a} == {b}",
                    f"big = {a} > {t} or {b} > {t}",
                    f"return {ok} and not {same}" if g.chance(0.5) else f"return ({ok}, {same}, big)"]
            if g.chance(0.5):
                body[0], body[1] = body[1], body[0]
        else:
            body = [f"if {a} > {b} and {a} > {t}:", f"    {res} = {a} - {b}",
                    f"elif {a} == {b} or {b} < {t}:", f"    {res} = {g.int(0, 5)}",
                    "else:", f"    {res} = {b} - {a}", f"return {res}"]
        return one(g, [a, b], body, [av, bv])
    x = g.name(VARS)
    t1 = g.int(0, 15)
    t2 = t1 + g.int(3, 15)
    xv = g.pick([t1, t2, g.int(-5, 40), g.int(-5, 40)])
    if kind == "chain":
        body = [f"if {x} {g.pick(['<', '<='])} {t1}:", f"    {res} = {_small_expr(g, x)}",
                f"elif {x} {g.pick(['<', '<=', '!='])} {t2}:", f"    {res} = {_small_expr(g, x)}"]
        if g.chance(0.4):
            body += [f"elif {x} % {g.int(2, 4)} == 0:", f"    {res} = {_small_expr(g, x)}"]
        body += ["else:", f"    {res} = {_small_expr(g, x)}", f"return {res}"]
    elif kind == "nested":
        l1, l2, l3 = (repr(w) for w in g.shuffled(["big", "small", "odd", "even", "low", "high"])[:3])
        body = [f"if {x} % 2 == 0:", f"    if {x} > {t1}:", f"        {res} = {l1}",
                "    else:", f"        {res} = {l2}", "else:", f"    {res} = {l3}",
                f"return {res}"]
    else:  # independent flags, in random order
        tests = [[f"if {x} > {t1}:", f"    {res} += 1"],
                 [f"if {x} % {g.int(2, 5)} == 0:", f"    {res} += 10"],
                 [f"if not {x} < {t2}:", f"    {res} *= 2"],
                 [f"if {x} != {g.int(0, 9)} and {x} < {t2}:", f"    {res} -= 3"]]
        body = [f"{res} = 0"] + [l for t in g.shuffled(tests)[:g.int(2, 4)] for l in t]
        body.append(f"return {res}")
    return one(g, [x], body, [xv])


def fam_for(g):
    kind = g.pick(["range", "list", "nested", "best", "enum"])
    acc = g.name(ACCS)
    i = g.name(["i", "j", "k", "idx"])
    if kind in ("range", "nested"):
        n = g.name(["n", "m", "size", "limit"])
        nv = g.int(2, 6)
        if kind == "nested":
            j = g.name(["j", "jj", "col"])
            inner = g.pick([f"{acc} += {i} * {j}", f"{acc} += {i} + {j}"])
            body = [f"{acc} = 0", f"for {i} in range({n}):", f"    for {j} in range({g.int(2, 3)}):",
                    f"        {inner}", f"return {acc}"]
            return one(g, [n], body, [g.int(2, 3)])
        rng = g.pick([f"range({n})", f"range(1, {n} + 1)", f"range({g.int(0, 3)}, {n} * 2, 2)"])
        step = g.pick([f"{acc} += {i}", f"{acc} += {i} * {g.int(2, 5)}", f"{acc} = {acc} + {i} % 3",
                       f"{acc} -= {i}"])
        body = [f"{acc} = {g.int(0, 10)}", f"for {i} in {rng}:"]
        if g.chance(0.4):
            body += [f"    if {i} % 2 == 0:", f"        {step}", "    else:", f"        {acc} += 1"]
        else:
            body += [f"    {step}"]
        return one(g, [n], body + [f"return {acc}"], [nv])
    xs, x = g.name(LISTS), g.name(["x", "v", "item", "e"])
    data = [g.int(-5, 30) for _ in range(g.int(3, 6))]
    t = g.int(0, 15)
    if kind == "list":
        cnt = g.name(["cnt", "misses", "low"])
        body = [f"{acc} = 0", f"{cnt} = 0", f"for {x} in {xs}:", f"    if {x} > {t}:",
                f"        {acc} += {x}", "    else:", f"        {cnt} += 1",
                g.pick([f"return {acc} - {cnt}", f"return ({acc}, {cnt})"])]
        if g.chance(0.5):
            body[0], body[1] = body[1], body[0]
    elif kind == "best":
        cmp = g.pick([">", "<"])
        body = [f"{acc} = {xs}[0]", f"for {x} in {xs}:", f"    if {x} {cmp} {acc}:",
                f"        {acc} = {x}", f"return {acc}"]
    else:
        target = g.pick(data + [99])
        extra = [f"    if {x} < 0:", "        continue"] if g.chance(0.4) else []
        body = [f"for {i}, {x} in enumerate({xs}):"] + extra + [
            f"    if {x} == {target}:", f"        return {i}", "return -1"]
    return one(g, [xs], body, [data])


def fam_while(g):
    kind = g.pick(["digits", "counter", "halving", "collatz", "until"])
    n, acc = g.name(["n", "m", "num", "x"]), g.name(ACCS)
    if kind == "digits":
        op = g.pick(["+", "*"]) if g.chance(0.3) else "+"
        start = 0 if op == "+" else 1
        body = [f"{acc} = {start}", f"while {n} > 0:", f"    {acc} {op}= {n} % 10",
                f"    {n} //= 10", f"return {acc}"]
        return one(g, [n], body, [g.int(10, 999)])
    if kind == "counter":
        i = g.name(["i", "k", "j"])
        step = g.int(1, 3)
        body = [f"{i} = 0", f"{acc} = 0", f"while {i} < {n}:", f"    {acc} += {i}",
                f"    {i} += {step}", f"return {acc}"]
        if g.chance(0.5):
            body[0], body[1] = body[1], body[0]
        return one(g, [n], body, [g.int(2, 6 * step)])
    if kind == "halving":
        body = [f"{acc} = 0", f"while {n} > 1:", f"    {n} //= 2", f"    {acc} += 1",
                f"return {acc}"]
        return one(g, [n], body, [g.int(1, 200)])
    if kind == "collatz":
        body = [f"{acc} = 0", f"while {n} != 1:", f"    if {n} % 2 == 0:", f"        {n} //= 2",
                "    else:", f"        {n} = 3 * {n} + 1", f"    {acc} += 1", f"return {acc}"]
        return one(g, [n], body, [g.pick([1, 2, 3, 4, 5, 8, 10, 16, 20, 32])])
    i = g.name(["i", "k", "j"])
    body = [f"{i} = 0", "while True:", f"    {i} += 1", f"    if {i} * {i} > {n}:", "        break",
            f"return {i}"]
    return one(g, [n], body, [g.int(0, 60)])


def fam_string(g):
    if g.chance(0.25):  # a loop over the characters
        s, cnt, ch = g.name(STRS), g.name(ACCS), g.name(["ch", "c", "letter"])
        pool = g.pick(['"aeiou"', '"xyz"', '"abc"', '"lo"'])
        body = [f"{cnt} = 0", f"for {ch} in {s}:", f"    if {ch} in {pool}:", f"        {cnt} += 1"]
        if g.chance(0.5):
            out = g.name(STRS)
            body = [f'{out} = ""'] + body + ["    else:", f"        {out} += {ch}.upper()",
                                              f"return {out}, {cnt}"]
        else:
            body.append(f"return {cnt}")
        return one(g, [s], body, [g.word()])
    s = g.name(STRS)
    value = g.word() if g.chance(0.5) else " ".join(g.word() for _ in range(g.int(2, 3)))
    sim = Sim({s: value})

    def proposal():
        strs, lists, ints = sim.names(str), sim.names(list), sim.names(int)
        v = g.pick(strs)
        ch = g.pick(sim.ns[v]) if sim.ns[v] else "a"
        new_s, new_i = g.fresh(STRS), g.fresh(["n", "k", "size", "pos", "cnt"])
        opts = [f"{new_s} = {v}.upper()", f"{new_s} = {v}.lower()",
                f"{new_s} = {v}.replace({ch!r}, {g.pick('aeoxz_')!r})",
                f"{new_s} = {v}[:{g.int(1, 4)}]", f"{new_s} = {v}[{g.int(1, 3)}:]",
                f"{new_s} = {v}[-{g.int(1, 3)}:]", f"{new_s} = {v}[::-1]",
                f"{new_i} = len({v})", f"{new_i} = {v}.count({ch!r})", f"{new_i} = {v}.find({ch!r})",
                f'{new_s} = {v} + "{g.pick(["!", "-", "_x", "?"])}"',
                f"{g.fresh(WORDLISTS)} = {v}.split()"]
        if len(strs) > 1:
            opts.append(f"{new_s} = {v} + {g.pick([x for x in strs if x != v])}")
        if ints:
            opts.append(f'{new_s} = f"{{{v}}}:{{{g.pick(ints)}}}"')
        if g.extended and g.chance(0.4):
            opts = ext.string_extras(g, v, sim.ns[v], ints, new_s, new_i, g.fresh(WORDLISTS))
        for lst in lists:
            opts += [f'{new_s} = "{g.pick(["-", " ", ""])}".join({lst})', f"{new_s} = {lst}[0]",
                     f"{new_i} = len({lst})"]
        return g.pick(opts)

    grow(g, sim, proposal, g.int(2, 5))
    last = target(sim.lines[-1]) if sim.lines else s
    ret = f'f"{{{last}}}/{{{s}}}"' if g.chance(0.2) and last != s else last
    return one(g, [s], sim.lines + [f"return {ret}"], [value])


def fam_list(g):
    xs = g.name(LISTS)
    data = [g.int(0, 20) for _ in range(g.int(2, 5))]
    sim = Sim({xs: data})

    def proposal():
        lists, ints = sim.names(list), sim.names(int)
        v = g.pick(lists)
        cur = sim.ns[v]
        c = g.int(0, 20)
        new_l, new_i = g.fresh(LISTS), g.fresh(VARS, ACCS)
        elem = g.pick(cur) if cur else c
        idx = g.int(-len(cur), len(cur) - 1) if cur else 0
        opts = [f"{v}.append({c})", f"{v}.insert(0, {c})", f"{v}.extend([{c}, {g.int(0, 9)}])",
                f"{new_i} = sum({v})", f"{new_i} = len({v})", f"{new_l} = sorted({v})",
                f"{new_l} = sorted({v}, reverse=True)", f"{new_l} = {v}[{g.int(0, 2)}:{g.int(2, 4)}]",
                f"{new_l} = [e * {g.int(2, 3)} for e in {v}]", f"{new_l} = {v} + [{c}]",
                f"{v}.reverse()", f"{v}.sort()", f"{new_i} = {c} in {v}"]
        if cur:
            opts += [f"{new_i} = {v}.pop()", f"{new_i} = {v}.pop(0)", f"{new_i} = {v}[{idx}]",
                     f"{v}[{idx}] = {g.pick(ints) if ints else c}", f"{new_i} = max({v})",
                     f"{v}.remove({elem})", f"{new_i} = {v}.index({elem})"]
        if g.extended and g.chance(0.4):
            opts = ext.list_extras(g, v, cur, new_l, new_i)
        return g.pick(opts)

    grow(g, sim, proposal, g.int(2, 5))
    last = target(sim.lines[-1]) if sim.lines else xs
    ret = g.pick([last, f"({last}, {xs})"]) if last != xs else xs
    return one(g, [xs], sim.lines + [f"return {ret}"], [data])


def fam_dict(g):
    kind = g.pick(["count", "group", "ops", "ops", "invert"])
    d = g.name(DICTS)
    if kind == "count":
        s, ch = g.name(STRS), g.name(["ch", "c", "key"])
        style = g.pick(["get", "in", "setdefault"])
        loop = {"get": [f"    {d}[{ch}] = {d}.get({ch}, 0) + 1"],
                "in": [f"    if {ch} in {d}:", f"        {d}[{ch}] += 1", "    else:",
                       f"        {d}[{ch}] = 1"],
                "setdefault": [f"    {d}.setdefault({ch}, 0)", f"    {d}[{ch}] += 1"]}[style]
        arg = g.word() if g.chance(0.6) else [g.pick(["a", "b", "c"]) for _ in range(g.int(3, 6))]
        return one(g, [s], [f"{d} = {{}}", f"for {ch} in {s}:"] + loop + [f"return {d}"], [arg])
    if kind == "group":
        ws, w = g.name(WORDLISTS), g.name(["w", "word", "item"])
        key = g.pick([f"len({w})", f"{w}[0]"])
        body = [f"{d} = {{}}", f"for {w} in {ws}:", f"    {d}.setdefault({key}, []).append({w})",
                f"return {d}"]
        return one(g, [ws], body, [[g.word() for _ in range(g.int(2, 4))]])
    keys = g.shuffled(["a", "b", "c", "x", "y", "red", "blue", "pen", "cup"])[:g.int(2, 3)]
    data = {k: g.int(0, 20) for k in keys}
    k, v = g.name(["k", "key", "name"]), g.name(["v", "val", "num"])
    if kind == "invert":
        inv = g.name(DICTS)
        body = [f"{inv} = {{}}", f"for {k}, {v} in {d}.items():", f"    {inv}[{v}] = {k}",
                f"return {inv}"]
        return one(g, [d], body, [data])
    sim = Sim({d: data})

    def proposal():
        cur = sim.ns[d]
        key = g.pick(list(cur) + ["z", "q"])
        new = g.fresh(VARS, ACCS)
        c = g.int(0, 20)
        opts = [f"{d}[{key!r}] = {c}", f"{new} = {d}.get({key!r}, 0)", f"{d}.update({{{key!r}: {c}}})",
                f"{d}[{key!r}] += {c}", f"{new} = list({d}.keys())", f"{new} = sorted({d})",
                f"{new} = len({d})", f"{new} = {d}.pop({key!r})", f"{new} = {key!r} in {d}",
                f"{new} = list({d}.values())", f"{new} = sum({d}.values())"]
        if g.extended and g.chance(0.4):
            opts = ext.dict_extras(g, d, cur, new)
        return g.pick(opts)

    grow(g, sim, proposal, g.int(2, 4))
    body = list(sim.lines)
    if g.chance(0.5):
        tot = g.name(ACCS)
        body += [f"{tot} = 0", f"for {k}, {v} in {d}.items():", f"    {tot} += {v}", f"return {tot}"]
    else:
        body.append(f"return {d}")
    return one(g, [d], body, [data])


def fam_tuple(g):
    kind = g.pick(["fib", "swap", "minmax", "divmod", "point", "star", "zip"])
    a, b = g.name(VARS), g.name(VARS)
    if kind == "fib":
        n = g.name(["n", "steps", "count"])
        body = [f"{a}, {b} = 0, 1", f"for _ in range({n}):", f"    {a}, {b} = {b}, {a} + {b}",
                f"return {a}"]
        return one(g, [n], body, [g.int(1, 8)])
    if kind == "swap":
        body = [f"if {a} > {b}:", f"    {a}, {b} = {b}, {a}",
                g.pick([f"return ({a}, {b})", f"return {b} - {a}"])]
        return one(g, [a, b], body, [g.int(0, 20), g.int(0, 20)])
    if kind == "divmod":
        q, r = g.name(["q", "quo"]), g.name(["rem", "r2", "mod"])
        body = [f"{q}, {r} = divmod({a}, {b})", g.pick([f"return {q} * 10 + {r}", f"return ({q}, {r})"])]
        return one(g, [a, b], body, [g.int(0, 99), g.int(1, 9)])
    if kind == "point":
        p = g.name(["p", "pt", "pos"])
        dx, dy = g.int(-3, 3), g.int(-3, 3)
        body = [f"{p} = ({a}, {b})", f"{a}2, {b}2 = {p}", f"{p} = ({a}2 + {dx}, {b}2 + {dy})",
                f"return {p}"]
        return one(g, [a, b], body, [g.int(0, 9), g.int(0, 9)])
    xs = g.name(LISTS)
    data = [g.int(0, 20) for _ in range(g.int(2, 5))]
    if kind == "star":
        first, rest = g.name(["first", "head", "top"]), g.name(["rest", "others", "tail"])
        body = [f"{first}, *{rest} = {xs}", f"return {first}, len({rest})"]
        return one(g, [xs], body, [data])
    if kind == "zip":
        ys, acc = g.name(LISTS), g.name(ACCS)
        body = [f"{acc} = 0", f"for {a}, {b} in zip({xs}, {ys}):", f"    {acc} += {a} * {b}",
                f"return {acc}"]
        return one(g, [xs, ys], body, [data, [g.int(0, 9) for _ in data]])
    helper, entry = g.name(["minmax", "bounds", "span"]), g.name(FUNCS)
    lo, hi = g.name(["lo", "low", "mn"]), g.name(["hi", "high", "mx"])
    hfun = func(helper, [xs], [f"return min({xs}), max({xs})"])
    efun = func(entry, [xs], [f"{lo}, {hi} = {helper}({xs})", f"return {hi} - {lo}"])
    return [(helper, hfun), (entry, efun)], entry, [data]


# Helpers for the "calls" family: (names, params, body). Params/bodies use fixed local names.
HELPERS = [
    (["sq", "square"], ["x"], ["return x * x"]),
    (["add", "plus"], ["a", "b"], ["return a + b"]),
    (["twice", "double"], ["x"], ["y = x * 2", "return y"]),
    (["half", "halve"], ["n"], ["return n // 2"]),
    (["inc", "bump"], ["n", "k=1"], ["return n + k"]),
    (["clamp", "limit"], ["v", "lo=0", "hi=50"], ["if v < lo:", "    return lo", "if v > hi:",
                                                    "    return hi", "return v"]),
    (["sign", "sgn"], ["n"], ["if n > 0:", "    return 1", "elif n < 0:", "    return -1",
                              "return 0"]),
    (["diff", "gap"], ["a", "b"], ["d = a - b", "if d < 0:", "    d = -d", "return d"]),
]


def fam_calls(g):
    chosen = [HELPERS[i] for i in g.shuffled(range(len(HELPERS)))[:g.int(2, 3)]]
    funcs, sim = [], Sim({})
    names = []
    for pool, params, body in chosen:
        name = g.name(pool)
        funcs.append((name, func(name, params, body)))
        sim.define(funcs[-1][1])
        names.append((name, sum(1 for p in params if "=" not in p)))
    if g.chance(0.3):  # a helper that calls another helper
        (inner, arity), wrap = names[0], g.name(["both", "combo", "chain"])
        call = f"{inner}(x)" if arity == 1 else f"{inner}(x, 3)"
        funcs.append((wrap, func(wrap, ["x"], [f"r = {call} + 1", "return r"])))
        sim.define(funcs[-1][1])
        names.append((wrap, 1))
    x = g.name(VARS)
    xv = g.int(-5, 15)
    sim.ns[x] = xv

    def proposal():
        name, arity = g.pick(names)
        ints = sim.names(int)
        args = [g.pick(ints) if g.chance(0.7) else str(g.int(0, 9)) for _ in range(arity)]
        return f"{g.fresh(VARS, ACCS)} = {name}({', '.join(args)})"

    if g.chance(0.3):  # calls inside a loop
        (name, arity), acc, i = g.pick(names), g.name(ACCS), g.name(["i", "j"])
        args = f"{i}" if arity == 1 else f"{acc}, {i}"
        body = [f"{acc} = 0", f"for {i} in range({x}):", f"    {acc} += {name}({args})",
                f"return {acc}"]
        xv = g.int(1, 4)
    else:
        grow(g, sim, proposal, g.int(2, 4))
        last = target(sim.lines[-1]) if sim.lines else x
        body = sim.lines + [f"return {last}"]
    entry = g.name(FUNCS)
    return funcs + [(entry, func(entry, [x], body))], entry, [xv]


def _gcd_depth(a, b):
    depth = 1
    while b:
        a, b, depth = b, a % b, depth + 1
    return depth


def fam_recursion(g):
    kind = g.pick(["fact", "fib", "digits", "gcd", "power", "sumlist", "rev", "binary"])
    name = g.name({"fact": ["fact", "factorial"], "fib": ["fib", "fibo"],
                   "digits": ["digit_sum", "dsum"], "gcd": ["gcd", "common"],
                   "power": ["power", "pw"], "sumlist": ["total_of", "rsum"],
                   "rev": ["rev", "backwards"], "binary": ["binary", "to_bin"]}[kind])
    n = g.name(["n", "k", "m"])
    base = g.pick([f"{n} <= 1", f"{n} < 2"])
    if kind == "fact":
        params, args = [n], [g.int(0, 6)]
        body = [f"if {base}:", "    return 1", f"return {n} * {name}({n} - 1)"]
        if g.chance(0.4):
            body = [f"if {base}:", "    return 1", f"rest = {name}({n} - 1)", f"return {n} * rest"]
    elif kind == "fib":
        params, args = [n], [g.int(0, 4)]  # fib(5) is ~60 frames: over the length cap
        body = [f"if {n} < 2:", f"    return {n}", f"return {name}({n} - 1) + {name}({n} - 2)"]
    elif kind == "digits":
        params, args = [n], [g.int(0, 9999)]
        body = [f"if {n} < 10:", f"    return {n}", f"return {n} % 10 + {name}({n} // 10)"]
    elif kind == "gcd":
        a, b = g.int(1, 99), g.int(0, 60)
        while _gcd_depth(a, b) > 8:
            b //= 2
        params, args = ["a", "b"], [a, b]
        body = ["if b == 0:", "    return a", f"return {name}(b, a % b)"]
    elif kind == "power":
        params, args = ["base", "e"], [g.int(2, 3), g.int(0, 6)]
        body = ["if e == 0:", "    return 1", f"return base * {name}(base, e - 1)"]
    elif kind == "sumlist":
        params, args = ["xs"], [[g.int(0, 20) for _ in range(g.int(0, 5))]]
        body = ["if not xs:", "    return 0", f"return xs[0] + {name}(xs[1:])"]
    elif kind == "rev":
        params, args = ["s"], [g.word(5)]
        body = ["if len(s) <= 1:", "    return s", f"return {name}(s[1:]) + s[0]"]
    else:
        params, args = [n], [g.int(0, 100)]
        body = [f"if {n} < 2:", f"    return str({n})", f"return {name}({n} // 2) + str({n} % 2)"]
    rec = (name, func(name, params, body))
    if g.chance(0.5):
        return [rec], name, args
    entry, r = g.name(FUNCS), g.name(ACCS)  # a wrapper entry calling the recursive helper
    wbody = [f"{r} = {name}({', '.join(params)})",
             g.pick([f"return {r}", f"return ({r}, {params[0]})"])]
    return [rec, (entry, func(entry, params, wbody))], entry, args


def fam_exception(g):
    kind = g.pick(["parse", "zero", "key", "index", "helper", "helper", "escape", "escape",
                   "finally"])
    r = g.name(ACCS)
    if kind == "parse":
        s = g.name(STRS)
        body = ["try:", f"    {r} = int({s})", "except ValueError:", f"    {r} = -1",
                f"return {r} * 2"]
        return one(g, [s], body, [g.pick(["12", "7", "x1", "abc", "3.5", "-4", "", "42"])])
    if kind in ("zero", "finally"):
        a, b = g.name(VARS), g.name(VARS)
        op = g.pick(["//", "%"])
        body = ["try:", f"    {r} = {a} {op} {b}", "except ZeroDivisionError:", f"    {r} = 0"]
        if kind == "finally":
            cnt = g.name(["cnt", "tries", "calls"])
            body = [f"{cnt} = 0"] + body + ["else:", f"    {r} += 1", "finally:",
                                            f"    {cnt} += 1", f"return {r}, {cnt}"]
        else:
            body.append(f"return {r}")
        return one(g, [a, b], body, [g.int(0, 50), g.pick([0, 0, g.int(1, 9)])])
    if kind == "key":
        d, k = g.name(DICTS), g.name(["key", "k", "name"])
        data = {w: g.int(0, 20) for w in g.shuffled(["a", "b", "x", "pen", "cup"])[:2]}
        exc = g.pick(["KeyError", "(KeyError, IndexError)"])
        body = ["try:", f"    {r} = {d}[{k}]", f"except {exc}:", f"    {r} = {g.int(-1, 0)}",
                f"return {r}"]
        return one(g, [d, k], body, [data, g.pick(list(data) + ["zz"])])
    if kind == "index":
        xs, i = g.name(LISTS), g.name(["i", "idx", "pos"])
        data = [g.int(0, 20) for _ in range(g.int(1, 4))]
        body = ["try:", f"    {r} = {xs}[{i}]", "except IndexError:", f"    {r} = None",
                f"return {r}"]
        return one(g, [xs, i], body, [data, g.int(-2, 5)])
    exc = g.pick(["ValueError", "ValueError", "KeyError", "ZeroDivisionError"])
    helper, x = g.name(["check", "validate", "safe", "need_pos"]), g.name(VARS)
    t = g.int(0, 5)
    hbody = [f"if {x} < {t}:", f"    raise {exc}({g.pick(['negative', 'too small', 'bad'])!r})",
             f"return {x} * 2"]
    funcs = [(helper, func(helper, [x], hbody))]
    xs, v, entry = g.name(LISTS), g.name(["v", "e", "item"]), g.name(FUNCS)
    data = [g.int(t, 9) for _ in range(g.int(1, 4))]
    if kind == "helper" or g.chance(0.7):  # a value that raises, at a random position
        data.insert(g.int(0, len(data)), g.int(-3, -1))
    if kind == "helper":  # raised in the helper, caught by the caller
        handler = g.pick([f"        {r}.append(0)", f"        {r}.append(str(err))"])
        body = [f"{r} = []", f"for {v} in {xs}:", "    try:", f"        {r}.append({helper}({v}))",
                f"    except {exc} as err:", handler, f"return {r}"]
    elif g.chance(0.5):  # escapes the entry through the helper
        body = [f"{r} = 0", f"for {v} in {xs}:", f"    {r} += {helper}({v})", f"return {r}"]
    else:  # raised by the entry itself
        funcs = []
        body = [f"{r} = 0", f"for {v} in {xs}:", f"    if {v} < 0:",
                f"        raise ValueError(f\"bad value {{{v}}}\")", f"    {r} += {v}", f"return {r}"]
    return funcs + [(entry, func(entry, [xs], body))], entry, [data]
