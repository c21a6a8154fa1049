"""Long images (长图), covers and share cards: Chinese typesetting with Pillow, for every channel."""
