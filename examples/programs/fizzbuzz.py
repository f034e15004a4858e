def fizzbuzz(limit):  # << START_OF_TRACE
    out = []
    for i in range(1, limit + 1):
        if i % 15 == 0:
            out.append("FizzBuzz")
        elif i % 3 == 0:
            out.append("Fizz")
        elif i % 5 == 0:
            out.append("Buzz")
        else:
            out.append(str(i))
    return out

fizzbuzz(5)
