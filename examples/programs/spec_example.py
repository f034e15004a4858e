def double(x):
    y = x * 2
    return y

def f(n):  # << START_OF_TRACE
    total = 0
    for i in range(n):
        total += double(i)
    return total

f(2)
