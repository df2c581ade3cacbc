"""Authenticated URLs Bubblehouse can pull orders, customers and products from."""
