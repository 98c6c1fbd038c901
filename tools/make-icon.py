"""Draws media/icon.png, the extension's 128x128 Marketplace / Extensions-view icon: code split into
coloured tokens above a next-token probability bar chart. Run: /usr/bin/python3 tools/make-icon.py
(Debian python3-pil). Drawn at 4x and downsampled for smooth edges."""
import os
from PIL import Image, ImageDraw

S = 4  # supersampling
W = 128 * S
img = Image.new("RGBA", (W, W), (0, 0, 0, 0))
d = ImageDraw.Draw(img)
d.rounded_rectangle([0, 0, W - 1, W - 1], radius=26 * S, fill=(24, 28, 40, 255))

# A line of code as tokens: each token a rounded box, colours as the token lens alternates them.
tokens = [(14, 34, (86, 156, 214)), (37, 63, (214, 157, 86)), (66, 84, (106, 190, 120)), (87, 114, (196, 120, 214))]
for x0, x1, colour in tokens:
    d.rounded_rectangle([x0 * S, 24 * S, x1 * S, 50 * S], radius=6 * S, fill=colour + (255,))
# Token boundaries: thin gaps already separate them; underline as in the editor's boundary view.
d.rounded_rectangle([14 * S, 55 * S, 114 * S, 58 * S], radius=2 * S, fill=(90, 100, 130, 255))

# Next-token probabilities: one tall bar (the pick) and a falling tail.
bars = [44, 26, 16, 10, 6, 4]
for i, h in enumerate(bars):
    x0 = (16 + i * 17) * S
    colour = (250, 204, 90, 255) if i == 0 else (120, 132, 170, 255)
    d.rounded_rectangle([x0, (108 - h) * S, x0 + 12 * S, 108 * S], radius=3 * S, fill=colour)

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "media", "icon.png")
img.resize((128, 128), Image.LANCZOS).save(out, optimize=True)
print("wrote media/icon.png")
