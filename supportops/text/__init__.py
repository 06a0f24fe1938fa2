"""Text code without models or views: PII redaction, sentiment, trigger rules and intent
classifiers. Django-free apart from settings-independent helpers, so it is unit-tested alone."""
