"""Bank programs on numbers and arithmetic."""

PROGRAMS = [
    {"source": '''
def digit_sum(number):  # << START_OF_TRACE
    total = 0
    for digit in str(abs(number)):
        total += int(digit)
    return total
''', "args": ["int -999 9999"]},

    {"source": '''
def is_prime(candidate):  # << START_OF_TRACE
    if candidate < 2:
        return False
    if candidate % 2 == 0:
        return candidate == 2
    divisor = 3
    while divisor * divisor <= candidate:
        if candidate % divisor == 0:
            return False
        divisor += 2
    return True
''', "args": ["int 0 120"]},

    {"source": '''
def greatest_common_divisor(first, second):
    while second:
        first, second = second, first % second
    return first

def lowest_common_multiple(first, second):  # << START_OF_TRACE
    if first == 0 or second == 0:
        return 0
    return abs(first * second) // greatest_common_divisor(first, second)
''', "args": ["int 0 30", "int 1 40"]},

    {"source": '''
def seconds_to_clock(total_seconds):  # << START_OF_TRACE
    if total_seconds < 0:
        raise ValueError("negative duration")
    minutes, seconds = divmod(total_seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"
''', "args": ["int -50 20000"]},

    {"source": '''
def final_price(price, discount_percent, is_member):  # << START_OF_TRACE
    discounted = price * (1 - discount_percent / 100)
    if is_member:
        discounted -= 2.5
    tax = discounted * 0.08
    total = max(discounted + tax, 0.0)
    return round(total, 2)
''', "args": ["float 1 200", "int 0 50", "bool"]},

    {"source": '''
def median(values):  # << START_OF_TRACE
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2 == 1:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
''', "args": ["ints 0 6 0 50"]},

    {"source": '''
def mean(samples):
    return sum(samples) / len(samples)

def population_variance(samples):  # << START_OF_TRACE
    center = mean(samples)
    squared_gaps = [(sample - center) ** 2 for sample in samples]
    return round(mean(squared_gaps), 3)
''', "args": ["floats 1 6 0 20"]},

    {"source": '''
def set_bit_positions(mask):  # << START_OF_TRACE
    positions = []
    position = 0
    while mask:
        if mask & 1:
            positions.append(position)
        mask >>= 1
        position += 1
    return positions
''', "args": ["int 0 15"]},

    {"source": '''
def parse_in_base(digit_text, base):  # << START_OF_TRACE
    alphabet = "0123456789abcdef"
    value = 0
    for symbol in digit_text:
        digit_value = alphabet.index(symbol)
        if digit_value >= base:
            raise ValueError(f"digit {symbol} too big for base {base}")
        value = value * base + digit_value
    return value
''', "args": ["chars 1 3 01234567ab", "choice 8 | 10 | 16"]},

    {"source": '''
def clamp(value, low, high):
    return max(low, min(value, high))

def clamp_readings(readings, low, high):  # << START_OF_TRACE
    if low > high:
        low, high = high, low
    return [clamp(reading, low, high) for reading in readings]
''', "args": ["ints 1 5 -20 120", "int 0 60", "int 40 100"]},

    {"source": '''
def running_averages(measurements):  # << START_OF_TRACE
    averages = []
    subtotal = 0.0
    for position, measurement in enumerate(measurements, start=1):
        subtotal += measurement
        averages.append(round(subtotal / position, 2))
    return averages
''', "args": ["floats 1 3 0 30"]},

    {"source": '''
def convert_currency(amount, source, target):  # << START_OF_TRACE
    rates_to_usd = {"usd": 1.0, "eur": 1.08, "gbp": 1.27, "jpy": 0.0067}
    try:
        in_usd = amount * rates_to_usd[source]
        converted = in_usd / rates_to_usd[target]
    except KeyError as missing:
        return f"unknown currency {missing}"
    return round(converted, 2)
''', "args": ["float 1 500", "choice 'usd' | 'eur' | 'gbp' | 'jpy' | 'cad'", "choice 'usd' | 'eur' | 'gbp' | 'chf'"]},

    {"source": '''
def celsius_to_fahrenheit(celsius):
    return celsius * 9 / 5 + 32

def describe_temperatures(readings_celsius):  # << START_OF_TRACE
    labels = []
    for reading in readings_celsius:
        labels.append(f"{reading}C={round(celsius_to_fahrenheit(reading), 1)}F")
    return ", ".join(labels)
''', "args": ["floats 1 3 -10 40"]},

    {"source": '''
def share_of(pair):
    return pair[1]

def ranked_shares(tallies):  # << START_OF_TRACE
    grand_total = sum(tallies.values())
    shares = [(name, round(100 * tally / grand_total, 1)) for name, tally in tallies.items()]
    return sorted(shares, key=share_of, reverse=True)
''', "args": ["counts 1 4 0 9"]},

    {"source": '''
def with_thousands_separators(number):  # << START_OF_TRACE
    sign = "-" if number < 0 else ""
    digits = str(abs(number))
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return sign + ",".join(groups)
''', "args": ["int -9999999 99999999"]},

    {"source": '''
def to_roman(number):  # << START_OF_TRACE
    ones_table = ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"]
    tens, ones = divmod(number, 10)
    prefix = "L" + "X" * (tens - 5) if tens >= 5 else "X" * tens
    if tens == 4:
        prefix = "XL"
    return prefix + ones_table[ones]
''', "args": ["int 1 89"]},

    {"source": '''
def proper_divisors(number):
    return [candidate for candidate in range(1, number // 2 + 1) if number % candidate == 0]

def classify_number(number):  # << START_OF_TRACE
    total = sum(proper_divisors(number))
    if total == number:
        return "perfect"
    if total > number:
        return "abundant"
    return "deficient"
''', "args": ["choice 6 | 12 | 28 | 18 | 20 | 7 | 15 | 25 | 9"]},

    {"source": '''
def collatz_steps(start, limit):  # << START_OF_TRACE
    steps = 0
    while start != 1 and steps < limit:
        start = start // 2 if start % 2 == 0 else 3 * start + 1
        steps += 1
    return steps, start
''', "args": ["int 1 20", "int 2 6"]},

    {"source": '''
def simplify_fraction(numerator, denominator):  # << START_OF_TRACE
    if denominator == 0:
        raise ZeroDivisionError("denominator is zero")
    common, remainder = abs(numerator), abs(denominator)
    while remainder:
        common, remainder = remainder, common % remainder
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    return sign * abs(numerator) // common, abs(denominator) // common
''', "args": ["int -40 40", "int -4 24"]},

    {"source": '''
def summary_stats(values):  # << START_OF_TRACE
    count = len(values)
    lowest = min(values)
    highest = max(values)
    average = sum(values) / count
    return {"min": lowest, "max": highest, "range": highest - lowest, "mean": round(average, 2)}
''', "args": ["ints 0 5 -10 50"]},

    {"source": '''
def split_bill(total, people, tip_percent):  # << START_OF_TRACE
    tip = total * tip_percent / 100
    per_person = (total + tip) / people
    rounded_share = round(per_person, 2)
    leftover = round(total + tip - rounded_share * people, 2)
    return rounded_share, leftover
''', "args": ["float 10 300", "int 1 6", "choice 10 | 15 | 18 | 20"]},

    {"source": '''
def luhn_valid(card_digits):  # << START_OF_TRACE
    total = 0
    for index, symbol in enumerate(card_digits[::-1]):
        digit = int(symbol) * (2 if index % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0
''', "args": ["chars 2 4 0123456789"]},

    {"source": '''
def number_to_words(number):  # << START_OF_TRACE
    ones = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
            "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
            "seventeen", "eighteen", "nineteen"]
    tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    if number < 20:
        return ones[number]
    tens_digit, ones_digit = divmod(number, 10)
    if ones_digit == 0:
        return tens[tens_digit]
    return f"{tens[tens_digit]}-{ones[ones_digit]}"
''', "args": ["int 0 110"]},

    {"source": '''
def compound_balance(principal, annual_rate, years):  # << START_OF_TRACE
    balance = principal
    history = []
    for year in range(1, years + 1):
        balance += balance * annual_rate / 100
        history.append(round(balance, 2))
    return history
''', "args": ["float 100 1000", "float 1 8", "int 0 3"]},

    {"source": '''
def digit_set_report(first, second):  # << START_OF_TRACE
    first_digits = set(str(first))
    second_digits = set(str(second))
    shared = first_digits & second_digits
    only_first = first_digits - second_digits
    return {int(symbol) for symbol in shared}, len(only_first)
''', "args": ["int 0 99999", "int 0 9999"]},

    {"source": '''
def add_minutes(hour, minute, extra_minutes):  # << START_OF_TRACE
    total = hour * 60 + minute + extra_minutes
    days_later, minute_of_day = divmod(total, 24 * 60)
    new_hour, new_minute = divmod(minute_of_day, 60)
    suffix = f" (+{days_later}d)" if days_later else ""
    return f"{new_hour:02d}:{new_minute:02d}{suffix}"
''', "args": ["int 0 23", "int 0 59", "int 0 3000"]},

    {"source": '''
def group_by_remainder(numbers, modulus):  # << START_OF_TRACE
    groups = {}
    for number in numbers:
        groups.setdefault(number % modulus, []).append(number)
    return dict(sorted(groups.items()))
''', "args": ["ints 1 6 0 50", "int 2 5"]},

    {"source": '''
def weighted_score(scores, weights):  # << START_OF_TRACE
    pairs = list(zip(scores, weights))
    total_weight = 0
    weighted_sum = 0
    for score, weight in pairs:
        weighted_sum += score * weight
        total_weight += weight
    return round(weighted_sum / total_weight, 2)
''', "args": ["ints 2 3 40 100", "ints 2 3 1 5"]},

    {"source": '''
def digit_total(number):
    total = 0
    while number:
        total += number % 10
        number //= 10
    return total

def digital_root(number):  # << START_OF_TRACE
    if number < 10:
        return number
    return digital_root(digit_total(number))
''', "args": ["int 0 99"]},

    {"source": '''
def apply_raise(salaries, percent):  # << START_OF_TRACE
    multiplier = 1 + percent / 100
    for index in range(len(salaries)):
        salaries[index] = round(salaries[index] * multiplier)
''', "args": ["ints 1 5 1000 5000", "choice 2 | 3.5 | 5 | 10"]},

    {"source": '''
def channel_hex(value):
    clamped = max(0, min(255, value))
    return format(clamped, "02x")

def rgb_to_hex(red, green, blue):  # << START_OF_TRACE
    return "#" + channel_hex(red) + channel_hex(green) + channel_hex(blue)
''', "args": ["int -20 300", "int 0 255", "int 0 300"]},

    {"source": '''
def most_common_value(values):  # << START_OF_TRACE
    frequency = {}
    for value in values:
        frequency[value] = frequency.get(value, 0) + 1
    top_count = max(frequency.values())
    tied = [value for value, count in frequency.items() if count == top_count]
    return sorted(tied)[0]
''', "args": ["ints 1 5 0 4"]},

    {"source": '''
def prime_factors(number):  # << START_OF_TRACE
    factors = []
    divisor = 2
    while divisor * divisor <= number:
        while number % divisor == 0:
            factors.append(divisor)
            number //= divisor
        divisor += 1
    if number > 1:
        factors.append(number)
    return factors
''', "args": ["int 2 40"]},

    {"source": '''
def reverse_number(number):
    reversed_value = 0
    while number > 0:
        number, last_digit = divmod(number, 10)
        reversed_value = reversed_value * 10 + last_digit
    return reversed_value

def palindrome_check(number):  # << START_OF_TRACE
    mirrored = reverse_number(number)
    return number == mirrored, number + mirrored
''', "args": ["choice 121 | 1331 | 4554 | 12 | 907 | 8 | 2024 | 600"]},

    {"source": '''
def weekly_pay(hours_per_day, hourly_rate):  # << START_OF_TRACE
    total_hours = sum(hours_per_day)
    regular = min(total_hours, 40)
    overtime = total_hours - regular
    pay = regular * hourly_rate + overtime * hourly_rate * 1.5
    return f"{total_hours}h -> ${pay:,.2f}"
''', "args": ["ints 1 6 0 12", "float 10 40"]},

    {"source": '''
def standard_deviation(values, center):
    squares = [(value - center) ** 2 for value in values]
    return (sum(squares) / len(values)) ** 0.5

def find_outliers(values, threshold):  # << START_OF_TRACE
    center = sum(values) / len(values)
    spread = standard_deviation(values, center)
    if spread == 0:
        return []
    return [value for value in values if abs(value - center) / spread > threshold]
''', "args": ["ints 2 6 0 40", "choice 1.0 | 1.5 | 2.0"]},

    {"source": '''
def make_change(amount_cents):  # << START_OF_TRACE
    coins = {}
    for coin in [25, 10, 5, 1]:
        if amount_cents >= coin:
            coins[coin], amount_cents = divmod(amount_cents, coin)
    return coins
''', "args": ["int 0 99"]},

    {"source": '''
def percent_changes(prices):  # << START_OF_TRACE
    changes = []
    for previous, current in zip(prices, prices[1:]):
        try:
            changes.append(round((current - previous) / previous * 100, 1))
        except ZeroDivisionError:
            changes.append(None)
    return changes
''', "args": ["ints 2 4 0 20"]},

    {"source": '''
def factorial(number):
    if number <= 1:
        return 1
    return number * factorial(number - 1)

def trailing_zeros_of_factorial(number):  # << START_OF_TRACE
    text = str(factorial(number))
    stripped = text.rstrip("0")
    return len(text) - len(stripped)
''', "args": ["int 0 6"]},

    {"source": '''
def parse_amount(label):
    cleaned = label.replace("$", "").replace(",", "")
    return float(cleaned)

def total_of_labels(labels):  # << START_OF_TRACE
    total = 0.0
    bad_labels = []
    for label in labels:
        try:
            total += parse_amount(label)
        except ValueError:
            bad_labels.append(label)
    return round(total, 2), bad_labels
''', "args": ["choice ['$1,200.50', 'free'] | ['$10', '7.25'] | ['n/a', '$0.99'] | ['$2,000'] | ['12', '$5']"]},

    {"source": '''
def greed_score(dice):  # << START_OF_TRACE
    score = 0
    for face in sorted(set(dice)):
        count = dice.count(face)
        if count >= 3:
            score += 1000 if face == 1 else face * 100
            count -= 3
        if face == 1:
            score += count * 100
        elif face == 5:
            score += count * 50
    return score
''', "args": ["choice [1, 1, 1, 5] | [2, 3, 4] | [5, 5, 2] | [3, 3, 3] | [1, 5, 6] | [6, 6, 6, 1] | [4]"]},

    {"source": '''
def item_price(item_name):
    return len(item_name) * 1.25

def cart_total(quantities, coupon_code):  # << START_OF_TRACE
    subtotal = 0.0
    for item_name, quantity in quantities.items():
        subtotal += item_price(item_name) * quantity
    coupons = {"SAVE10": 0.10, "HALF": 0.50}
    discount = subtotal * coupons.get(coupon_code, 0.0)
    return round(subtotal - discount, 2)
''', "args": ["counts 1 2 1 5", "choice 'SAVE10' | 'HALF' | '' | 'BOGUS'"]},

    {"source": '''
def ordinal(number):  # << START_OF_TRACE
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"
''', "args": ["int 0 130"]},

    {"source": '''
def human_size(byte_count):  # << START_OF_TRACE
    units = ["B", "KB", "MB", "GB"]
    size = float(byte_count)
    for unit in units:
        if size < 1024 or unit == units[-1]:
            return f"{size:.1f} {unit}"
        size /= 1024
''', "args": ["choice 0 | 512 | 2048 | 1500000 | 73400320 | 5000000000 | 999"]},

    {"source": '''
def classify_triangle(side_a, side_b, side_c):  # << START_OF_TRACE
    shortest, middle, longest = sorted([side_a, side_b, side_c])
    if shortest <= 0 or shortest + middle <= longest:
        return "invalid"
    if shortest == longest:
        return "equilateral"
    if shortest == middle or middle == longest:
        return "isosceles"
    if shortest ** 2 + middle ** 2 == longest ** 2:
        return "right"
    return "scalene"
''', "args": ["int 0 6", "int 2 6", "int 3 5"]},

    {"source": '''
def points_per_game(points, games):  # << START_OF_TRACE
    status = "started"
    try:
        average = points / games
    except ZeroDivisionError:
        average = 0.0
        status = "no games"
    else:
        status = "ok"
    finally:
        summary = f"{points} pts in {games} games"
    return round(average, 2), status, summary
''', "args": ["int 0 90", "int 0 5"]},

    {"source": '''
def tax_breakdown(net_amount, tax_rate):  # << START_OF_TRACE
    try:
        tax = round(net_amount * tax_rate / 100, 2)
    except TypeError:
        net_amount = float(net_amount)
        tax = round(net_amount * tax_rate / 100, 2)
    gross = round(net_amount + tax, 2)
    return {"net": net_amount, "tax": tax, "gross": gross}
''', "args": ["choice 19.99 | 100 | '45.50' | 250.0 | 'abc'", "choice 7 | 8.5 | 20"]},
]
