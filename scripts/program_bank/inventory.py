# Program bank: inventory, orders, pricing and warehouse bookkeeping.
PROGRAMS = [
    {"source": '''
def items_to_restock(stock, minimum_level):  # << START_OF_TRACE
    low_items = []
    for name, quantity in stock.items():
        if quantity < minimum_level:
            low_items.append(name)
    return sorted(low_items)
''', "args": ["counts 1 4 0 30", "int 5 20"]},

    {"source": '''
def discount_rate(subtotal):
    if subtotal >= 200:
        return 0.15
    elif subtotal >= 100:
        return 0.1
    return 0.0

def order_total(unit_prices, quantities):  # << START_OF_TRACE
    subtotal = 0.0
    for price, qty in zip(unit_prices, quantities):
        subtotal += price * qty
    total = subtotal * (1 - discount_rate(subtotal))
    return round(total, 2)
''', "args": ["floats 1 4 1.0 60.0", "ints 1 4 1 5"]},

    {"source": '''
def ship_from_shelf(stock, shelf_position, amount):  # << START_OF_TRACE
    shelf_order = sorted(stock)
    item_name = shelf_order[shelf_position]
    available = stock[item_name]
    if amount > available:
        raise ValueError(f"only {available} {item_name} left")
    stock[item_name] = available - amount
    return item_name, stock[item_name]
''', "args": ["counts 2 5 0 12", "int 0 5", "int 1 10"]},

    {"source": '''
def parse_sku(code):  # << START_OF_TRACE
    prefix, _, number = code.partition("-")
    try:
        serial = int(number)
    except ValueError:
        return None
    return prefix.upper(), serial
''', "args": ["chars 3 8 abc123-"]},

    {"source": '''
def bin_label(slot_number, shelves_per_aisle):  # << START_OF_TRACE
    aisle_index, shelf = divmod(slot_number, shelves_per_aisle)
    aisle_letter = "ABCDEFGHIJ"[aisle_index]
    return f"{aisle_letter}-{shelf + 1:02d}"
''', "args": ["int 0 60", "int 3 8"]},

    {"source": '''
def receive_shipment(stock, arrivals):  # << START_OF_TRACE
    updated = stock.copy()
    unseen = set()
    for item in arrivals:
        if item in updated:
            updated[item] += 1
        else:
            updated[item] = 1
            unseen.add(item)
    return unseen
''', "args": ["counts 0 2 1 9", "words 1 3"]},

    {"source": '''
def average_price_by_category(category_codes, prices):  # << START_OF_TRACE
    totals = {}
    counts = {}
    for code, price in zip(category_codes, prices):
        totals[code] = totals.get(code, 0) + price
        counts[code] = counts.get(code, 0) + 1
    return {code: round(totals[code] / counts[code], 2) for code in totals}
''', "args": ["chars 1 3 abc", "floats 1 3 0.5 20.0"]},

    {"source": '''
def most_stocked(stock):  # << START_OF_TRACE
    if not stock:
        return None
    best_item = max(stock, key=stock.get)
    return best_item, stock[best_item]
''', "args": ["counts 0 4 0 50"]},

    {"source": '''
def order_priority(order_code):
    rush = order_code[0] in "aeiou"
    return (0 if rush else 1, len(order_code))

def sort_orders(order_codes):  # << START_OF_TRACE
    return sorted(order_codes, key=order_priority)
''', "args": ["words 1 5"]},

    {"source": '''
def format_receipt_line(item_name, quantity, unit_price):  # << START_OF_TRACE
    line_total = quantity * unit_price
    label = item_name.title()[:10]
    if quantity > 1:
        label += f" x{quantity}"
    return f"{label:<14}{line_total:>8.2f}"
''', "args": ["word", "int 1 6", "float 0.5 25.0"]},

    {"source": '''
def order_is_valid(quantities, max_items):  # << START_OF_TRACE
    if not quantities:
        return False
    for qty in quantities:
        if qty <= 0:
            return False
    return sum(quantities) <= max_items
''', "args": ["ints 0 5 -2 9", "int 5 25"]},

    {"source": '''
def units_affordable(budget, unit_price, bonus_every):  # << START_OF_TRACE
    units = 0
    spent = 0
    while spent + unit_price <= budget:
        spent += unit_price
        units += 1
        if units % bonus_every == 0:
            units += 1
    return units, budget - spent
''', "args": ["int 10 36", "int 11 20", "int 2 4"]},

    {"source": '''
def cost_per_unit(total_cost, units_received):  # << START_OF_TRACE
    try:
        per_unit = total_cost / units_received
    except ZeroDivisionError:
        return 0.0
    else:
        return round(per_unit, 3)
''', "args": ["float 1.0 90.0", "int 0 4"]},

    {"source": '''
def inventory_value(stock, unit_prices):  # << START_OF_TRACE
    total = 0.0
    for index, item in enumerate(sorted(stock)):
        total += stock[item] * unit_prices[index]
    return round(total, 2)
''', "args": ["counts 1 4 0 20", "floats 1 4 0.5 12.0"]},

    {"source": '''
def cases_to_order(units_needed, units_per_case):  # << START_OF_TRACE
    full_cases, leftover = divmod(units_needed, units_per_case)
    if leftover:
        full_cases += 1
    return full_cases
''', "args": ["int 1 95", "int 6 24"]},

    {"source": '''
def triage_by_expiry(days_left, warn_days):  # << START_OF_TRACE
    expired, expiring, fresh = [], [], []
    for days in days_left:
        if days < 0:
            expired.append(days)
        elif days <= warn_days:
            expiring.append(days)
        else:
            fresh.append(days)
    return expired, expiring, fresh
''', "args": ["ints 1 3 -5 20", "int 1 7"]},

    {"source": '''
def check_digit(digits):  # << START_OF_TRACE
    total = 0
    for position, digit in enumerate(reversed(digits)):
        weight = 3 if position % 2 == 0 else 1
        total += int(digit) * weight
    return (10 - total % 10) % 10
''', "args": ["chars 2 4 0123456789"]},

    {"source": '''
def barcode_is_valid(code):  # << START_OF_TRACE
    if not code.isdigit() or len(code) < 2:
        return False
    body, check = code[:-1], int(code[-1])
    odd_total = sum([int(d) for d in body[::2]])
    even_total = sum([int(d) for d in body[1::2]])
    return (odd_total * 3 + even_total) % 10 == check
''', "args": ["chars 2 7 0123456789x"]},

    {"source": '''
def shelve_by_initial(item_names):  # << START_OF_TRACE
    shelves = {}
    for name in item_names:
        initial = name[0].upper()
        shelves.setdefault(initial, []).append(name)
    return shelves
''', "args": ["words 1 4"]},

    {"source": '''
def bin_of(pair):
    return pair[1]

def picking_route(item_names, bin_numbers):  # << START_OF_TRACE
    pairs = list(zip(item_names, bin_numbers))
    pairs.sort(key=bin_of)
    return [name for name, _ in pairs]
''', "args": ["words 1 5", "ints 1 5 1 40"]},

    {"source": '''
def first_stockout(opening_stock, movements):  # << START_OF_TRACE
    level = opening_stock
    for day, change in enumerate(movements, start=1):
        level += change
        if level < 0:
            return day
    return -1
''', "args": ["int 0 15", "ints 1 4 -8 5"]},

    {"source": '''
def split_quantity(order_line):  # << START_OF_TRACE
    digits = ""
    for char in order_line:
        if not char.isdigit():
            break
        digits += char
    quantity = int(digits) if digits else 1
    return quantity, order_line[len(digits):]
''', "args": ["chars 1 6 0123abc"]},

    {"source": '''
def supplier_for(item_name, region):  # << START_OF_TRACE
    suppliers = {"north": "Acme", "south": "Birch & Co", "east": "Cobalt"}
    try:
        supplier = suppliers[region]
    except KeyError:
        supplier = "Default Wholesale"
    return f"{item_name} via {supplier}"
''', "args": ["word", "choice 'north' | 'south' | 'east' | 'west'"]},

    {"source": '''
def percent_changes(old_prices, new_prices):  # << START_OF_TRACE
    changes = []
    for old, new in zip(old_prices, new_prices):
        if old == 0:
            changes.append(None)
            continue
        changes.append(round((new - old) / old * 100, 1))
    return changes
''', "args": ["ints 1 4 0 20", "ints 1 4 0 20"]},

    {"source": '''
def tally_key(entry):
    return (-entry[1], entry[0])

def tally_scans(scanned_codes):  # << START_OF_TRACE
    tally = {}
    for code in scanned_codes:
        tally[code] = tally.get(code, 0) + 1
    return sorted(tally.items(), key=tally_key)
''', "args": ["chars 2 5 abc"]},

    {"source": '''
def shipping_cost(weight_kg, express):  # << START_OF_TRACE
    if weight_kg <= 0:
        raise ValueError("weight must be positive")
    if weight_kg < 1:
        cost = 4.5
    elif weight_kg < 5:
        cost = 7.0 + weight_kg
    else:
        cost = 12.0 + 0.8 * weight_kg
    if express:
        cost *= 1.5
    return round(cost, 2)
''', "args": ["float -1.0 12.0", "bool"]},

    {"source": '''
def pack_boxes(sizes, capacity):  # << START_OF_TRACE
    boxes = []
    for size in sorted(sizes, reverse=True):
        for slot in range(len(boxes)):
            if boxes[slot] + size <= capacity:
                boxes[slot] += size
                break
        else:
            boxes.append(size)
    return boxes
''', "args": ["ints 1 3 2 9", "int 9 12"]},

    {"source": '''
def make_labels(item_names, prefix):  # << START_OF_TRACE
    labels = []
    for number, name in enumerate(item_names, start=1):
        labels.append(f"{prefix.upper()}{number:03d}-{name[:3]}")
    return ", ".join(labels)
''', "args": ["words 1 4", "choice 'wh' | 'st' | 'dc'"]},

    {"source": '''
def apply_markup(price_list, percent):  # << START_OF_TRACE
    factor = 1 + percent / 100
    for item in price_list:
        price_list[item] = round(price_list[item] * factor)
''', "args": ["counts 1 5 1 50", "int 5 30"]},

    {"source": '''
def duplicate_skus(sku_numbers):  # << START_OF_TRACE
    seen = set()
    duplicates = set()
    for sku in sku_numbers:
        if sku in seen:
            duplicates.add(sku)
        seen.add(sku)
    return duplicates
''', "args": ["ints 2 4 100 104"]},

    {"source": '''
def trips_needed(pallet_weight, truck_limit):  # << START_OF_TRACE
    if pallet_weight <= truck_limit:
        return 1
    half = pallet_weight // 2
    return trips_needed(half, truck_limit) + trips_needed(pallet_weight - half, truck_limit)
''', "args": ["int 10 55", "int 28 40"]},

    {"source": '''
def count_affordable(prices, budget):  # << START_OF_TRACE
    ordered = sorted(prices)
    low, high = 0, len(ordered)
    while low < high:
        middle = (low + high) // 2
        if ordered[middle] <= budget:
            low = middle + 1
        else:
            high = middle
    return low
''', "args": ["ints 1 6 1 50", "int 0 50"]},

    {"source": '''
def average_restock_gap(restock_days):  # << START_OF_TRACE
    ordered = sorted(restock_days)
    gaps = [later - earlier for earlier, later in zip(ordered, ordered[1:])]
    return sum(gaps) / len(gaps)
''', "args": ["ints 1 5 1 60"]},

    {"source": '''
def product_slug(product_name, max_length):  # << START_OF_TRACE
    words = product_name.lower().split()
    slug = "-".join(words)
    if len(slug) > max_length:
        slug = slug[:max_length].rstrip("-")
    return slug
''', "args": ["text 1 4", "int 6 20"]},

    {"source": '''
def short_code(product_name):  # << START_OF_TRACE
    parts = product_name.split()
    initials = "".join([part[0] for part in parts]).upper()
    letters = sum([len(part) for part in parts])
    return f"{initials}{letters}"
''', "args": ["text 1 4"]},

    {"source": '''
def withdraw_units(stock, item_name, amount):  # << START_OF_TRACE
    log = []
    try:
        remaining = stock[item_name] - amount
        if remaining < 0:
            raise ValueError("not enough stock")
        stock[item_name] = remaining
        log.append("ok")
    except (KeyError, ValueError) as error:
        log.append(type(error).__name__)
    finally:
        log.append("closed")
    return log
''', "args": ["choice {'bolts': 12, 'nuts': 3} | {'nuts': 8} | {'bolts': 0, 'washers': 5}", "choice 'bolts' | 'nuts' | 'washers'", "int 1 10"]},

    {"source": '''
def coupon_discount(coupon_code):  # << START_OF_TRACE
    code = coupon_code.strip().upper()
    if not code.startswith("SAVE"):
        raise ValueError(f"unknown coupon {code!r}")
    amount = code[4:]
    if not amount.isdigit():
        raise ValueError("coupon has no amount")
    return min(int(amount), 50)
''', "args": ["choice 'SAVE10' | 'save25' | 'SAVE' | 'FREE5' | ' save75 ' | 'SAVEx'"]},

    {"source": '''
def period_totals(daily_sales, period_length):  # << START_OF_TRACE
    totals = []
    for start in range(0, len(daily_sales), period_length):
        chunk = daily_sales[start:start + period_length]
        totals.append(sum(chunk))
    return totals
''', "args": ["ints 1 6 0 40", "int 2 3"]},

    {"source": '''
def cheapest_offer(supplier_names, quoted_prices):  # << START_OF_TRACE
    best_name = None
    best_price = None
    for name, price in zip(supplier_names, quoted_prices):
        if best_price is None or price < best_price:
            best_name, best_price = name, price
    return best_name
''', "args": ["words 1 3", "floats 1 3 2.0 30.0"]},

    {"source": '''
def count_discrepancies(expected, counted):  # << START_OF_TRACE
    differences = {}
    try:
        for slot, target in enumerate(expected):
            if counted[slot] != target:
                differences[slot] = counted[slot] - target
    except IndexError:
        differences["missing"] = len(expected) - len(counted)
    return differences
''', "args": ["ints 1 3 3 5", "ints 1 3 3 5"]},

    {"source": '''
def stack_diagram(box_counts, max_height):  # << START_OF_TRACE
    tallest = max(box_counts)
    rows = []
    for count in box_counts[:max_height]:
        rows.append("#" * count + "." * (tallest - count))
    rows.reverse()
    return rows
''', "args": ["ints 1 4 1 6", "int 2 5"]},

    {"source": '''
def readable_weight(grams):  # << START_OF_TRACE
    kilos, rest = divmod(grams, 1000)
    if kilos == 0:
        return f"{rest} g"
    if rest == 0:
        return f"{kilos} kg"
    return f"{kilos}.{rest // 100} kg"
''', "args": ["choice 250 | 1000 | 3000 | 1250 | 4780 | 999 | 12"]},

    {"source": '''
def stock_flags(stock):  # << START_OF_TRACE
    levels = list(stock.values())
    none_left = any([level == 0 for level in levels])
    all_plenty = all([level >= 10 for level in levels])
    return none_left, all_plenty
''', "args": ["counts 1 5 0 15"]},

    {"source": '''
def process_queue(order_sizes, daily_capacity):  # << START_OF_TRACE
    queue = list(order_sizes)
    shipped = []
    while queue and queue[0] <= daily_capacity:
        size = queue.pop(0)
        daily_capacity -= size
        shipped.append(size)
    return shipped, queue
''', "args": ["ints 1 4 1 10", "int 5 20"]},

    {"source": '''
def unit_price(item_name):
    return len(item_name) * 0.75

def with_tax(amount, rate):
    return amount + amount * rate

def cart_total(cart, tax_rate):  # << START_OF_TRACE
    subtotal = 0
    for item, quantity in cart.items():
        subtotal += unit_price(item) * quantity
    return round(with_tax(subtotal, tax_rate), 2)
''', "args": ["counts 1 2 1 5", "choice 0.05 | 0.08 | 0.2"]},

    {"source": '''
def compress_levels(levels):  # << START_OF_TRACE
    runs = []
    for level in levels:
        if runs and runs[-1][0] == level:
            runs[-1] = (level, runs[-1][1] + 1)
        else:
            runs.append((level, 1))
    return runs
''', "args": ["ints 1 5 3 5"]},

    {"source": '''
def checked_quantity(value):
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"quantity must be an int, got {type(value).__name__}")
    return value

def add_line(order, item_name, quantity):  # << START_OF_TRACE
    order = dict(order)
    order[item_name] = order.get(item_name, 0) + checked_quantity(quantity)
    return order
''', "args": ["counts 0 3 1 5", "word", "choice 2 | 5 | '3' | 1.5 | True"]},

    {"source": '''
def reorder_points(daily_usage, lead_time_days, safety_factor):  # << START_OF_TRACE
    points = {}
    for item, usage in daily_usage.items():
        base = usage * lead_time_days
        points[item] = int(base * safety_factor + 0.5)
    return points
''', "args": ["counts 1 3 1 9", "int 1 7", "choice 1.2 | 1.5 | 2.0"]},

    {"source": '''
def price_range_summary(prices):  # << START_OF_TRACE
    if not prices:
        return "no prices"
    low, high = min(prices), max(prices)
    if low == high:
        return f"all at {low:.2f}"
    spread = high - low
    return f"{low:.2f}-{high:.2f} (spread {spread:.2f})"
''', "args": ["floats 0 4 1.0 9.0"]},

    {"source": '''
def audit_items(recorded_items, counted_items):  # << START_OF_TRACE
    recorded = set(recorded_items)
    counted = set(counted_items)
    return {
        "missing": sorted(recorded - counted),
        "unexpected": sorted(counted - recorded),
        "matched": len(recorded & counted),
    }
''', "args": ["chars 1 5 abcdef", "chars 1 5 abcdef"]},
]
