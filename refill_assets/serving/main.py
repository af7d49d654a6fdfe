"""``serve``: the container's entrypoint (SageMaker runs ``docker run <image> serve``).

Listens on 0.0.0.0:8080 (SageMaker's port; ``--port``/``--host`` for a local run) with
``--workers`` processes (default ``MODEL_SERVER_WORKERS``, else 2), each loading the model
directory once. uvicorn with its C parser (httptools) and uvloop where installed.
"""

from __future__ import annotations

import argparse
import os

import uvicorn


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="serve", description=__doc__.splitlines()[0])
    # SageMaker starts `<image> serve`: with `serve` as the ENTRYPOINT that is `serve serve`
    parser.add_argument("command", nargs="?", choices=["serve"], help=argparse.SUPPRESS)
    parser.add_argument("--host", default=os.environ.get("REFILL_SERVING_HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument(
        "--workers", type=int, default=int(os.environ.get("MODEL_SERVER_WORKERS", "2"))
    )
    parser.add_argument("--model-dir", help="default REFILL_MODEL_DIR, else /opt/ml/model")
    args = parser.parse_args(argv)
    if args.model_dir:
        os.environ["REFILL_MODEL_DIR"] = args.model_dir  # the workers read it at import
    uvicorn.run(
        "refill_assets.serving.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,  # the app logs each request itself, as one JSON line
        log_level="warning",
    )


if __name__ == "__main__":
    main()
