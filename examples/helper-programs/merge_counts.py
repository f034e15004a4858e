def merge_counts(first, second):  # << START_OF_TRACE
    merged = dict(first)
    for key, amount in second.items():
        merged[key] = merged.get(key, 0) + amount
    top = max(merged, key=merged.get)
    return merged, top


merge_counts({"apples": 3, "pears": 1}, {"pears": 4, "plums": 2})
