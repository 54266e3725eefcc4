"""Two-person lead-follow motion from text and a trajectory. The pipeline lands with the motion issues."""
