"""The HTTP service (`publisher serve`): partner feeds and callbacks now, the staff console later."""
