"""Orders: the order page, order entry, and sending held orders now."""
