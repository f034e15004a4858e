def is_power_of_two(n):  # << START_OF_TRACE
    if n <= 0:
        return False
    while n % 2 == 0:
        n = n // 2
    return n == 1

is_power_of_two(24)
