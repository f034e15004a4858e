def merge_stock(shelf, delivery):  # << START_OF_TRACE
    stock = dict(shelf)
    for item, count in delivery.items():
        stock[item] = stock.get(item, 0) + count
    low = [name for name, n in stock.items() if n < 5]
    return stock, low


merge_stock({"apples": 3, "pears": 8}, {"apples": 4, "plums": 2})
