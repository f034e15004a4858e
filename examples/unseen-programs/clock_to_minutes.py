def clock_to_minutes(stamp):  # << START_OF_TRACE
    hours, minutes = stamp.split(":")
    h, m = int(hours), int(minutes)
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError("bad time: " + stamp)
    return h * 60 + m


clock_to_minutes("9:7x")
