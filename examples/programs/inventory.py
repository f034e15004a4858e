def restock(stock, orders):  # << START_OF_TRACE
    for item, qty in orders:
        stock[item] = stock.get(item, 0) + qty
    missing = [k for k in stock if stock[k] == 0]
    return stock, missing

restock({"pens": 0, "ink": 2}, [("ink", 3), ("tape", 1)])
