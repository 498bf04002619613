"""Confronting the model with evidence: the stylized facts as checks (``patterns``)."""
