def gcd(a, b):  # << START_OF_TRACE
    while b:
        a, b = b, a % b
    return a

gcd(48, 18)
