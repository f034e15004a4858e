def countdown(n):  # << START_OF_TRACE
    steps = []
    while n > 0:
        steps.append(n)
        n -= 2
    return steps

countdown(7)
