def apply_discount(price, code):  # << START_OF_TRACE
    rates = {"SAVE10": 0.10, "HALF": 0.5, "VIP": 0.25}
    rate = rates[code.strip().upper()]
    discounted = price * (1 - rate)
    if discounted < 5.0:
        discounted = 5.0
    return round(discounted, 2)


apply_discount(42.0, " gold ")
