"""The reference workload: the floor the pipeline is measured against. One workflow of ten
trivial activities in a row and a one-second timer (about the activities and waiting an
encounter needs), on its own task queue and in its own worker process, on the same server
with the same payload codec as the engine.

    python -m bench.reference     # a worker for it, against TEMPORAL_ADDRESS
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.worker import Worker

TASK_QUEUE = "bench-reference"
ACTIVITIES = 10


@activity.defn
async def step(number: int) -> int:
    return number + 1


@workflow.defn
class ReferenceWorkflow:
    @workflow.run
    async def run(self, steps: int) -> int:
        done = 0
        for _ in range(steps):
            done = await workflow.execute_activity(
                step, done, start_to_close_timeout=timedelta(seconds=30)
            )
        await workflow.sleep(timedelta(seconds=1))
        return done


async def serve() -> None:
    from workers.temporal import connect

    client = await connect()
    worker = Worker(
        client, task_queue=TASK_QUEUE, workflows=[ReferenceWorkflow], activities=[step]
    )
    await worker.run()


if __name__ == "__main__":
    asyncio.run(serve())
