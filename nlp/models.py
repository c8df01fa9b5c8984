"""Customer texts (reviews, messages, enquiries, search terms, notes) that become demand signals."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from inventory.models import Merchant, Product


class TextSource(models.TextChoices):
    REVIEW = "review", _("Review")
    MESSAGE = "message", _("Customer message")
    ENQUIRY = "enquiry", _("Enquiry")
    SEARCH = "search", _("Search term")
    NOTE = "note", _("Merchant note")


class TextDocument(models.Model):
    """One text of one merchant, linked to a product by SKU or by matching its words to the catalogue.

    ``content_hash`` identifies the text (source, SKU given, time and words): pushing the
    same text twice stores it once, and a text already scored by a model is not scored again.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="texts")
    source = models.CharField(max_length=16, choices=TextSource.choices)
    text = models.TextField()
    language = models.CharField(max_length=16, blank=True)
    written_at = models.DateTimeField(db_index=True)
    external_id = models.CharField(max_length=128, blank=True)
    sku_given = models.CharField(max_length=64, blank=True)
    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="texts")
    match_confidence = models.FloatField(null=True, blank=True)
    content_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "content_hash"], name="text_unique_content")]
        indexes = [models.Index(fields=["merchant", "product", "written_at"], name="text_product_time_idx")]
        ordering = ["-written_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source}: {self.text[:60]}"
