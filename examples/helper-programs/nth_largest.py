def nth_largest(values, position):  # << START_OF_TRACE
    ordered = sorted(set(values), reverse=True)
    for rank, value in enumerate(ordered, start=1):
        if rank == position:
            return value
    return ordered[position - 1]


nth_largest([4, 9, 2, 9], 4)
