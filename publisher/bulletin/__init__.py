"""Printed bulletins (《常委会公报》, 《代表之声》): issues compiled from approved articles, typeset
into print-ready PDFs (definitions → compile → pages → pdf → build)."""
