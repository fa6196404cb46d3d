"""The product catalogue and each product's house."""
