def average_speed(distances, hours):  # << START_OF_TRACE
    speeds = []
    for distance, time in zip(distances, hours):
        try:
            speeds.append(distance / time)
        except ZeroDivisionError:
            continue
    if not speeds:
        return 0.0
    return round(sum(speeds) / len(speeds), 2)


average_speed([120, 45, 80], [2, 0, 1.5])
