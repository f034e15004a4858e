PROGRAMS = [
    {"source": '''
def clean_username(raw_name):  # << START_OF_TRACE
    trimmed = raw_name.strip().lower()
    collapsed = "_".join(trimmed.split())
    for bad_char in "-'.":
        collapsed = collapsed.replace(bad_char, "")
    return collapsed
''', "args": ["choice '  Alice Smith ' | 'BOB_jones' | ' carol  ' | \"Dave-O'Brien\" | 'e.f. kim'"]},

    {"source": '''
def parse_settings(config_line):  # << START_OF_TRACE
    settings = {}
    for chunk in config_line.split(";"):
        if not chunk.strip():
            continue
        key, value = chunk.split("=")
        settings[key.strip()] = value.strip()
    return settings
''', "args": ["choice 'name=box; size=3' | 'a=1;b=2;' | 'mode=fast;;level' | 'x = 10' | 'k=v=w'"]},

    {"source": '''
def day_of_year(year_text, month_text, day_text):  # << START_OF_TRACE
    days_in_month = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    year, month, day = int(year_text), int(month_text), int(day_text)
    if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        days_in_month[1] = 29
    if not 1 <= month <= 12 or not 1 <= day <= days_in_month[month - 1]:
        raise ValueError(f"bad date {year_text}-{month_text}-{day_text}")
    return sum(days_in_month[:month - 1]) + day
''', "args": ["choice '2024' | '2023' | '1900' | '2000'", "chars 2 2 01", "chars 2 2 0123"]},

    {"source": '''
def describe_date(stamp):  # << START_OF_TRACE
    month_names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun",
                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    year, month, day = stamp.split("-")
    month_name = month_names[int(month) - 1]
    return f"{int(day)} {month_name} {year}"
''', "args": ["choice '2024-05-17' | '1999-12-01' | '2021-07-04' | '2020-13-09' | '2022-03'"]},

    {"source": '''
def to_numbers(version):
    return [int(part) for part in version.split(".")]

def compare_versions(left, right):  # << START_OF_TRACE
    left_parts = to_numbers(left)
    right_parts = to_numbers(right)
    while len(left_parts) < len(right_parts):
        left_parts.append(0)
    while len(right_parts) < len(left_parts):
        right_parts.append(0)
    if left_parts < right_parts:
        return -1
    return 1 if left_parts > right_parts else 0
''', "args": ["choice '1.2.3' | '1.10' | '2.0.0' | '1.2' | '0.9.12'", "choice '1.2.3' | '1.9' | '2' | '1.2.0' | '0.10'"]},

    {"source": '''
def password_strength(password):  # << START_OF_TRACE
    score = 0
    if len(password) >= 8:
        score += 1
    if password != password.lower():
        score += 1
    if any([ch.isdigit() for ch in password]):
        score += 1
    if not password.isalnum():
        score += 1
    return ["weak", "fair", "good", "strong", "strong"][score]
''', "args": ["chars 4 9 abcdXYZ019!?"]},

    {"source": '''
def vowel_counts(word):  # << START_OF_TRACE
    counts = {}
    for letter in word:
        if letter in "aeiou":
            counts[letter] = counts.get(letter, 0) + 1
    return counts
''', "args": ["word"]},

    {"source": '''
def longest_word(sentence):  # << START_OF_TRACE
    best = ""
    best_position = -1
    for position, word in enumerate(sentence.split()):
        if len(word) > len(best):
            best = word
            best_position = position
    return best, best_position
''', "args": ["text 1 3"]},

    {"source": '''
def headline_case(phrase):  # << START_OF_TRACE
    minor_words = {"a", "an", "the", "of", "and", "in"}
    words = phrase.lower().split()
    result = []
    for index, word in enumerate(words):
        if index > 0 and word in minor_words:
            result.append(word)
        else:
            result.append(word[0].upper() + word[1:])
    return " ".join(result)
''', "args": ["choice 'lord OF rings' | 'war AND peace' | 'in the heat' | 'moby dick' | 'the end'"]},

    {"source": '''
def initials(full_name, with_dots):  # << START_OF_TRACE
    letters = [part[0].upper() for part in full_name.split()]
    if with_dots:
        return ".".join(letters) + "."
    return "".join(letters)
''', "args": ["text 1 4", "bool"]},

    {"source": '''
def make_acronym(words, min_length):  # << START_OF_TRACE
    acronym = ""
    for word in words:
        if len(word) < min_length:
            continue
        acronym += word[0]
    return acronym.upper() or None
''', "args": ["words 1 5", "int 3 7"]},

    {"source": '''
def shift_letter(letter, shift):
    if not letter.isalpha():
        return letter
    offset = (ord(letter) - ord("a") + shift) % 26
    return chr(ord("a") + offset)

def caesar(message, shift):  # << START_OF_TRACE
    return "".join([shift_letter(ch, shift) for ch in message])
''', "args": ["chars 1 4 abcwxyz!", "int -5 25"]},

    {"source": '''
def is_palindrome(phrase):  # << START_OF_TRACE
    letters = [ch.lower() for ch in phrase if ch.isalnum()]
    left, right = 0, len(letters) - 1
    while left < right:
        if letters[left] != letters[right]:
            return False
        left += 1
        right -= 1
    return True
''', "args": ["choice 'Racecar' | 'A nut, tuna' | 'abcba' | 'Noon' | 'level up'"]},

    {"source": '''
def group_anagrams(words):  # << START_OF_TRACE
    groups = {}
    for word in words:
        key = "".join(sorted(word))
        groups.setdefault(key, []).append(word)
    return sorted(groups.values(), key=len, reverse=True)
''', "args": ["choice ['listen', 'silent', 'enlist', 'google'] | ['rat', 'tar', 'art', 'star'] | ['dusty', 'study'] | ['one', 'two', 'neo', 'owt']"]},

    {"source": '''
def format_row(label, amount, width):  # << START_OF_TRACE
    if len(label) > width:
        label = label[:width - 1] + "~"
    left = label.ljust(width, ".")
    right = f"{amount:>8.2f}"
    return f"|{left}|{right}|"
''', "args": ["word", "float 0 999", "int 4 10"]},

    {"source": '''
def center_text(text, width, fill):  # << START_OF_TRACE
    if len(text) >= width:
        return text
    left_pad, extra = divmod(width - len(text), 2)
    return fill * left_pad + text + fill * (left_pad + extra)
''', "args": ["word", "int 3 14", "choice '*' | '-' | '.'"]},

    {"source": '''
def slugify(title):  # << START_OF_TRACE
    slug = ""
    for ch in title.lower():
        if ch.isalnum():
            slug += ch
        elif slug and slug[-1] != "-":
            slug += "-"
    return slug.strip("-")
''', "args": ["choice 'Hi, Al' | 'C++ 2' | 'Top 10' | 'Why?' | 'a  b'"]},

    {"source": '''
def camel_to_snake(name):  # << START_OF_TRACE
    snake = ""
    for index, ch in enumerate(name):
        if ch.isupper() and index > 0:
            snake += "_"
        snake += ch.lower()
    return snake
''', "args": ["choice 'getX' | 'rowId' | 'id' | 'maxN' | 'isOK'"]},

    {"source": '''
def make_identifier(words, style):  # << START_OF_TRACE
    if style == "snake":
        return "_".join(words)
    if style == "camel":
        return words[0] + "".join([word.capitalize() for word in words[1:]])
    if style == "kebab":
        return "-".join(words)
    raise ValueError(f"unknown style: {style}")
''', "args": ["words 1 4", "choice 'snake' | 'camel' | 'kebab' | 'pascal'"]},

    {"source": '''
def greeting(name, visits, is_member):  # << START_OF_TRACE
    title = name.capitalize()
    if visits == 0:
        message = f"Welcome, {title}!"
    elif visits < 5:
        message = f"Good to see you again, {title} (visit {visits + 1})."
    else:
        message = f"Hello {title}, you are a regular."
    if is_member:
        message += " Member discount applied."
    return message
''', "args": ["word", "int 0 9", "bool"]},

    {"source": '''
def render(template, name, count):  # << START_OF_TRACE
    fields = {"name": name.title(), "count": count}
    output = []
    for piece in template.split("{"):
        if "}" not in piece:
            output.append(piece)
            continue
        key, rest = piece.split("}", 1)
        output.append(str(fields[key]) + rest)
    return "".join(output)
''', "args": ["choice 'Hi {name}' | '{count} left' | 'Dear {name},' | '{count} {item}' | 'no fields'", "word", "int 0 3"]},

    {"source": '''
def find_all(haystack, needle):  # << START_OF_TRACE
    positions = []
    start = haystack.find(needle)
    while start != -1:
        positions.append(start)
        start = haystack.find(needle, start + 1)
    return positions
''', "args": ["chars 3 6 ab", "choice 'a' | 'ab' | 'bb' | 'aba'"]},

    {"source": '''
def convert_field(field):
    field = field.strip()
    try:
        return int(field)
    except ValueError:
        pass
    try:
        return float(field)
    except ValueError:
        return field

def parse_csv_row(line):  # << START_OF_TRACE
    return [convert_field(field) for field in line.split(",")]
''', "args": ["choice 'apple, 3' | 'x,1.5' | ' 10 ,20' | 'name' | '2.5e1'"]},

    {"source": '''
def username_problems(username):  # << START_OF_TRACE
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789_")
    problems = []
    if not 3 <= len(username) <= 10:
        problems.append("length")
    if not username[:1].isalpha():
        problems.append("must start with a letter")
    if set(username) - allowed:
        problems.append("bad characters")
    return problems
''', "args": ["chars 1 12 abz_9-"]},

    {"source": '''
def check_product_code(code):  # << START_OF_TRACE
    prefix, dash, number = code.partition("-")
    if not dash:
        return False
    if len(prefix) != 2 or not prefix.isupper():
        return False
    return number.isdigit() and len(number) == 4
''', "args": ["choice 'AB-1234' | 'ab-1234' | 'XY1234' | 'QZ-12a4' | 'CD-9876' | 'ABC-1111'"]},

    {"source": '''
def check_digit(digits):  # << START_OF_TRACE
    total = 0
    for position, ch in enumerate(reversed(digits)):
        value = int(ch)
        if position % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return (10 - total % 10) % 10
''', "args": ["chars 2 3 0123456789"]},

    {"source": '''
def split_email(address):
    if address.count("@") != 1:
        raise ValueError("need exactly one @")
    user, domain = address.lower().split("@")
    if "." not in domain:
        raise ValueError("domain needs a dot")
    return user, domain

def is_valid_email(address):  # << START_OF_TRACE
    try:
        user, domain = split_email(address)
    except ValueError:
        return False
    return len(user) > 0
''', "args": ["choice 'Ann@Example.com' | 'bob@@mail.org' | 'carl@localhost' | 'dee@site.co.uk' | '@x.io'"]},

    {"source": '''
def capitalize_sentences(paragraph):  # << START_OF_TRACE
    fixed = []
    for sentence in paragraph.split(". "):
        sentence = sentence.strip()
        if sentence:
            fixed.append(sentence[0].upper() + sentence[1:])
    return ". ".join(fixed)
''', "args": ["choice 'hello there. how are you' | 'it rains.  we stay in. ok' | 'one' | 'a. b. c.'"]},

    {"source": '''
def expand_runs(encoded):  # << START_OF_TRACE
    output = ""
    for index in range(0, len(encoded), 2):
        letter, count = encoded[index], encoded[index + 1]
        output += letter * int(count)
    return output
''', "args": ["choice 'a3b2' | 'x1y4z2' | 'q9' | 'ab2' | 'm2n'"]},

    {"source": '''
def numeronym(word):
    if len(word) <= 4:
        return word
    return f"{word[0]}{len(word) - 2}{word[-1]}"

def abbreviate_sentence(sentence):  # << START_OF_TRACE
    short_words = [numeronym(word) for word in sentence.split()]
    return " ".join(short_words)
''', "args": ["text 1 3"]},

    {"source": '''
def wrap_words(sentence, width):  # << START_OF_TRACE
    lines = []
    for word in sentence.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines
''', "args": ["text 2 3", "int 6 16"]},

    {"source": '''
def vigenere(plain, key):  # << START_OF_TRACE
    result = []
    for index, ch in enumerate(plain):
        shift = ord(key[index % len(key)]) - ord("a")
        result.append(chr((ord(ch) - 97 + shift) % 26 + 97))
    return "".join(result)
''', "args": ["chars 1 4 abcxyz", "chars 0 3 abcd"]},

    {"source": '''
def most_common_letter(phrase):  # << START_OF_TRACE
    letters = phrase.lower()
    best_letter, best_count = None, 0
    for letter in sorted(set(letters)):
        count = letters.count(letter)
        if count > best_count:
            best_letter, best_count = letter, count
    return best_letter
''', "args": ["chars 3 6 aAbBc"]},

    {"source": '''
def word_counts(sentence):  # << START_OF_TRACE
    counts = {}
    for raw in sentence.split():
        word = raw.strip(".,!?").lower()
        if word:
            counts[word] = counts.get(word, 0) + 1
    return counts
''', "args": ["choice 'The cat, the hat.' | 'Go, go, GO!' | 'one ! two' | 'a b a'"]},

    {"source": '''
def strip_comments(lines):  # << START_OF_TRACE
    kept = []
    for line in lines:
        code = line.split("#", 1)[0].rstrip()
        if code:
            kept.append(code)
    return kept
''', "args": ["choice ['name = box  # main', '# comment', '', 'size=3'] | ['a=1', 'b=2 #x'] | ['#only'] | ['  x = 1   ', 'y # z # w']"]},

    {"source": '''
def duration_minutes(spec):  # << START_OF_TRACE
    units = {"d": 1440, "h": 60, "m": 1}
    total, digits = 0, ""
    for ch in spec:
        if ch.isdigit():
            digits += ch
        else:
            total += int(digits) * units[ch]
            digits = ""
    return total
''', "args": ["choice '1h5m' | '45m' | '2d3h' | '90s' | 'h5m' | '12'"]},

    {"source": '''
def split_url(url):  # << START_OF_TRACE
    scheme, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    host, _, port = host.partition(":")
    port_number = int(port) if port else 80
    return {"scheme": scheme, "host": host, "port": port_number, "path": "/" + path}
''', "args": ["choice 'http://example.com/index' | 'https://site.org:8443/a/b' | 'ftp://files:abc/' | 'http://localhost'"]},

    {"source": '''
def format_phone(digits):  # << START_OF_TRACE
    cleaned = "".join([ch for ch in digits if ch.isdigit()])
    if len(cleaned) != 10:
        raise ValueError(f"expected 10 digits, got {len(cleaned)}")
    return f"({cleaned[:3]}) {cleaned[3:6]}-{cleaned[6:]}"
''', "args": ["chars 10 11 0123456789-"]},

    {"source": '''
def to_pig_latin(word):
    for index, letter in enumerate(word):
        if letter in "aeiou":
            if index == 0:
                return word + "way"
            return word[index:] + word[:index] + "ay"
    return word + "ay"

def pig_latin_sentence(sentence):  # << START_OF_TRACE
    return " ".join([to_pig_latin(word) for word in sentence.split()])
''', "args": ["text 1 2"]},

    {"source": '''
def bump_version(version, part):  # << START_OF_TRACE
    pieces = version.strip().split(".")
    major, minor, patch = [int(piece) for piece in pieces]
    if part == "major":
        return f"{major + 1}.0.0"
    elif part == "minor":
        return f"{major}.{minor + 1}.0"
    elif part == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise ValueError(f"cannot bump {part!r}")
''', "args": ["choice '1.2.3' | '0.9.9' | '2.0' | '10.4.1'", "choice 'major' | 'minor' | 'patch' | 'build'"]},

    {"source": '''
def first_repeat(text):  # << START_OF_TRACE
    seen = set()
    for position, ch in enumerate(text):
        if ch in seen:
            return position, ch
        seen.add(ch)
    return None
''', "args": ["chars 2 6 abcdef"]},

    {"source": '''
def hamming_distance(first_code, second_code):  # << START_OF_TRACE
    if len(first_code) != len(second_code):
        raise ValueError("codes differ in length")
    differences = 0
    for left_char, right_char in zip(first_code, second_code):
        if left_char != right_char:
            differences += 1
    return differences
''', "args": ["chars 3 3 ACGT", "chars 3 4 ACGT"]},

    {"source": '''
def extract_numbers(sentence):  # << START_OF_TRACE
    numbers = []
    for token in sentence.replace(",", " ").split():
        try:
            numbers.append(int(token))
        except ValueError:
            continue
    return numbers
''', "args": ["choice 'take 12 of 7' | '3,4,five' | 'none here' | '-2 and 10'"]},

    {"source": '''
def roman_to_int(numeral):  # << START_OF_TRACE
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
    total = 0
    for index, symbol in enumerate(numeral):
        value = values[symbol]
        if index + 1 < len(numeral) and values[numeral[index + 1]] > value:
            total -= value
        else:
            total += value
    return total
''', "args": ["chars 1 3 IVXLC"]},

    {"source": '''
def to_twelve_hour(clock):  # << START_OF_TRACE
    clock = clock.strip()
    hours_text, minutes_text = clock.split(":")
    hours, minutes = int(hours_text), int(minutes_text)
    if hours >= 24 or minutes >= 60:
        raise ValueError(f"not a time: {clock}")
    suffix = "am" if hours < 12 else "pm"
    hours = hours % 12 or 12
    return f"{hours}:{minutes:02d} {suffix}"
''', "args": ["choice '00:05' | '12:30' | '23:59' | '7:15' | '25:00' | '9.30'"]},

    {"source": '''
def average_word_length(sentence):  # << START_OF_TRACE
    words = sentence.split()
    total_letters = sum([len(word) for word in words])
    try:
        return round(total_letters / len(words), 2)
    except ZeroDivisionError:
        return 0.0
''', "args": ["text 0 4"]},

    {"source": '''
def safe_ratio(label):  # << START_OF_TRACE
    parts = label.split("/")
    try:
        ratio = int(parts[0]) / int(parts[1])
    except (ValueError, IndexError):
        return None
    except ZeroDivisionError:
        return float("inf")
    else:
        return round(ratio, 3)
''', "args": ["choice '3/4' | '5/0' | '7' | 'a/2' | '10/3'"]},

    {"source": '''
def parse_hex_tokens(tokens):  # << START_OF_TRACE
    converted, failures = [], []
    attempts = 0
    for token in tokens:
        try:
            converted.append(int(token, 16))
        except ValueError:
            failures.append(token)
        finally:
            attempts += 1
    return converted, failures, attempts
''', "args": ["choice ['ff', 'zz'] | ['cafe', 'bead'] | ['0x10', 'g'] | ['7']"]},

    {"source": '''
def missing_letters(phrase):  # << START_OF_TRACE
    alphabet = set("abcdefghijklmnopqrstuvwxyz")
    present = set(phrase.lower())
    missing = alphabet - present
    if not missing:
        return set()
    return set(sorted(missing)[:4])
''', "args": ["choice 'The quick brown fox jumps over the lazy dog' | 'hello world' | 'abcdefghijklmnopqrstuvw'"]},
]
