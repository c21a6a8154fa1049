"""Partner media supply (供稿): pull feeds, signed pushes, corrections, kill notices, adoption."""
