"""Score a catalog on a Ray cluster: every product's scores, as Evaluate gives them.

    pip install 'earmark[engines]'   # on the driver and in the cluster's image
    python examples/score_with_ray.py s3://shop/catalog/ s3://shop/scores/ --address auto

The pack folder must be readable by every node at the same path (bake it into the image,
or mount it). --pin refuses to start unless the pack is the version that is live.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import ray

from earmark.bulk.ray_job import score_with_ray


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("catalog", help="JSON Lines: a file, a folder, or a URL Ray reads (s3://, gs://)")
    parser.add_argument("out", help="where the Parquet files go")
    parser.add_argument("--pack", type=Path, default=Path("rules/audio"))
    parser.add_argument("--address", help="the Ray cluster ('auto' inside one); none: a local Ray")
    parser.add_argument(
        "--actors", type=int, default=4, help="actors scoring at once, each with its own pack"
    )
    parser.add_argument("--cpus-per-actor", type=float, default=1.0, help="below 1 on a two-core machine")
    parser.add_argument("--pin", help="the published version the job must use, e.g. audio-3fc4511575b4")
    parser.add_argument("--locale", help="add explanations in this language")
    args = parser.parse_args()
    ray.init(address=args.address)
    score_with_ray(
        args.catalog,
        args.out,
        args.pack,
        actors=args.actors,
        cpus_per_actor=args.cpus_per_actor,
        pin=args.pin,
        locale=args.locale,
        explanations=args.locale is not None,
    )


if __name__ == "__main__":
    main()
