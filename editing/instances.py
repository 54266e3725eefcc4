"""Instance proposals with attributes, from the embedded segmenter.

Flat-design images (icons, sprites, generated scenes) are split into connected regions of one
colour on the background colour; photos into graph-based regions (Felzenszwalb). Each instance
carries its mask, bounding box, centroid, area, mean colour and its name, and shape descriptors
(vertex count, solidity, circularity, extent) with the shape they read as.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Basic colour names and sRGB anchors the reasoner matches a query colour and an instance against
BASIC_COLORS: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40), "orange": (245, 140, 20), "yellow": (245, 205, 30), "green": (40, 160, 70),
    "blue": (40, 90, 220), "purple": (130, 60, 180), "pink": (240, 120, 180), "brown": (130, 80, 40),
    "black": (25, 25, 25), "white": (250, 250, 250), "gray": (128, 128, 128), "cyan": (40, 200, 210),
    "light blue": (150, 200, 240), "dark blue": (20, 30, 110), "light green": (150, 220, 140), "dark green": (20, 90, 40),
    "beige": (235, 220, 190),
}
FLAT_COVERAGE = 0.97  # share of pixels the 24 commonest colours cover in a clean flat design (anti-aliased edges aside)


def to_lab(rgb: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2lab

    return rgb2lab(np.asarray(rgb, dtype=np.float64).reshape(-1, 1, 3) / 255.0).reshape(*np.shape(rgb)[:-1], 3)


_BASIC_NAMES = list(BASIC_COLORS)
_BASIC_LAB = to_lab(np.array(list(BASIC_COLORS.values())))


def basic_rgb(color: str) -> tuple[int, int, int]:
    """RGB of a colour word: our anchor for the basic names ("blue", "light blue" or "lightblue"), CSS otherwise."""
    from PIL import ImageColor

    spaced = color.lower().replace("light", "light ").replace("dark", "dark ").replace("  ", " ").strip()
    for name in (color.lower(), spaced):
        if name in BASIC_COLORS:
            return BASIC_COLORS[name]
    return ImageColor.getrgb(color)[:3]


def color_name(rgb) -> str:
    """The basic colour name nearest to ``rgb`` in CIELAB."""
    distance = np.linalg.norm(_BASIC_LAB - to_lab(np.asarray(rgb, dtype=np.float64)), axis=-1)
    return _BASIC_NAMES[int(distance.argmin())]


@dataclass(frozen=True, eq=False)
class Instance:
    mask: np.ndarray = field(repr=False)  # (H, W) bool
    bbox: tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive)
    centroid: tuple[float, float]  # x, y
    area: int
    color: tuple[int, int, int]  # mean RGB
    color_name: str
    shape: str | None  # circle | square | triangle | star | hexagon | diamond, None when unclear
    descriptors: dict[str, float] = field(repr=False)

    def to_dict(self) -> dict:
        """JSON-friendly attributes (without the mask)."""
        return {"bbox": list(self.bbox), "centroid": [round(v, 1) for v in self.centroid], "area": self.area,
                "color": list(self.color), "color_name": self.color_name, "shape": self.shape}


def shape_descriptors(mask: np.ndarray) -> dict[str, float]:
    """Vertex count of the simplified outline, solidity, circularity, extent and the spread of the
    outline's distance from its centre (relative standard deviation) of a region."""
    import cv2

    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=cv2.contourArea)
    area = float(mask.sum())
    perimeter = max(cv2.arcLength(contour, True), 1e-6)
    hull = cv2.convexHull(contour)
    hull_area = max(cv2.contourArea(hull), 1.0)
    polygon = cv2.approxPolyDP(hull, 0.04 * cv2.arcLength(hull, True), True)
    _, _, w, h = cv2.boundingRect(contour)
    points = contour[:, 0, :].astype(np.float64)
    radii = np.linalg.norm(points - points.mean(axis=0), axis=1)
    return {"vertices": float(len(polygon)), "solidity": min(area / hull_area, 1.0),
            "circularity": 4 * np.pi * area / perimeter**2, "extent": area / max(w * h, 1),
            "radial_spread": float(radii.std() / max(radii.mean(), 1e-6))}


def classify_shape(d: dict[str, float]) -> str | None:
    if d["solidity"] < 0.75:
        return "star"
    # a circle's outline keeps its distance from the centre (a hexagon's varies by 13%: spread ~0.04)
    if d["circularity"] > 0.86 and d["radial_spread"] < 0.028 and 0.72 < d["extent"] < 0.84:
        return "circle"
    if d["vertices"] == 3:
        return "triangle"
    if d["vertices"] == 4:
        return "square" if d["extent"] > 0.85 else "diamond" if d["extent"] < 0.6 else None
    if d["vertices"] in (5, 6, 7) and d["extent"] > 0.6:
        return "hexagon"
    return None


def instance_from_mask(mask: np.ndarray, image: np.ndarray) -> Instance:
    """An ``Instance`` with every attribute measured from ``mask`` (H, W) bool on ``image``."""
    ys, xs = np.nonzero(mask)
    color = tuple(int(np.rint(v)) for v in image[mask].mean(0))
    descriptors = shape_descriptors(mask)
    return Instance(mask=mask, bbox=(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1),
                    centroid=(float(xs.mean()), float(ys.mean())), area=int(mask.sum()), color=color,
                    color_name=color_name(color), shape=classify_shape(descriptors), descriptors=descriptors)


def background_color(image: np.ndarray) -> tuple[int, int, int]:
    """The commonest colour of the image border."""
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    colors, counts = np.unique(border, axis=0, return_counts=True)
    return tuple(int(v) for v in colors[counts.argmax()])


def _color_keys(image: np.ndarray) -> np.ndarray:
    """One int per pixel (0xRRGGBB): np.unique on ints is far faster than on RGB rows."""
    pixels = image.astype(np.int32)
    return (pixels[..., 0] << 16) | (pixels[..., 1] << 8) | pixels[..., 2]


def _unpack(keys: np.ndarray) -> np.ndarray:
    return np.stack([(keys >> 16) & 255, (keys >> 8) & 255, keys & 255], axis=-1)


def is_flat(image: np.ndarray) -> bool:
    """Whether a few colours cover nearly the whole image (flat design rather than a photo)."""
    _, counts = np.unique(_color_keys(image), return_counts=True)
    return np.sort(counts)[::-1][:24].sum() >= FLAT_COVERAGE * counts.sum()


def segment(image: np.ndarray, min_area: int | None = None, tolerance: float = 12.0) -> list[Instance]:
    """Instances of an (H, W, 3) uint8 image, largest first.

    Flat design: pixels further than ``tolerance`` (CIELAB distance) from the background colour,
    split into connected regions of one colour; the thin anti-aliased rims that belong to no
    colour join the region beside them. Photos: Felzenszwalb regions, the ones touching the
    border dropped as background. ``min_area`` defaults to 0.05% of the image.
    """
    from scipy import ndimage

    image = np.ascontiguousarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image must be an (H, W, 3) uint8 array, got {image.shape} {image.dtype}")
    height, width = image.shape[:2]
    min_area = max(16, int(0.0005 * height * width)) if min_area is None else min_area
    keys, inverse, counts = np.unique(_color_keys(image), return_inverse=True, return_counts=True)
    if np.sort(counts)[::-1][:24].sum() >= FLAT_COVERAGE * counts.sum():
        lab = to_lab(_unpack(keys))
    else:  # a flat design saved lossy (JPEG, WebP) has thousands of colours: snap them to a small palette
        quantised = _quantise(image)
        if quantised is None:
            return _segment_photo(image, min_area)
        lab, inverse = quantised
        counts = np.bincount(inverse.ravel(), minlength=len(lab))
    inverse = inverse.reshape(height, width)
    border_lab = to_lab(np.array(background_color(image)))
    background = np.linalg.norm(lab - border_lab, axis=-1) <= tolerance
    instances, claimed = [], np.zeros((height, width), dtype=bool)
    for index in np.argsort(-counts):
        if background[index] or counts[index] < min_area:
            continue
        labels, count = ndimage.label(inverse == index)
        sizes = ndimage.sum_labels(np.ones_like(labels), labels, index=np.arange(1, count + 1))
        for label, size in enumerate(sizes, start=1):
            if size >= min_area:
                region = labels == label
                if not ndimage.binary_erosion(region).any():
                    continue  # a line one or two pixels thick: the anti-aliased edge of a straight side
                instances.append(region)
                claimed |= region
    # rims: foreground pixels of rare colours go to the nearest instance within 2 px
    rim = ~background[inverse] & ~claimed
    if rim.any() and instances:
        owner = np.zeros((height, width), dtype=np.int32)
        for number, region in enumerate(instances, start=1):
            owner[region] = number
        distance, (near_y, near_x) = ndimage.distance_transform_edt(owner == 0, return_indices=True)
        grow = rim & (distance <= 2)
        for number, region in enumerate(instances, start=1):
            region |= grow & (owner[near_y, near_x] == number)
    return sorted((instance_from_mask(region, image) for region in instances), key=lambda inst: -inst.area)


QUANTISE_COLORS = 16
QUANTISE_ERROR = 4.0  # mean CIELAB distance to the palette below which an image counts as flat design
MERGE_DISTANCE = 10.0  # CIELAB: palette entries closer than this are one colour


def _quantise(image: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(palette in CIELAB, per-pixel palette index) when a few colours explain the image, else None."""
    from scipy.cluster.vq import kmeans2, vq

    pixels = to_lab(image.reshape(-1, 3))
    rng = np.random.default_rng(0)  # the palette must not depend on anything but the image
    sample = pixels[rng.choice(len(pixels), size=min(len(pixels), 20_000), replace=False)]
    palette, _ = kmeans2(sample, QUANTISE_COLORS, minit="++", seed=rng)
    index, distance = vq(pixels, palette)
    if distance.mean() > QUANTISE_ERROR:
        return None
    # k-means splits one flat colour into several clusters: merge clusters closer than a just-noticeable step
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.ndimage import uniform_filter

    groups = fcluster(linkage(palette, method="average"), t=MERGE_DISTANCE, criterion="distance") - 1
    merged = np.array([np.average(palette[groups == g], axis=0, weights=np.bincount(index, minlength=len(palette))[groups == g] + 1e-9)
                       for g in range(groups.max() + 1)])
    labels = groups[index].reshape(image.shape[:2])
    # a 5x5 majority vote removes the compression speckle along edges
    votes = np.stack([uniform_filter((labels == g).astype(np.float32), size=5) for g in range(len(merged))])
    return merged, votes.argmax(axis=0).ravel()


def _segment_photo(image: np.ndarray, min_area: int) -> list[Instance]:
    from skimage.segmentation import felzenszwalb

    height, width = image.shape[:2]
    labels = felzenszwalb(image, scale=max(height, width) * 0.6, sigma=0.8, min_size=min_area)
    border = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])).tolist())
    instances = []
    for label in np.unique(labels):
        if label in border:
            continue
        region = labels == label
        if region.sum() >= min_area:
            instances.append(instance_from_mask(region, image))
    return sorted(instances, key=lambda inst: -inst.area)
