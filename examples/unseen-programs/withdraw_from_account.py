def withdraw(balance, amount, overdraft=0):  # << START_OF_TRACE
    if amount <= 0:
        raise ValueError("amount must be positive")
    if balance - amount < -overdraft:
        raise ValueError("insufficient funds")
    return balance - amount


withdraw(40, 75, 20)
