"""A small but realistic shop: customers on top of auth.User, products with
variants in collections, orders with lines, discount codes, refunds, guest
checkouts, and dealers for Bubblehouse entity sets."""

from decimal import Decimal

from django.conf import settings
from django.db import models


class Customer(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, related_name="customer", on_delete=models.CASCADE
    )
    phone = models.CharField(max_length=30, blank=True)
    marketing_opt_in = models.BooleanField(default=False)
    tier = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Pull feeds and the reconciliation page by (updated_at, pk): an index range per page.
        indexes = [models.Index(fields=["updated_at", "id"], name="shop_customer_updated")]

    def __str__(self) -> str:
        return self.user.email


class Collection(models.Model):
    title = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)

    def __str__(self) -> str:
        return self.title


class Product(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    collections = models.ManyToManyField(Collection, related_name="products", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["updated_at", "id"], name="shop_product_updated")]

    def __str__(self) -> str:
        return self.title


class Variant(models.Model):
    product = models.ForeignKey(Product, related_name="variants", on_delete=models.CASCADE)
    title = models.CharField(max_length=100)
    sku = models.CharField(max_length=50, unique=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    stock = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.sku


class Order(models.Model):
    STATUSES = [
        ("pending", "Awaiting payment"),
        ("paid", "Paid"),
        ("fulfilled", "Fulfilled"),
        ("cancelled", "Cancelled"),
        ("refunded", "Refunded"),
    ]

    number = models.CharField(max_length=20, unique=True)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, related_name="orders", on_delete=models.SET_NULL
    )
    guest_email = models.EmailField(blank=True)
    guest_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=STATUSES, default="pending")
    placed_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    shipping = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    tax = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))

    class Meta:
        indexes = [models.Index(fields=["updated_at", "id"], name="shop_order_updated")]

    def __str__(self) -> str:
        return self.number


class OrderDiscount(models.Model):
    """A code applied to the order; its amount is already spread over lines as line_discount."""

    order = models.ForeignKey(Order, related_name="discounts", on_delete=models.CASCADE)
    code = models.CharField(max_length=40)
    amount = models.DecimalField(max_digits=10, decimal_places=2)

    def __str__(self) -> str:
        return self.code


class OrderLine(models.Model):
    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    variant = models.ForeignKey(Variant, null=True, on_delete=models.SET_NULL)
    title = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    refunded_quantity = models.PositiveIntegerField(default=0)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    line_discount = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))

    def __str__(self) -> str:
        return f"{self.order.number}: {self.title}"


class Dealer(models.Model):
    code = models.CharField(max_length=30, unique=True)
    name = models.CharField(max_length=200)
    alt_names = models.JSONField(default=list, blank=True)
    markets = models.JSONField(default=list, blank=True)
    localized_names = models.JSONField(default=dict, blank=True)
    spring_cleaning_eligible = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name


class DiscountCode(models.Model):
    """A code customers can redeem at checkout; Bubblehouse creates them (CreateDiscount4)."""

    code = models.CharField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    # One of the two, or neither for a zero-value (referral tracking) code.
    amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    percentage = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    min_order_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    times_used = models.PositiveIntegerField(default=0)
    ends_at = models.DateTimeField(null=True, blank=True)
    # Only this customer may redeem it, when set.
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.code
