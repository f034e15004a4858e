def square(n):
    return n * n

def sum_of_squares(numbers):  # << START_OF_TRACE
    total = 0
    for n in numbers:
        total += square(n)
    return total

sum_of_squares([1, 2, 3])
