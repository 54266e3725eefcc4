"""SVG from text with guaranteed structure (SVGen-style). The pipeline lands with the SVG issues."""
