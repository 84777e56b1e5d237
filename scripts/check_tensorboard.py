#!/usr/bin/env python3
"""Load an atelier run folder with TensorBoard's own reader and print what it sees.

    python3 scripts/check_tensorboard.py runs/demo

Uses tensorboard's EventAccumulator (pip install tensorboard): every scalar tag with its steps
and values, every image tag with its steps and sizes. Exits non-zero when it finds no scalars.
"""

import sys

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def main():
    run = sys.argv[1]
    acc = EventAccumulator(run, size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    tags = acc.Tags()
    for tag in tags["scalars"]:
        events = acc.Scalars(tag)
        pairs = ", ".join(f"{e.step}: {e.value:.4g}" for e in events[:6])
        more = f", ... ({len(events)} in all)" if len(events) > 6 else ""
        print(f"scalar {tag!r}: {pairs}{more}")
    for tag in tags["images"]:
        events = acc.Images(tag)
        print(f"image {tag!r}: steps {[e.step for e in events]}, "
              f"{events[-1].width}x{events[-1].height}, {len(events[-1].encoded_image_string)} bytes")
    if not tags["scalars"]:
        sys.exit(f"{run}: no scalars")


if __name__ == "__main__":
    main()
