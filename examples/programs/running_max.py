def running_max(values):  # << START_OF_TRACE
    best = values[0]
    for v in values[1:]:
        if v > best:
            best = v
    return best

running_max([3, 7, 2, 9, 4])
