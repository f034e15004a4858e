def rotate_right(items, steps):  # << START_OF_TRACE
    if not items:
        return []
    steps = steps % len(items)
    rotated = list(items)
    for _ in range(steps):
        last = rotated.pop()
        rotated.insert(0, last)
    return rotated


rotate_right([10, 20, 30, 40], 6)
