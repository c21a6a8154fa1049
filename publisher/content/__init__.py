"""Articles: front matter, the content model, assets and immutable revisions."""
