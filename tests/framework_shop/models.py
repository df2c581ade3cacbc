"""A shop laid out the way the big shop frameworks lay out their data (django-oscar, Saleor).

Nothing here knows about Bubblehouse: customers are ``auth.User``, orders are
known by their number, variants are child products, prices and stock live on
stock records, categories are a tree linked through an explicit through model
that the back office writes directly, statuses are free strings, and lines
keep a snapshot of what was sold.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone


class Category(models.Model):
    parent = models.ForeignKey(
        "self", null=True, blank=True, related_name="children", on_delete=models.CASCADE
    )
    name = models.CharField(max_length=100)
    slug = models.SlugField()

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A standalone product, a parent, or a child (a variant: ``parent`` is set)."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, related_name="children", on_delete=models.CASCADE
    )
    title = models.CharField(max_length=200, blank=True)
    upc = models.CharField(max_length=64, blank=True)
    description = models.TextField(blank=True)
    is_public = models.BooleanField(default=True)
    categories = models.ManyToManyField(
        Category, through="ProductCategory", related_name="products", blank=True
    )
    date_created = models.DateTimeField(auto_now_add=True)
    date_updated = models.DateTimeField(auto_now=True, db_index=True)

    def __str__(self) -> str:
        return self.title or self.upc


class ProductCategory(models.Model):
    product = models.ForeignKey(Product, on_delete=models.CASCADE)
    category = models.ForeignKey(Category, on_delete=models.CASCADE)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "category"], name="fs_product_category")
        ]

    def __str__(self) -> str:
        return f"{self.product} in {self.category}"


class StockRecord(models.Model):
    product = models.ForeignKey(Product, related_name="stockrecords", on_delete=models.CASCADE)
    partner_sku = models.CharField(max_length=128)
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    num_in_stock = models.PositiveIntegerField(null=True, blank=True)
    date_updated = models.DateTimeField(auto_now=True, db_index=True)

    def __str__(self) -> str:
        return self.partner_sku


class Order(models.Model):
    number = models.CharField(max_length=128, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="framework_orders",
        on_delete=models.SET_NULL,
    )
    guest_email = models.EmailField(blank=True)
    status = models.CharField(max_length=100, blank=True)  # free text: "Being processed"
    total_incl_tax = models.DecimalField(max_digits=12, decimal_places=2)
    total_excl_tax = models.DecimalField(max_digits=12, decimal_places=2)
    shipping_incl_tax = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    date_placed = models.DateTimeField(default=timezone.now)
    date_updated = models.DateTimeField(auto_now=True, db_index=True)

    def __str__(self) -> str:
        return self.number


class OrderDiscount(models.Model):
    order = models.ForeignKey(Order, related_name="discounts", on_delete=models.CASCADE)
    voucher_code = models.CharField(max_length=128, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    def __str__(self) -> str:
        return self.voucher_code


class Line(models.Model):
    """A sold line with its own snapshot: the product may be edited or deleted later."""

    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL)
    # The catalogue id of what was sold (the parent of a variant), kept like Saleor keeps
    # product_variant_id: the product row may be gone later.
    product_reference = models.CharField(max_length=64, blank=True)
    title = models.CharField(max_length=255)
    partner_sku = models.CharField(max_length=128)
    quantity = models.PositiveIntegerField(default=1)
    line_price_incl_tax = models.DecimalField(max_digits=12, decimal_places=2)
    line_price_excl_tax = models.DecimalField(max_digits=12, decimal_places=2)
    line_price_before_discounts_incl_tax = models.DecimalField(max_digits=12, decimal_places=2)
    line_price_before_discounts_excl_tax = models.DecimalField(max_digits=12, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.order.number}: {self.title}"
