def flatten(nested):  # << START_OF_TRACE
    flat = []
    for row in nested:
        for value in row:
            flat.append(value)
    return flat

flatten([[1, 2], [3], [4, 5]])
