def lookup_prices(catalog, wanted):  # << START_OF_TRACE
    total = 0
    missing = []
    for item in wanted:
        try:
            total += catalog[item]
        except KeyError:
            missing.append(item)
    return total, sorted(missing)


lookup_prices({"milk": 3, "bread": 2, "eggs": 4}, ["eggs", "jam", "milk", "butter"])
