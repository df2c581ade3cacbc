"""A small shop shaped like real ones: customers, products with variants in
collections, orders with mixed lines (products, discounts, shipping), guest
checkouts, and dealers for entity sets."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models


class Customer(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    email = models.EmailField()
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    loyalty_tier = models.CharField(max_length=30, blank=True)
    internal_notes = models.TextField(blank=True)
    birthday = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.email


class Collection(models.Model):
    title = models.CharField(max_length=100)
    slug = models.SlugField()

    def __str__(self) -> str:
        return self.title


class Product(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField()
    sku = models.CharField(max_length=50, blank=True)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    collections = models.ManyToManyField(Collection, related_name="products", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.title


class Variant(models.Model):
    product = models.ForeignKey(Product, related_name="variants", on_delete=models.CASCADE)
    title = models.CharField(max_length=100)
    sku = models.CharField(max_length=50, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    stock = models.IntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.product.title} / {self.title}"


class Order(models.Model):
    STATUS_CHOICES = [
        ("pending", "Pending payment"),
        ("paid", "Paid"),
        ("shipped", "Shipped"),
        ("cancelled", "Cancelled"),
        ("refunded", "Refunded"),
        ("on_hold", "On hold"),
    ]

    number = models.CharField(max_length=30, unique=True)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, related_name="orders", on_delete=models.SET_NULL
    )
    guest_email = models.EmailField(blank=True)
    guest_first_name = models.CharField(max_length=100, blank=True)
    guest_last_name = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=STATUS_CHOICES, default="pending")
    placed_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    shipping_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    tax_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    store_location = models.CharField(max_length=50, blank=True)

    def __str__(self) -> str:
        return self.number


class DiscountCode(models.Model):
    order = models.ForeignKey(Order, related_name="discount_codes", on_delete=models.CASCADE)
    code = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.code


class OrderLine(models.Model):
    KIND_CHOICES = [
        ("product", "Product"),
        ("discount", "Discount"),
        ("shipping", "Shipping"),
        ("tax", "Tax"),
    ]

    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    kind = models.CharField(max_length=20, choices=KIND_CHOICES, default="product")
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL)
    # No reverse accessor ("+"): a delete still nulls it, in an UPDATE with no signal.
    gift_wrap = models.ForeignKey(
        Product, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    product_title = models.CharField(max_length=200, blank=True)
    quantity = models.IntegerField(default=1)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    digital = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.order.number} #{self.pk}"


class Dealer(models.Model):
    """A primary entity set ("authorized-dealers")."""

    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=200)
    alt_names = models.JSONField(default=list, blank=True)
    markets = models.JSONField(default=list, blank=True)
    localized_names = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    spring_campaign = models.BooleanField(default=False)
    bhid = models.CharField(max_length=50, blank=True)

    def __str__(self) -> str:
        return self.name


class UUIDKeyed(models.Model):
    """Keyset pagination over UUID primary keys."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class StringKeyed(models.Model):
    """Keyset pagination over string primary keys."""

    code = models.CharField(max_length=30, primary_key=True)
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name
