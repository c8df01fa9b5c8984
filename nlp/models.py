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


class MatchStatus(models.TextChoices):
    SKU = "sku", _("Linked by its SKU")
    MATCHED = "matched", _("Matched to a product by its words")
    UNMATCHED = "unmatched", _("No product found")


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
    match_status = models.CharField(max_length=16, choices=MatchStatus.choices, blank=True)
    content_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["merchant", "content_hash"], name="text_unique_content")]
        indexes = [models.Index(fields=["merchant", "product", "written_at"], name="text_product_time_idx")]
        ordering = ["-written_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source}: {self.text[:60]}"


class SignalStatus(models.TextChoices):
    SCORED = "scored", _("Scored")
    TRUNCATED = "truncated", _("Scored on its first tokens (too long)")
    EMPTY = "empty", _("Empty: nothing to score")
    UNFAMILIAR_LANGUAGE = "unfamiliar_language", _("Language unknown to the model: not used")


class TextSignal(models.Model):
    """The language model's scores for one text, once per model: ``model_fingerprint`` identifies the
    weights, precision and label phrases, so a text already scored by the same model is not scored again.

    ``scores`` maps each named signal to its score in nats (see ``nlp.signals.labels``); ``embedding``
    is the mean-pooled text representation (float32 bytes) that the learned head is trained on.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="text_signals")
    text = models.ForeignKey(TextDocument, on_delete=models.CASCADE, related_name="signals")
    model_name = models.CharField(max_length=255)
    model_fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=24, choices=SignalStatus.choices)
    scores = models.JSONField(default=dict)
    embedding = models.BinaryField(null=True, blank=True)
    token_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["text", "model_fingerprint"], name="text_signal_unique_model"),
        ]
        indexes = [models.Index(fields=["merchant", "model_fingerprint"], name="text_signal_model_idx")]

    def __str__(self) -> str:
        return f"{self.text_id} {self.status} ({self.model_name})"


class ProductRepresentation(models.Model):
    """One product's text representation from one language model (``nlp.representations``): the mean-pooled
    last hidden states over its name and description, as float32 bytes.

    ``text_hash`` identifies the text it was computed from: when the name or description changes, the row no
    longer matches and ``product_representations_refresh`` recomputes it; until then it is not used.
    """

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="product_representations")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="representations")
    model_name = models.CharField(max_length=255)
    model_fingerprint = models.CharField(max_length=64)
    text_hash = models.CharField(max_length=64)
    vector = models.BinaryField()
    dimensions = models.PositiveIntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product", "model_fingerprint"], name="product_representation_unique"),
        ]
        indexes = [models.Index(fields=["merchant", "model_fingerprint"], name="product_repr_model_idx")]

    def __str__(self) -> str:
        return f"{self.product_id} ({self.model_name}, {self.dimensions} dimensions)"
