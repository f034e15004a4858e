PROGRAMS = [
    {"source": '''
def find_position(readings, wanted):  # << START_OF_TRACE
    for position in range(len(readings)):
        if readings[position] == wanted:
            return position
    return -1
''', "args": ["ints 1 6 0 9", "int 0 9"]},

    {"source": '''
def first_even_at(seq):
    for pos, num in enumerate(seq):
        if num % 2 == 0:
            return pos
    return None


def first_and_last_even(numbers):  # << START_OF_TRACE
    head = first_even_at(numbers)
    if head is None:
        return None
    tail = len(numbers) - 1 - first_even_at(numbers[::-1])
    return (head, tail)
''', "args": ["ints 1 4 1 30"]},

    {"source": '''
def index_of_largest(scores):  # << START_OF_TRACE
    best_index = 0
    for i in range(1, len(scores)):
        if scores[i] > scores[best_index]:
            best_index = i
    return best_index
''', "args": ["ints 1 6 -20 50"]},

    {"source": '''
def squared_evens(sample):  # << START_OF_TRACE
    kept = [value for value in sample if value % 2 == 0]
    squares = [value * value for value in kept]
    return squares
''', "args": ["ints 1 6 0 15"]},

    {"source": '''
def split_into_chunks(items, size):  # << START_OF_TRACE
    groups = []
    for start in range(0, len(items), size):
        groups.append(items[start:start + size])
    return groups
''', "args": ["ints 1 6 0 50", "int 1 3"]},

    {"source": '''
def best_window_average(temps, width):  # << START_OF_TRACE
    if width > len(temps):
        raise ValueError("window wider than data")
    best = None
    for left in range(len(temps) - width + 1):
        average = sum(temps[left:left + width]) / width
        if best is None or average > best:
            best = average
    return round(best, 2)
''', "args": ["floats 2 4 -5 30", "int 2 3"]},

    {"source": '''
def step_changes(heights):  # << START_OF_TRACE
    changes = []
    for before, after in zip(heights, heights[1:]):
        changes.append(after - before)
    biggest_jump = max(changes, key=abs) if changes else 0
    return changes, biggest_jump
''', "args": ["ints 1 5 0 40"]},

    {"source": '''
def rotate_left(queue_items, turns):  # << START_OF_TRACE
    if not queue_items:
        return []
    turns %= len(queue_items)
    return queue_items[turns:] + queue_items[:turns]
''', "args": ["ints 0 6 0 9", "int 0 12"]},

    {"source": '''
def reverse_in_place(letters):  # << START_OF_TRACE
    cells = list(letters)
    left, right = 0, len(cells) - 1
    while left < right:
        cells[left], cells[right] = cells[right], cells[left]
        left += 1
        right -= 1
    return "".join(cells)
''', "args": ["chars 1 6 abcdefgh"]},

    {"source": '''
def interleave(names, tags):  # << START_OF_TRACE
    woven = []
    shorter = min(len(names), len(tags))
    for k in range(shorter):
        woven += [names[k], tags[k]]
    leftover = names[shorter:] or tags[shorter:]
    return woven + leftover
''', "args": ["words 1 4", "words 1 3"]},

    {"source": '''
def unique_in_order(visits):  # << START_OF_TRACE
    seen = set()
    result = []
    for place in visits:
        if place not in seen:
            seen.add(place)
            result.append(place)
    return result
''', "args": ["ints 2 5 1 4"]},

    {"source": '''
def flatten_once(nested):  # << START_OF_TRACE
    flat = []
    for element in nested:
        if isinstance(element, list):
            flat.extend(element)
        else:
            flat.append(element)
    return flat
''', "args": ["choice [[1, 2], 3, [4]] | [[5], [6, 7, 8]] | [9, [10, 11], [], 12] | [[0], [0, 1]] | [7, 8]"]},

    {"source": '''
def compare_groups(club_a, club_b):  # << START_OF_TRACE
    left, right = set(club_a), set(club_b)
    both = left & right
    either = left | right
    only_left = left - right
    return {"both": sorted(both), "either": len(either), "only_left": sorted(only_left)}
''', "args": ["ints 1 5 1 8", "ints 1 5 1 8"]},

    {"source": '''
def missing_words(sentence, vocabulary):  # << START_OF_TRACE
    known = set(vocabulary)
    unknown = []
    for token in sentence.split():
        if token in known:
            continue
        unknown.append(token)
    return unknown
''', "args": ["text 1 4", "words 2 5"]},

    {"source": '''
def manhattan(point_a, point_b):
    return abs(point_a[0] - point_b[0]) + abs(point_a[1] - point_b[1])


def path_length(xs, ys):  # << START_OF_TRACE
    points = list(zip(xs, ys))
    total = 0
    for start, end in zip(points, points[1:]):
        total += manhattan(start, end)
    return total
''', "args": ["ints 2 3 0 9", "ints 2 3 0 9"]},

    {"source": '''
def grid_row_sums(cells):  # << START_OF_TRACE
    board = [cells[0:3], cells[3:6], cells[6:9]]
    sums = [sum(row) for row in board]
    heaviest = sums.index(max(sums))
    return sums, heaviest
''', "args": ["ints 9 9 0 9"]},

    {"source": '''
def transpose(matrix):  # << START_OF_TRACE
    rows, cols = len(matrix), len(matrix[0])
    flipped = []
    for c in range(cols):
        flipped.append([matrix[r][c] for r in range(rows)])
    return flipped
''', "args": ["choice [[1, 2], [3, 4]] | [[7, 8, 9]] | [[1], [0], [5]] | [[6, 2], [0, 1]] | [[3, 4]]"]},

    {"source": '''
def build_square(numbers, side):
    return [numbers[row * side:(row + 1) * side] for row in range(side)]


def diagonal_gap(numbers, side):  # << START_OF_TRACE
    square = build_square(numbers, side)
    main = anti = 0
    for k in range(side):
        main += square[k][k]
        anti += square[k][-1 - k]
    return abs(main - anti)
''', "args": ["ints 9 9 1 20", "choice 2 | 3"]},

    {"source": '''
def brackets_balanced(sequence):  # << START_OF_TRACE
    partner = {")": "(", "]": "[", "}": "{"}
    stack = []
    for symbol in sequence:
        if symbol in "([{":
            stack.append(symbol)
        elif not stack or stack.pop() != partner[symbol]:
            return False
    return len(stack) == 0
''', "args": ["chars 1 5 ()[]{}"]},

    {"source": '''
def round_robin(tasks, quantum):  # << START_OF_TRACE
    queue = list(tasks)
    done = []
    while queue:
        task = queue.pop(0)
        if task > quantum:
            queue.append(task - quantum)
        else:
            done.append(task)
    return done
''', "args": ["ints 1 3 1 9", "int 6 8"]},

    {"source": '''
def insertion_sort(hand):  # << START_OF_TRACE
    for i in range(1, len(hand)):
        current = hand[i]
        j = i - 1
        while j >= 0 and hand[j] > current:
            hand[j + 1] = hand[j]
            j -= 1
        hand[j + 1] = current
    return hand
''', "args": ["ints 2 3 0 30"]},

    {"source": '''
def bubble_sort(boxes):  # << START_OF_TRACE
    for end in range(len(boxes) - 1, 0, -1):
        moved = False
        for k in range(end):
            if boxes[k] > boxes[k + 1]:
                boxes[k], boxes[k + 1] = boxes[k + 1], boxes[k]
                moved = True
        if not moved:
            break
    return boxes
''', "args": ["ints 2 3 0 9"]},

    {"source": '''
def position_of_min(row, start):
    smallest = min(row[start:])
    return row.index(smallest, start)


def selection_sort(row):  # << START_OF_TRACE
    for slot in range(len(row) - 1):
        pick = position_of_min(row, slot)
        row[slot], row[pick] = row[pick], row[slot]
    return row
''', "args": ["ints 2 4 0 9"]},

    {"source": '''
def score_of(entry):
    return entry[1]


def top_players(board, how_many):  # << START_OF_TRACE
    ranked = sorted(board.items(), key=score_of, reverse=True)
    leaders = ranked[:how_many]
    return [name for name, _ in leaders]
''', "args": ["counts 2 5 0 100", "int 1 3"]},

    {"source": '''
def longest_rising_run(prices):  # << START_OF_TRACE
    best = current = 1
    for idx in range(1, len(prices)):
        if prices[idx] > prices[idx - 1]:
            current += 1
            best = max(best, current)
        else:
            current = 1
    return best
''', "args": ["ints 1 5 0 10"]},

    {"source": '''
def slice_report(series):  # << START_OF_TRACE
    evens = series[::2]
    odds = series[1::2]
    backwards = series[::-1]
    middle = series[1:-1]
    return f"{evens}|{odds}|{backwards}|{middle}"
''', "args": ["ints 1 6 0 9"]},

    {"source": '''
def safe_pick(shelf, slot):  # << START_OF_TRACE
    try:
        item = shelf[slot]
    except IndexError:
        return "empty slot"
    else:
        return item.upper()
''', "args": ["words 1 4", "int -5 5"]},

    {"source": '''
def distance_between(line, first, second):  # << START_OF_TRACE
    if first == second:
        return 0
    a = line.index(first)
    b = line.index(second)
    return abs(a - b)
''', "args": ["ints 2 6 0 6", "int 0 6", "int 0 6"]},

    {"source": '''
def restock(stock, rush_item, include_rush):  # << START_OF_TRACE
    orders = sorted(stock)[:2]
    if include_rush:
        orders.insert(0, rush_item)
    shortages = []
    for product in orders:
        if stock[product] < 3:
            shortages.append(product)
    return shortages
''', "args": ["counts 2 4 0 6", "word", "bool"]},

    {"source": '''
def mean_of_positives(changes):  # << START_OF_TRACE
    gains = [c for c in changes if c > 0]
    try:
        return sum(gains) / len(gains)
    except ZeroDivisionError:
        return 0.0
    finally:
        changes.clear()
''', "args": ["ints 1 5 -10 10"]},

    {"source": '''
def sorted_labels(labels):  # << START_OF_TRACE
    cleaned = labels[:]
    cleaned.sort()
    return cleaned[0], cleaned[-1]
''', "args": ["choice [3, 1, 2] | [4, 'x', 1] | ['b', 'a'] | [5, None, 2] | [9, 8, 7, 6]"]},

    {"source": '''
def run_length(pattern):  # << START_OF_TRACE
    runs = []
    for mark in pattern:
        if runs and runs[-1][0] == mark:
            runs[-1] = (mark, runs[-1][1] + 1)
        else:
            runs.append((mark, 1))
    return runs
''', "args": ["chars 1 5 xyo"]},

    {"source": '''
def pairs_with_sum(amounts, goal):  # << START_OF_TRACE
    seen = set()
    found = set()
    for amount in amounts:
        if goal - amount in seen:
            found.add((goal - amount, amount))
        seen.add(amount)
    return sorted(found)
''', "args": ["ints 2 4 0 10", "int 4 14"]},

    {"source": '''
def count_inversions(sequence):  # << START_OF_TRACE
    inversions = 0
    size = len(sequence)
    for i in range(size):
        for j in range(i + 1, size):
            if sequence[i] > sequence[j]:
                inversions += 1
    return inversions
''', "args": ["ints 2 3 0 9"]},

    {"source": '''
def local_peaks(signal):  # << START_OF_TRACE
    peaks = []
    for k in range(1, len(signal) - 1):
        if signal[k - 1] < signal[k] > signal[k + 1]:
            peaks.append((k, signal[k]))
    return peaks
''', "args": ["ints 3 6 0 9"]},

    {"source": '''
def running_totals(deposits):  # << START_OF_TRACE
    totals = []
    balance = 0
    for deposit in deposits:
        balance += deposit
        totals.append(balance)
    return totals, balance < 0
''', "args": ["ints 1 4 -30 40"]},

    {"source": '''
def bigram_pairs(phrase):  # << START_OF_TRACE
    tokens = phrase.lower().split()
    pairs = list(zip(tokens, tokens[1:]))
    if not pairs:
        return None
    return pairs[-1]
''', "args": ["text 1 5"]},

    {"source": '''
def is_non_decreasing(levels):  # << START_OF_TRACE
    for earlier, later in zip(levels, levels[1:]):
        if later < earlier:
            return False
    return True
''', "args": ["choice [1, 2, 2, 5] | [3, 1] | [4] | [0, 5, 9, 9, 10] | [7, 7, 6]"]},

    {"source": '''
def runner_up(times):  # << START_OF_TRACE
    distinct = sorted(set(times), reverse=True)
    if len(distinct) < 2:
        raise ValueError("need two different values")
    return distinct[1]
''', "args": ["ints 1 5 1 5"]},

    {"source": '''
def apply_edits(commands):  # << START_OF_TRACE
    document, undone = [], []
    for command in commands:
        if command == "undo":
            if document:
                undone.append(document.pop())
        else:
            document.append(command)
    return " ".join(document), undone
''', "args": ["choice ['hi', 'there', 'undo'] | ['undo', 'a'] | ['x', 'undo', 'undo', 'z'] | ['one', 'two']"]},

    {"source": '''
def absent_numbers(tickets, upper):  # << START_OF_TRACE
    expected = set(range(1, upper + 1))
    missing = expected.difference(tickets)
    extras = [t for t in tickets if t > upper]
    return sorted(missing), extras
''', "args": ["ints 1 5 1 9", "int 3 8"]},

    {"source": '''
def majority_vote(ballots):  # << START_OF_TRACE
    candidate, weight = None, 0
    for ballot in ballots:
        if weight == 0:
            candidate = ballot
        weight += 1 if ballot == candidate else -1
    if ballots.count(candidate) * 2 > len(ballots):
        return candidate
    return -1
''', "args": ["ints 1 4 1 3"]},

    {"source": '''
def split_on_zero(stream):  # << START_OF_TRACE
    segments = [[]]
    for reading in stream:
        if reading == 0:
            segments.append([])
            continue
        segments[-1].append(reading)
    return [seg for seg in segments if seg]
''', "args": ["ints 1 5 0 4"]},

    {"source": '''
def interval_start(span):
    return span[0]


def merge_intervals(spans):  # << START_OF_TRACE
    merged = []
    for start, end in sorted(spans, key=interval_start):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
''', "args": ["choice [(1, 3), (2, 6), (8, 10)] | [(5, 7), (1, 2)] | [(4, 9), (0, 4), (3, 5)] | [(2, 2)]"]},

    {"source": '''
def closest_gap(positions):  # << START_OF_TRACE
    ordered = sorted(positions)
    smallest = None
    for left, right in zip(ordered, ordered[1:]):
        gap = right - left
        if smallest is None or gap < smallest[0]:
            smallest = (gap, left, right)
    return smallest
''', "args": ["ints 2 4 0 50"]},

    {"source": '''
def kth_smallest(pool, k):  # << START_OF_TRACE
    remaining = list(pool)
    for _ in range(k - 1):
        remaining.remove(min(remaining))
    return min(remaining)
''', "args": ["ints 1 5 0 30", "int 1 3"]},

    {"source": '''
def last_match(words_list, suffix):  # << START_OF_TRACE
    for back in range(len(words_list) - 1, -1, -1):
        if words_list[back].endswith(suffix):
            return back, words_list[back]
    return None
''', "args": ["words 1 6", "choice 'e' | 's' | 'n' | 'er' | 't'"]},

    {"source": '''
def shift_queue(waiting, newcomer, front):  # << START_OF_TRACE
    line = waiting[:]
    if front:
        line.insert(0, newcomer)
    else:
        line.append(newcomer)
    served = line.pop(0)
    return served, len(line), line[-1] if line else None
''', "args": ["words 0 3", "word", "bool"]},

]
