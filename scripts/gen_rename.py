"""Renaming pass of gen_programs.py: gives a generated program fresh identifiers and fresh words.

The families write their programs with small name pools (f, xs, total, ...) and twenty words
of data. A model trained on them can get names and string values right by recalling the pool
instead of copying them from the prompt, and then writes `def g(text):` for a hand-written
`def word_lengths(text):`. This pass renames, consistently within one program, the names the
program defines (functions, parameters, assigned variables, loop and `except ... as` targets)
and the words (lowercase, 3+ letters) in its string literals, drawing from a vocabulary of
several hundred English words, snake_case compounds and made-up syllable words, so that the
only way to predict them is to copy them.

The program's behaviour may change only through the words: a word keeps its length class but
not its letters (a `count("a")` counts something else). The program is traced after this pass,
so its trace is whatever the renamed program does; the tests check that renaming identifiers
alone leaves the trace unchanged up to the names.

The pass draws from its own random.Random(f"{seed}:{index}:rename"): the program before it
is the same with or without renaming.
"""

import ast
import builtins
import io
import keyword
import re
import tokenize

NOUNS = """
account age alarm album amount angle animal answer apple area array arrow asset badge bag
ball band bank base basket batch bean bell berry bill bird block board boat body bone book
border bottle box branch bread brick bridge bucket budget buffer bug button cable cake camera
candy card cart case cash castle cell chain chair chapter chart cheese chunk circle city class
clock cloud coin color column comment cookie corner count county crowd cup curve cycle date
deck degree delta depth desk detail digit dinner disk distance doc door dot draft dream drink
edge egg email engine entry error event exam face fact farm feature fee field figure file
film filter finger fish flag flame floor flower folder font food forest form frame friend
fruit game garden gate gift glass goal grade grain graph grid group guest hand handle hat
head heart height hill hint hole home hook horse hour house idea image inch index input item
jacket job joint journal key kind king kitchen knot label lake lamp lane layer leaf lesson
letter level limit line link list load lock log loop map mark market mask match meal member
menu mesh message meter mile mirror mode model money month motor mouse name needle nest net
node noise note number offset order owner page pair panel paper parent park part party path
pattern peak pencil phone photo piece pile pixel place plan plant plate player pocket point
pool port post pound price prize queue rabbit rate ratio reason record region report result
ring river road rock role room root round route row rule salt sample scale scene score
screen seat second seed shape share sheet shelf shell ship shoe shop side sign signal size
skill slot snake song sound space speed spoon spot square stack stage star state step stick
stock stone store story stream street string stripe sum table tag task team term test text
theme ticket tile time title token tool tooth topic total tower town track trade train tree
trip truck tune turn unit user value vector voice volume wall watch water wave weight wheel
window wing winner word worker world yard year zone
""".split()

VERBS = """
add apply build calc check clean clear collect combine compare compute convert copy count
decode encode fetch fill find fix flip format gather get group guess handle join keep load
make map measure merge move normalize pack parse pick place plan print process push read
reduce remove render repeat reset resize reverse rotate run scale scan score search select
send shift shrink sort split square strip sum swap take tally test track trim update
validate walk weigh wrap
""".split()

ADJECTIVES = """
big small new old last first next prev max min best worst low high left right top bottom
raw clean full empty total partial inner outer even odd hot cold fast slow long short
""".split()

SYLLABLES = """
ba be bi bo bu da de di do du fa fe fi fo ga go gu ka ke ki ko ku la le li lo lu ma me mi mo
mu na ne ni no nu pa pe pi po ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za zo
""".split()

RESERVED = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))


def made_up_word(r, parts=(2, 3)):
    """A pronounceable word no dictionary holds ("tavoki"): copying is the only way to it."""
    return "".join(r.choice(SYLLABLES) for _ in range(r.randint(*parts)))


def identifier(r, kind):
    """A fresh name for a function (kind "func") or a variable ("var")."""
    roll = r.random()
    if kind == "func":
        if roll < 0.5:
            return f"{r.choice(VERBS)}_{r.choice(NOUNS)}"
        if roll < 0.7:
            return r.choice(VERBS)
        if roll < 0.85:
            return r.choice(NOUNS) + r.choice(["s", "_of", ""])
        return made_up_word(r)
    if roll < 0.35:
        return r.choice(NOUNS) + r.choice(["", "", "s"])
    if roll < 0.6:
        return f"{r.choice(ADJECTIVES + NOUNS)}_{r.choice(NOUNS)}"
    if roll < 0.8:
        return r.choice("abcdefghijklmnopqrstuvwxyz") + r.choice(["", "", "1", "2", "0"])
    return made_up_word(r)


def data_word(r, length):
    """A word of about `length` letters (the original's): strings keep their size."""
    near = [w for w in NOUNS + VERBS if abs(len(w) - length) <= 1]
    if near and r.random() < 0.7:
        return r.choice(near)
    syllables = max(2, (length + 1) // 2)
    return made_up_word(r, (syllables - 1, syllables))


def defined_names(source):
    """The names a program defines, in order of appearance, split into functions and others."""
    funcs, others = [], []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            funcs.append(node.name)
        elif isinstance(node, ast.arg):
            others.append(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            others.append(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            others.append(node.name)
    return list(dict.fromkeys(funcs)), [n for n in dict.fromkeys(others) if n not in funcs]


def name_map(r, source, keep):
    """Old identifier -> new one, for every defined name not kept (probability `keep` each)."""
    funcs, others = defined_names(source)
    taken = set(funcs) | set(others)
    mapping = {}
    for old, kind in [(f, "func") for f in funcs] + [(o, "var") for o in others]:
        if old == "_" or r.random() < keep:
            continue
        for _ in range(20):
            new = identifier(r, kind)
            if new not in taken and new not in RESERVED and new.isidentifier():
                mapping[old] = new
                taken.add(new)
                break
    return mapping


WORD = re.compile(r"(?<![\w.])([a-z]{3,})(?!\w)")


def plain(literal):
    """A string literal whose words may be replaced: no f-string, no escapes."""
    return not re.match(r"[a-zA-Z]*[fF]", literal) and "\\" not in literal


def word_map(r, source):
    """Word -> new word for the lowercase words of 3+ letters in the string literals."""
    words = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.STRING and plain(tok.string):
            words += WORD.findall(tok.string)
    mapping, taken = {}, set(words)
    for w in dict.fromkeys(words):
        new = data_word(r, len(w))
        if new not in taken:
            mapping[w] = new
            taken.add(new)
    return mapping


def rewrite(source, names, words):
    """Apply the maps token by token: NAME tokens not after a dot, names inside f-string
    braces, and whole words inside other string literals."""
    lines = source.splitlines(keepends=True)
    edits = []  # (row, col_start, col_end, text)
    prev = None
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        new = None
        if tok.type == tokenize.NAME and tok.string in names and not (prev and prev.string == "."):
            new = names[tok.string]
        elif tok.type == tokenize.STRING:
            new = rewrite_string(tok.string, names, words)
        if new is not None and new != tok.string:
            (row, c0), (row_end, c1) = tok.start, tok.end
            assert row == row_end, "generated programs have one-line tokens"
            edits.append((row - 1, c0, c1, new))
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
            prev = tok
    for row, c0, c1, text in reversed(edits):
        lines[row] = lines[row][:c0] + text + lines[row][c1:]
    return "".join(lines)


def rewrite_string(literal, names, words):
    if re.match(r"[a-zA-Z]*[fF]", literal):  # f-string: names in the replacement fields
        def field(m):
            return "{" + re.sub(r"(?<![\w.])([A-Za-z_]\w*)",
                                lambda n: names.get(n.group(1), n.group(1)), m.group(1)) + "}"
        return re.sub(r"\{([^{}]*)\}", field, literal)
    if not plain(literal):
        return literal
    return WORD.sub(lambda m: words.get(m.group(1), m.group(1)), literal)


def rename(rng, source, keep=0.15, words=True):
    """`source` with fresh identifiers (each kept with probability `keep`) and, if `words`,
    fresh words in its string literals."""
    names = name_map(rng, source, keep)
    return rewrite(source, names, word_map(rng, source) if words else {})
