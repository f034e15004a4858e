def find_missing_number(numbers, upper):  # << START_OF_TRACE
    present = set(numbers)
    missing = None
    for candidate in range(1, upper + 1):
        if candidate not in present:
            missing = candidate
            break
    return missing


find_missing_number([3, 1, 5, 2], 5)
