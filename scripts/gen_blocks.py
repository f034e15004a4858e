"""Building blocks of gen_programs.py: name pools, the random choices of one program (G), the
statement simulator that keeps generated values valid and small (Sim), and def assembly."""

import builtins
import copy

FUNCS = ["f", "g", "h", "run", "solve", "calc", "compute", "work", "process", "go", "main_fn",
         "evaluate", "walk", "build", "score"]
VARS = ["a", "b", "c", "n", "m", "x", "y", "z", "k", "p", "q", "u", "v", "w", "t", "r"]
ACCS = ["total", "acc", "res", "out", "cnt", "result", "val", "tmp", "best", "cur"]
STRS = ["s", "text", "word", "name", "msg", "head", "tail", "part", "line", "label", "tag"]
LISTS = ["xs", "nums", "vals", "items", "data", "arr", "lst", "ys", "seq", "buf"]
WORDLISTS = ["words", "parts", "tokens", "pieces", "names"]
DICTS = ["d", "counts", "table", "seen", "ages", "stock", "scores", "freq"]
WORDS = ["apple", "banana", "cat", "dog", "hello", "world", "tree", "code", "data", "alpha",
         "beta", "sun", "moon", "red", "blue", "kiwi", "lemon", "stone", "river", "pixel"]


class G:
    """The random choices of one program; names are drawn so that no two things share one."""

    def __init__(self, rng, extended=False):
        self.r = rng
        self.used = set()
        self.extended = extended  # may use gen_extended.py's statements

    def name(self, *pools):
        free = [n for pool in pools for n in pool if n not in self.used]
        n = self.r.choice(free)
        self.used.add(n)
        return n

    def fresh(self, *pools):
        """A name for a variable that a proposed line would create; marked used only if the
        line is kept (see grow), so rejected proposals do not drain the pools. When every
        name is taken, an existing one is reassigned."""
        allnames = [n for pool in pools for n in pool]
        free = [n for n in allnames if n not in self.used]
        return self.r.choice(free or allnames)

    def int(self, lo, hi):
        return self.r.randint(lo, hi)

    def pick(self, seq):
        return self.r.choice(list(seq))

    def chance(self, p):
        return self.r.random() < p

    def shuffled(self, seq):
        out = list(seq)
        self.r.shuffle(out)
        return out

    def word(self, maxlen=6):
        return self.pick([w for w in WORDS if len(w) <= maxlen])


def small(value):
    """Values the generated programs may hold: short traces and reprs need small data."""
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, (int, float)):
        return abs(value) < 1000
    if isinstance(value, str):
        return len(value) <= 24
    if isinstance(value, (list, tuple)):
        return len(value) <= 8 and all(small(v) for v in value)
    if isinstance(value, dict):
        return len(value) <= 6 and all(small(k) and small(v) for k, v in value.items())
    return callable(value)


class Sim:
    """Runs the lines of a straight-line body as they are generated, so that later choices can
    depend on actual values (pop only from a non-empty list, indexes in range, small ints)."""

    def __init__(self, params):
        self.ns = {"__builtins__": builtins}
        self.ns.update(copy.deepcopy(params))
        self.lines = []

    def names(self, *types):
        return [k for k, v in self.ns.items()
                if not k.startswith("__") and type(v) in types and not callable(v)]

    def define(self, lines):
        exec("\n".join(lines), self.ns)  # a helper def, so that calls to it can be simulated

    def add(self, line):
        """Keep `line` if it runs and leaves every value small; return whether it was kept."""
        saved = copy.copy(self.ns)
        try:
            exec(line, self.ns)
            ok = all(small(v) for k, v in self.ns.items() if not k.startswith("__"))
        except Exception:
            ok = False
        if ok:
            self.lines.append(line)
        else:
            self.ns = saved
        return ok


def func(name, params, body):
    return [f"def {name}({', '.join(params)}):"] + ["    " + line for line in body]


def one(g, params, body, args):
    """A program made of the entry function alone."""
    name = g.name(FUNCS)
    return [(name, func(name, params, body))], name, args


def target(line):
    """The variable a generated statement assigns or changes: xs in `xs = ...`,
    `xs.append(1)`, `xs[0] = 2` and `del xs[0]`."""
    words = line.split()
    return words[words[0] == "del"].split(".")[0].split("[")[0]


def grow(g, sim, proposals, count, tries=40):
    """Add up to `count` lines drawn from `proposals()` (a line or None) that run fine."""
    added = 0
    for _ in range(tries):
        if added == count:
            break
        line = proposals()
        if line and sim.add(line):
            added += 1
            g.used.add(target(line))
