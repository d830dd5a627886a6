"""Emits a small pipeline's OpenLineage events to a custody server with the
stock openlineage-python client and its HTTP transport (API key auth).

    python emit.py URL TOKEN

Three jobs (raw -> dedup -> tokenized) and a synthetic-data job, each with a
START and a COMPLETE event; the dedup COMPLETE is sent twice, as a client
retrying would. Custom dataset facets carry a digest and a license.
"""

import sys
import uuid
from datetime import datetime, timezone

import attr
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.generated.base import DatasetFacet
from openlineage.client.generated.ownership_dataset import Owner, OwnershipDatasetFacet
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpConfig, HttpTransport

PRODUCER = "https://github.com/example/lab-pipeline/v1"


@attr.define
class CustodyDigestDatasetFacet(DatasetFacet):
    digest: str


@attr.define
class CustodyLicenseDatasetFacet(DatasetFacet):
    license: object


def main() -> None:
    url, token = sys.argv[1], sys.argv[2]
    transport = HttpTransport(
        HttpConfig(url=url, auth=ApiKeyTokenProvider({"apiKey": token}), timeout=30.0)
    )
    client = OpenLineageClient(transport=transport)

    def ds(cls, name, **facets):
        return cls(namespace="s3://lab", name=name, facets=facets)

    raw = "raw/web.jsonl"
    jobs = [
        (
            "ingest",
            [],
            [
                ds(
                    OutputDataset,
                    raw,
                    custody_digest=CustodyDigestDatasetFacet(digest="sha256:" + "ab" * 32),
                    custody_license=CustodyLicenseDatasetFacet(license="CC-BY-4.0"),
                    ownership=OwnershipDatasetFacet(owners=[Owner(name="data-team", type="TEAM")]),
                )
            ],
        ),
        ("dedup", [ds(InputDataset, raw)], [ds(OutputDataset, "dedup/web.jsonl")]),
        (
            "tokenize",
            [ds(InputDataset, "dedup/web.jsonl")],
            [
                ds(
                    OutputDataset,
                    "tokens/web.bin",
                    custody_license=CustodyLicenseDatasetFacet(license="CC-BY-4.0"),
                )
            ],
        ),
        (
            "synthesize",
            [ds(InputDataset, "tokens/web.bin")],
            [
                ds(
                    OutputDataset,
                    "synthetic/qa.jsonl",
                    custody_license=CustodyLicenseDatasetFacet(
                        license={
                            "name": "Lab synthetic-data terms",
                            "terms": {
                                "research": True,
                                "commercial": False,
                                "modify": True,
                                "copyright_derivative": True,
                                "other_license_derivative": False,
                            },
                        }
                    ),
                )
            ],
        ),
    ]
    for name, inputs, outputs in jobs:
        run = Run(runId=str(uuid.uuid4()))
        job = Job(namespace="lab-pipeline", name=name)
        now = datetime.now(timezone.utc).isoformat()
        client.emit(
            RunEvent(eventType=RunState.START, eventTime=now, run=run, job=job, producer=PRODUCER, inputs=inputs)
        )
        done = RunEvent(
            eventType=RunState.COMPLETE,
            eventTime=now,
            run=run,
            job=job,
            producer=PRODUCER,
            inputs=inputs,
            outputs=outputs,
        )
        client.emit(done)
        if name == "dedup":
            client.emit(done)  # delivered twice: recorded once
    print("emitted")


if __name__ == "__main__":
    main()
