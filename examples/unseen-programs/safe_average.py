def safe_average(values):  # << START_OF_TRACE
    numbers = []
    for v in values:
        try:
            numbers.append(float(v))
        except ValueError:
            continue
    try:
        return round(sum(numbers) / len(numbers), 2)
    except ZeroDivisionError:
        return 0.0


safe_average(["4", "n/a", "7.5", ""])
