def line_cost(price, qty):
    return price * qty


def cart_total(items, coupon):  # << START_OF_TRACE
    total = 0
    for price, qty in items:
        total += line_cost(price, qty)
    if coupon == "SAVE10" and total >= 20:
        total = total - total // 10
    return total


cart_total([(12, 2), (5, 1), (3, 3)], "SAVE10")
