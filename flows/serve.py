"""The embedded worker: serves avtaleflyt's deployments from this process (`python -m avtaleflyt.flows.serve`)."""

from __future__ import annotations

from prefect import serve

from avtaleflyt.settings import REVISION_DEPLOYMENT

from .revision import revision_flow


def deployments() -> list:
    return [
        revision_flow.to_deployment(
            name=REVISION_DEPLOYMENT,
            tags=["avtaleflyt"],
            description="One run per revision: reconciles the revision and waits for what happens next.",
        ),
    ]


def main() -> None:
    serve(*deployments())


if __name__ == "__main__":
    main()
