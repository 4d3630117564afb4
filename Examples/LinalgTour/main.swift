// A tour of Linalg on an embedded matrix of daily returns.
print("placeholder")
