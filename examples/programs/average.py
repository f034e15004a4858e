def average(scores):  # << START_OF_TRACE
    if not scores:
        return 0
    total = sum(scores)
    return total / len(scores)

average([90, 75, 60])
