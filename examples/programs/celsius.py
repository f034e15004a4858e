def to_fahrenheit(temps):  # << START_OF_TRACE
    result = []
    for c in temps:
        f = c * 9 // 5 + 32
        result.append(f)
    return result

to_fahrenheit([0, 100, 37])
