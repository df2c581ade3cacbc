"""The storefront half: customer tokens and the rewards iframe for logged-in customers."""

from .tokens import current_customer, customer_id, mint_customer_token, request_token

__all__ = ["current_customer", "customer_id", "mint_customer_token", "request_token"]
