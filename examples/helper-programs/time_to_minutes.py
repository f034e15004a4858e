def to_minutes(clock):
    hours_text, minutes_text = clock.split(":")
    return int(hours_text) * 60 + int(minutes_text)


def total_logged_minutes(entries):  # << START_OF_TRACE
    total = 0
    skipped = 0
    for entry in entries:
        try:
            total += to_minutes(entry)
        except ValueError:
            skipped += 1
    return total, skipped


total_logged_minutes(["1:30", "0:45", "2h05"])
