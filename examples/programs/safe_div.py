def divide(a, b):
    if b == 0:
        raise ZeroDivisionError("b is zero")
    return a // b

def safe_div(x, y):  # << START_OF_TRACE
    try:
        q = divide(x, y)
    except ZeroDivisionError:
        q = -1
    return q

safe_div(7, 0)
