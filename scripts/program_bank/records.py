PROGRAMS = [
    {"source": '''
def tally_letters(label):  # << START_OF_TRACE
    letter_counts = {}
    for symbol in label:
        if symbol.isdigit():
            continue
        letter_counts[symbol] = letter_counts.get(symbol, 0) + 1
    return letter_counts
''', "args": ["chars 1 5 aab1c2"]},

    {"source": '''
def group_words_by_length(word_list):  # << START_OF_TRACE
    groups = {}
    for word in word_list:
        groups.setdefault(len(word), []).append(word)
    return groups
''', "args": ["words 1 5"]},

    {"source": '''
def invert_scores(score_table):  # << START_OF_TRACE
    by_score = {}
    for player, score in score_table.items():
        if score in by_score:
            by_score[score].append(player)
        else:
            by_score[score] = [player]
    return by_score
''', "args": ["counts 1 4 1 3"]},

    {"source": '''
def merge_tallies(first_counts, second_counts):  # << START_OF_TRACE
    merged = dict(first_counts)
    for key, amount in second_counts.items():
        merged[key] = merged.get(key, 0) + amount
    return merged
''', "args": ["choice {'apple': 2, 'pear': 1} | {'fig': 3} | {'apple': 1, 'plum': 4, 'fig': 2}",
              "choice {'apple': 5} | {'pear': 2, 'kiwi': 1} | {'fig': 1, 'plum': 1} | {}"]},

    {"source": '''
def cart_total(cart_items):  # << START_OF_TRACE
    price_list = {"milk": 1.5, "bread": 2.25, "eggs": 3.0, "jam": 4.1}
    total = 0.0
    for item_name, quantity in cart_items:
        if item_name not in price_list:
            raise KeyError(f"unknown item: {item_name}")
        total += price_list[item_name] * quantity
    return round(total, 2)
''', "args": ["choice [('milk', 2), ('eggs', 1)] | [('bread', 3), ('jam', 2), ('milk', 1)] | [('tea', 1), ('milk', 2)] | [('eggs', 12)] | []"]},

    {"source": '''
def describe_color(color_name, fallback):  # << START_OF_TRACE
    hex_codes = {"red": "#ff0000", "green": "#00ff00", "blue": "#0000ff"}
    code = hex_codes.get(color_name, fallback)
    if code == fallback:
        return f"{color_name} is not known"
    return f"{color_name} -> {code}"
''', "args": ["choice 'red' | 'blue' | 'teal' | 'green' | 'ochre'", "choice '#000000' | 'unknown'"]},

    {"source": '''
def parse_settings(config_text):  # << START_OF_TRACE
    settings = {}
    for line in config_text.split(";"):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        settings[key.strip()] = value.strip()
    return settings
''', "args": ["choice 'host=web; port=80' | '# off; mode = fast' | 'user=ann;;tries=3' | 'size = 4; color=red'"]},

    {"source": '''
def run_turnstile(events):  # << START_OF_TRACE
    transitions = {
        ("locked", "coin"): "unlocked",
        ("locked", "push"): "locked",
        ("unlocked", "push"): "locked",
        ("unlocked", "coin"): "unlocked",
    }
    state = "locked"
    history = [state]
    for event in events:
        state = transitions[(state, event)]
        history.append(state)
    return history
''', "args": ["choice ['coin', 'push'] | ['push', 'coin', 'coin'] | ['coin', 'kick'] | ['push']"]},

    {"source": '''
def door_state(actions):  # << START_OF_TRACE
    moves = {"closed": {"open": "opened", "lock": "locked"},
             "opened": {"close": "closed"},
             "locked": {"unlock": "closed"}}
    current = "closed"
    rejected = 0
    for action in actions:
        next_state = moves[current].get(action)
        if next_state is None:
            rejected += 1
        else:
            current = next_state
    return current, rejected
''', "args": ["choice ['open', 'close'] | ['lock', 'unlock'] | ['close'] | ['unlock', 'open']"]},

    {"source": '''
def age_of(person):
    return person[1]

def sort_by_age(people):  # << START_OF_TRACE
    ordered = sorted(people, key=age_of)
    return [name for name, _ in ordered]
''', "args": ["choice [('ann', 31), ('bob', 25)] | [('cy', 40), ('dee', 19), ('eli', 33)] | [('fay', 52)] | [('gus', 28), ('hal', 28), ('ivy', 7)]"]},

    {"source": '''
def find_oldest(people):  # << START_OF_TRACE
    if not people:
        raise ValueError("no people given")
    oldest = people[0]
    for person in people[1:]:
        if person["age"] > oldest["age"]:
            oldest = person
    return oldest["name"]
''', "args": ["choice [{'name': 'ann', 'age': 31}, {'name': 'bo', 'age': 45}] | [] | [{'name': 'cy', 'age': 60}, {'name': 'di', 'age': 12}, {'name': 'ed', 'age': 61}] | [{'name': 'flo', 'age': 3}]"]},

    {"source": '''
def apply_transactions(balance, transactions):  # << START_OF_TRACE
    for kind, amount in transactions:
        if amount <= 0:
            raise ValueError(f"bad amount: {amount}")
        if kind == "deposit":
            balance += amount
        elif kind == "withdraw":
            if amount > balance:
                raise ValueError("insufficient funds")
            balance -= amount
        else:
            raise ValueError(f"unknown kind: {kind}")
    return balance
''', "args": ["int 0 50", "choice [('deposit', 20), ('withdraw', 15)] | [('withdraw', 40)] | [('deposit', -5)] | [('refund', 10)] | [('deposit', 5), ('deposit', 7), ('withdraw', 3)]"]},

    {"source": '''
def withdraw(balance, amount):
    if amount > balance:
        raise ValueError("overdraft")
    return balance - amount

def process_withdrawals(balance, requests):  # << START_OF_TRACE
    paid = 0
    for amount in requests:
        try:
            balance = withdraw(balance, amount)
        except ValueError:
            break
        paid += 1
    return balance, paid
''', "args": ["int 10 50", "ints 1 2 1 30"]},

    {"source": '''
def safe_ratio(numerator, denominator):
    try:
        return numerator / denominator
    except ZeroDivisionError:
        return None

def ratios(numerators, denominators):  # << START_OF_TRACE
    return [safe_ratio(top, bottom) for top, bottom in zip(numerators, denominators)]
''', "args": ["ints 1 3 0 20", "ints 1 3 0 3"]},

    {"source": '''
def first_success(attempt_results, max_attempts):  # << START_OF_TRACE
    attempts = 0
    for outcome in attempt_results:
        attempts += 1
        if outcome == "ok":
            return f"succeeded after {attempts} attempts"
        if attempts >= max_attempts:
            break
    return f"gave up after {attempts} attempts"
''', "args": ["choice ['fail', 'ok'] | ['fail', 'fail', 'fail', 'ok'] | ['ok'] | ['timeout', 'fail']", "int 1 4"]},

    {"source": '''
def read_response(codes, attempt):
    status = codes[attempt]
    if status >= 500:
        raise ValueError(f"server error {status}")
    return status

def fetch_with_retries(codes, max_tries):  # << START_OF_TRACE
    attempt = 0
    while attempt < max_tries:
        try:
            return read_response(codes, attempt)
        except ValueError:
            attempt += 1
        except IndexError:
            return -1
    return 0
''', "args": ["choice [500, 200] | [200] | [503] | [502, 404]", "int 1 2"]},

    {"source": '''
def validate_username(username):  # << START_OF_TRACE
    if len(username) < 3:
        raise ValueError("username too short")
    if not username[0].isalpha():
        raise ValueError("username must start with a letter")
    for symbol in username:
        if not (symbol.isalnum() or symbol == "_"):
            raise ValueError(f"invalid character {symbol!r}")
    return username.lower()
''', "args": ["chars 2 7 aBxk3_-"]},

    {"source": '''
def count_leaves(tree):  # << START_OF_TRACE
    if isinstance(tree, dict):
        children = list(tree.values())
    elif isinstance(tree, list):
        children = tree
    else:
        return 1
    total = 0
    for child in children:
        total += count_leaves(child)
    return total
''', "args": ["choice {'a': 1, 'b': 2} | [{'x': 2}] | 7 | {'k': [4]} | []"]},

    {"source": '''
def flatten_into(prefix, node, flat):
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            flatten_into(path, value, flat)
        else:
            flat[path] = value
    return flat

def flatten_config(nested):  # << START_OF_TRACE
    return flatten_into("", nested, {})
''', "args": ["choice {'db': {'port': 5432}} | {'a': {'b': 1}} | {'name': 'app', 'mode': 'dev'} | {'log': {'level': 'info'}}"]},

    {"source": '''
def remove_stock(inventory, item, quantity):  # << START_OF_TRACE
    try:
        available = inventory[item]
    except KeyError:
        raise ValueError(f"{item} is not stocked") from None
    if quantity > available:
        raise ValueError(f"only {available} {item} left")
    inventory[item] = available - quantity
    return inventory
''', "args": ["choice {'bolt': 5, 'nut': 2} | {'gear': 4} | {'bolt': 1, 'gear': 6, 'nut': 9}", "choice 'bolt' | 'nut' | 'gear'", "int 1 6"]},

    {"source": '''
def count_of(pair):
    return pair[1]

def most_common_word(sentence):  # << START_OF_TRACE
    frequencies = {}
    for word in sentence.split():
        frequencies[word] = frequencies.get(word, 0) + 1
    ranked = sorted(frequencies.items(), key=count_of, reverse=True)
    return ranked[0]
''', "args": ["choice 'the cat the dog' | 'go go stop' | 'red blue red' | 'alone'"]},

    {"source": '''
def vote_shares(votes):  # << START_OF_TRACE
    total_votes = sum(votes.values())
    if total_votes == 0:
        return {}
    return {candidate: round(100 * count / total_votes, 1) for candidate, count in votes.items()}
''', "args": ["counts 1 4 0 5"]},

    {"source": '''
def average_scores(score_lists):  # << START_OF_TRACE
    averages = {}
    for student, scores in score_lists.items():
        try:
            averages[student] = sum(scores) / len(scores)
        except ZeroDivisionError:
            averages[student] = 0.0
    return averages
''', "args": ["choice {'amy': [80, 90], 'raj': []} | {'tom': [70]} | {'liu': [55, 65, 75], 'eva': [100, 90]} | {'ned': []}"]},

    {"source": '''
def convert_value(raw):
    if raw in ("true", "false"):
        return raw == "true"
    try:
        return int(raw)
    except ValueError:
        return raw

def parse_flags(arguments):  # << START_OF_TRACE
    options = {}
    for argument in arguments:
        if not argument.startswith("--"):
            continue
        name, _, raw = argument[2:].partition("=")
        options[name] = convert_value(raw)
    return options
''', "args": ["choice ['--verbose=true', '--level=3'] | ['file.txt', '--out=log'] | ['--jobs=4', '--dry=false'] | ['--name=', '-x']"]},

    {"source": '''
def invert_unique(mapping):  # << START_OF_TRACE
    inverted = {}
    for key, value in mapping.items():
        if value in inverted:
            raise ValueError(f"duplicate value {value} for {key} and {inverted[value]}")
        inverted[value] = key
    return inverted
''', "args": ["counts 1 4 1 6"]},

    {"source": '''
def checkout(cart, coupon_code):  # << START_OF_TRACE
    discounts = {"SAVE10": 10, "HALF": 50}
    subtotal = 0
    for unit_price, quantity in cart:
        subtotal += unit_price * quantity
    try:
        percent = discounts[coupon_code]
    except KeyError:
        status = "invalid coupon" if coupon_code else "no coupon"
    else:
        subtotal -= subtotal * percent // 100
        status = f"{percent}% off"
    return subtotal, status
''', "args": ["choice [(4, 2), (10, 1)] | [(25, 3)] | [(3, 1), (7, 2), (12, 1)]", "choice 'SAVE10' | 'HALF' | 'FREE' | ''"]},

    {"source": '''
def divide_all(values, divisor):  # << START_OF_TRACE
    log = []
    results = []
    for value in values:
        try:
            results.append(value // divisor)
        except ZeroDivisionError:
            log.append(f"skip {value}")
            break
        finally:
            log.append(f"tried {value}")
    return results, log
''', "args": ["ints 1 3 0 50", "int 0 4"]},

    {"source": '''
def classify_characters(sample_text):  # << START_OF_TRACE
    classes = {"digits": set(), "letters": set(), "other": set()}
    for symbol in sample_text:
        if symbol.isdigit():
            classes["digits"].add(symbol)
        elif symbol.isalpha():
            classes["letters"].add(symbol)
        else:
            classes["other"].add(symbol)
    return classes
''', "args": ["chars 1 4 a1b2-!"]},

    {"source": '''
def letter_grade(score):  # << START_OF_TRACE
    cutoffs = {"A": 90, "B": 80, "C": 70, "D": 60}
    if not 0 <= score <= 100:
        raise ValueError(f"score out of range: {score}")
    for grade, minimum in cutoffs.items():
        if score >= minimum:
            return grade
    return "F"
''', "args": ["int -5 110"]},

    {"source": '''
def apply_overrides(overrides):  # << START_OF_TRACE
    config = {"host": "localhost", "port": 8080, "debug": False}
    for key in overrides:
        if key not in config:
            raise KeyError(key)
    config.update(overrides)
    return config
''', "args": ["choice {'port': 9000} | {'debug': True, 'host': 'box'} | {'colour': 'red'} | {}"]},

    {"source": '''
def rename_fields(record, renames):  # << START_OF_TRACE
    updated = dict(record)
    for old_name, new_name in renames.items():
        if old_name in updated:
            updated[new_name] = updated.pop(old_name)
    return updated
''', "args": ["choice {'fname': 'ann', 'yrs': 30} | {'id': 7, 'fname': 'bo'}", "choice {'fname': 'first_name'} | {'yrs': 'age', 'id': 'key'} | {'zip': 'postcode'}"]},

    {"source": '''
def score_of(entry):
    return entry[2]

def top_per_class(results):  # << START_OF_TRACE
    by_class = {}
    for entry in results:
        by_class.setdefault(entry[1], []).append(entry)
    winners = {}
    for class_name, entries in by_class.items():
        winners[class_name] = max(entries, key=score_of)[0]
    return winners
''', "args": ["choice [('ann', 'math', 88), ('bo', 'math', 92)] | [('dee', 'bio', 60)] | [('eli', 'art', 81), ('gus', 'art', 90)]"]},

    {"source": '''
def check_record(record):  # << START_OF_TRACE
    required = {"name": str, "age": int, "email": str}
    problems = []
    for field, expected_type in required.items():
        if field not in record:
            problems.append(f"missing {field}")
        elif not isinstance(record[field], expected_type):
            problems.append(f"{field} should be {expected_type.__name__}")
    return problems
''', "args": ["choice {'name': 'ann', 'age': 30, 'email': 'a@x.org'} | {'name': 'bo', 'age': '41'} | {} | {'email': 5, 'age': 2}"]},

    {"source": '''
def total_price(prices):  # << START_OF_TRACE
    total = 0
    for item, price in prices.items():
        try:
            total += price
        except TypeError:
            total += float(price)
    return total
''', "args": ["choice {'pen': 2, 'ink': '3.5'} | {'cap': 'n/a', 'pad': 4} | {'tape': 1, 'glue': 3} | {'clip': '0.25'}"]},

    {"source": '''
def age_bracket(age):
    if age < 18:
        return "minor"
    if age < 65:
        return "adult"
    return "senior"

def bracket_counts(ages):  # << START_OF_TRACE
    counts = {"minor": 0, "adult": 0, "senior": 0}
    for age in ages:
        counts[age_bracket(age)] += 1
    return counts
''', "args": ["ints 1 3 1 90"]},

    {"source": '''
def get_path(data, path, default):  # << START_OF_TRACE
    current = data
    for part in path.split("/"):
        if isinstance(current, dict) and part in current:
            current = current[part]
        else:
            return default
    return current
''', "args": ["choice {'user': {'name': 'ann', 'langs': {'main': 'py'}}} | {'user': 'guest'}", "choice 'user/name' | 'user/langs/main' | 'user/age' | 'user'", "choice None | 'n/a'"]},

    {"source": '''
def find_key(node, wanted):  # << START_OF_TRACE
    if not isinstance(node, dict):
        return None
    if wanted in node:
        return node[wanted]
    for child in node.values():
        found = find_key(child, wanted)
        if found is not None:
            return found
    return None
''', "args": ["choice {'a': {'id': 3}} | {'id': 1, 'x': {}} | {'q': {'r': 5}}", "choice 'id' | 'r' | 'b'"]},

    {"source": '''
def replay_stock(events):  # << START_OF_TRACE
    stock = {}
    for action, item, amount in events:
        if action == "add":
            stock[item] = stock.get(item, 0) + amount
        elif stock.get(item, 0) < amount:
            return f"error: cannot remove {amount} {item}"
        else:
            stock[item] -= amount
            if stock[item] == 0:
                del stock[item]
    return stock
''', "args": ["choice [('add', 'rope', 3), ('remove', 'rope', 3)] | [('add', 'tent', 2), ('remove', 'tent', 5)] | [('add', 'lamp', 1), ('add', 'map', 4), ('remove', 'map', 1)] | [('remove', 'axe', 1)]"]},

    {"source": '''
def net_balances(transfers):  # << START_OF_TRACE
    balances = {}
    for payer, payee, amount in transfers:
        balances[payer] = balances.get(payer, 0) - amount
        balances[payee] = balances.get(payee, 0) + amount
    return {person: total for person, total in balances.items() if total != 0}
''', "args": ["choice [('ann', 'bob', 10), ('bob', 'ann', 10)] | [('cy', 'di', 5), ('di', 'ed', 3)] | [('fay', 'gil', 20)] | [('hu', 'ida', 4), ('ida', 'jo', 4), ('jo', 'hu', 1)]"]},

    {"source": '''
def parse_clock(time_text):
    hours_text, minutes_text = time_text.split(":")
    hours, minutes = int(hours_text), int(minutes_text)
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError(f"out of range: {time_text}")
    return hours * 60 + minutes

def minutes_between(start_text, end_text):  # << START_OF_TRACE
    try:
        start = parse_clock(start_text)
        end = parse_clock(end_text)
    except ValueError as error:
        return str(error)
    return end - start
''', "args": ["choice '09:15' | '23:59' | '7:05' | '25:00'", "choice '10:00' | '12:3x' | '1200' | '18:45'"]},

    {"source": '''
def pair_up(keys, values):  # << START_OF_TRACE
    if len(keys) != len(values):
        raise ValueError(f"{len(keys)} keys but {len(values)} values")
    combined = {}
    for key, value in zip(keys, values):
        combined[key] = value
    return combined
''', "args": ["words 1 3", "ints 1 3 0 9"]},

    {"source": '''
def compare_stores(north_stock, south_stock):  # << START_OF_TRACE
    only_north = set(north_stock) - set(south_stock)
    only_south = set(south_stock) - set(north_stock)
    shared = set(north_stock) & set(south_stock)
    return sorted(only_north), sorted(only_south), len(shared)
''', "args": ["choice {'soap': 3, 'salt': 1} | {'rice': 2} | {'soap': 1, 'rice': 5, 'oil': 2}", "choice {'salt': 4, 'oil': 1} | {'rice': 9} | {}"]},

    {"source": '''
def first_positions(word_list):  # << START_OF_TRACE
    positions = {}
    for index, word in enumerate(word_list):
        if word not in positions:
            positions[word] = index
    return positions
''', "args": ["choice ['red', 'blue', 'red'] | ['x'] | ['sun', 'moon', 'sun', 'star', 'moon'] | ['a', 'b', 'c']"]},

    {"source": '''
def has_shared_owner(ownership):  # << START_OF_TRACE
    seen_owners = set()
    for item, owner in ownership.items():
        if owner in seen_owners:
            return True
        seen_owners.add(owner)
    return False
''', "args": ["choice {'car': 'ann', 'bike': 'bob'} | {'boat': 'cy', 'kite': 'di', 'lamp': 'cy'} | {'desk': 'ed'}"]},

    {"source": '''
def apply_discount_in_place(price_table, percent):  # << START_OF_TRACE
    if not 0 < percent < 100:
        raise ValueError("percent must be between 0 and 100")
    for item in price_table:
        price_table[item] = round(price_table[item] * (100 - percent) / 100, 2)
''', "args": ["counts 1 4 1 50", "int 0 120"]},

    {"source": '''
def birth_year(person):
    return person[1]

def nth_oldest(people, rank):  # << START_OF_TRACE
    by_age = sorted(people, key=birth_year)
    try:
        name, year = by_age[rank - 1]
    except IndexError:
        return "nobody"
    return f"{name} ({year})"
''', "args": ["choice [('ada', 1815), ('alan', 1912)] | [('grace', 1906), ('linus', 1969), ('guido', 1956)] | [('ken', 1943)]", "int 1 4"]},

    {"source": '''
def vend(coins, item_price):  # << START_OF_TRACE
    coin_values = {"penny": 1, "nickel": 5, "dime": 10, "quarter": 25}
    inserted = 0
    for coin in coins:
        if coin not in coin_values:
            raise ValueError(f"rejected coin: {coin}")
        inserted += coin_values[coin]
        if inserted >= item_price:
            return inserted - item_price
    return -1
''', "args": ["choice ['quarter', 'dime'] | ['dime', 'button'] | ['nickel', 'nickel', 'penny'] | ['quarter', 'quarter', 'quarter']", "int 10 60"]},

    {"source": '''
def total_nested(values):  # << START_OF_TRACE
    running = 0
    for value in values:
        if isinstance(value, list):
            running += total_nested(value)
        else:
            running += value
    return running
''', "args": ["choice [1, [2, 3]] | [[5], [6]] | [] | [7, 8] | [1, ['x']]"]},

    {"source": '''
def check_pin(attempts, correct_pin):  # << START_OF_TRACE
    tries_left = 3
    index = 0
    while tries_left > 0 and index < len(attempts):
        if attempts[index] == correct_pin:
            return "unlocked"
        tries_left -= 1
        index += 1
    return "locked out" if tries_left == 0 else "waiting"
''', "args": ["ints 1 5 1000 1003", "int 1000 1003"]},
]
