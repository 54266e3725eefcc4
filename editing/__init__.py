"""Mask-free, reasoning-guided image editing. The pipeline lands with the editing issue."""
