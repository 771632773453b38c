"""How close the sender keeps to a number's rate against the sandbox at 200 ms latency.

    .venv/bin/python bench/send_pacing.py                # 10,000 at 80 msg/s, then 10,000 at 500 msg/s
    .venv/bin/python bench/send_pacing.py --size 2000    # a quicker look
    .venv/bin/python bench/send_pacing.py --size 2000 --slots 2 --flush-at 8 --fast-rate 0   # start-up, a flush

For each run it prints the rate reached between the first and the last accepted message (from the
sandbox's ledger), as a share of the configured rate, the sandbox's count of 130429 answers, and the
most requests the number got in any one-second window, sliding at any offset, refused ones included
(the sandbox counts every request it receives), with when that window ended, in seconds after the launch.
The baseline in the same run is a naive sender: one request at a time and one commit per row.
"""
from __future__ import annotations

import argparse
import os
import time
from datetime import datetime

from sqlalchemy import insert, select

from stack import Stack

from webapp.campaigns import services
from webapp.contacts.models import Contact, ContactList, ListMember
from webapp.extensions import db
from webapp.senders.models import Sender, Template
from webapp.senders.services import client_for, sync_templates

VARIABLES = {"body:1": {"source": "name", "fallback": "there"}, "body:2": {"source": "constant", "value": "#1"},
             "body:3": {"source": "constant", "value": "Friday"}}


def make_list(name: str, size: int, prefix: int) -> ContactList:
    audience = ContactList(name=name)
    db.session.add(audience)
    db.session.flush()
    first = db.session.scalar(select(db.func.coalesce(db.func.max(Contact.id), 0)))
    db.session.execute(insert(Contact), [{"phone": f"+1{prefix}{i:07d}", "name": f"C{i}", "attributes": {}}
                                         for i in range(size)])
    db.session.execute(insert(ListMember), [{"list_id": audience.id, "contact_id": first + i + 1} for i in range(size)])
    db.session.commit()
    return audience


def ledger_rate(stack: Stack) -> tuple[float, int]:
    times = sorted(m["accepted_ts"] for m in stack.sandbox.messages(limit=10**7))
    return (len(times) - 1) / (times[-1] - times[0]), len(times)


def cpu_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine so far, from /proc/stat: what share of the cores a run used."""
    fields = [float(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def run(stack: Stack, sender: Sender, rate: int, size: int, workers: int, prefix: int,
        flush_at: float | None = None) -> dict:
    stack.sandbox.reset()
    stack.sandbox.configure(rate=rate)
    sender.throughput = rate
    db.session.commit()
    template = db.session.scalar(select(Template).where(Template.name == "order_shipped"))
    audience = make_list(f"bench-{rate}-{prefix}", size, prefix)
    campaign = services.save_draft(services.Draft(f"Bench {rate}/s", sender.id, template.id, [audience.id],
                                                  variables=VARIABLES))
    db.session.commit()
    # The product's default settings (the test harness shortens timeouts and widens the margin).
    group = stack.processes(DISPATCHERS_PER_CAMPAIGN=workers, RATE_MARGIN_MS=20, SEND_CONCURRENCY=128,
                            DISPATCH_SLICE_SECONDS=30, GRAPH_TIMEOUT_SECONDS=20, RETRY_BASE_SECONDS=2,
                            UNKNOWN_DELIVERY_GRACE_SECONDS=60)
    group.worker("control,default")  # the Procfile's layout: launches here, sending in the others
    for _ in range(workers):
        group.worker("control,dispatch")
    group.cron()
    started, cpu_before, launched_at = time.monotonic(), cpu_busy(), time.time()
    services.launch(campaign)
    while True:
        time.sleep(1)
        if flush_at is not None and time.monotonic() - started >= flush_at:
            stack.app.extensions["redis"].flushall()  # Redis loses everything mid-send
            flush_at = None
        db.session.commit()
        if db.session.get(type(campaign), campaign.id, populate_existing=True).status in ("sent", "partially_sent",
                                                                                            "failed"):
            break
        if time.monotonic() - started > size / rate * 3 + 60:
            raise SystemExit("the campaign did not finish in time")
    cpu_after = cpu_busy()
    group.stop()
    reached, accepted = ledger_rate(stack)
    stats = stack.sandbox.stats()
    busiest = max(stats["busiest_window"].values(), key=lambda w: w["requests"])
    return {"rate": rate, "workers": workers, "accepted": accepted, "reached": reached, "share": reached / rate,
            "rejected_130429": stats["rate_limited"], "busiest_window": busiest["requests"],
            "busiest_after": datetime.fromisoformat(busiest["ended_at"]).timestamp() - launched_at,
            "wall_seconds": time.monotonic() - started,
            "cpu_busy": (cpu_after[0] - cpu_before[0]) / (cpu_after[1] - cpu_before[1])}


def naive_baseline(stack: Stack, sender: Sender, count: int) -> float:
    """One request at a time, one commit per row: messages per second."""
    from webapp.campaigns.models import Campaign, Recipient

    stack.sandbox.reset()
    template = db.session.scalar(select(Template).where(Template.name == "order_shipped"))
    campaign = Campaign(name="naive", sender_id=sender.id, template_id=template.id, status="sending",
                        template_name=template.name, template_language=template.language)
    db.session.add(campaign)
    db.session.commit()
    client = client_for(sender)
    started = time.monotonic()
    for i in range(count):
        row = Recipient(campaign_id=campaign.id, phone=f"+1999{i:07d}", status="pending",
                        params={"body": ["C", "#1", "Friday"]})
        db.session.add(row)
        db.session.commit()
        result = client.send_template(sender.phone_number_id, row.phone, template.name, template.language, row.params)
        row.wamid, row.status = result.wamid, "sent"
        db.session.commit()
    return count / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--fast-rate", type=int, default=500)
    parser.add_argument("--fast-workers", type=int, default=4)
    parser.add_argument("--baseline", type=int, default=100, help="messages the naive sender sends (0: none)")
    parser.add_argument("--slots", type=int, default=1, help="dispatchers (and sending workers) at 80/s")
    parser.add_argument("--flush-at", type=float, help="FLUSHALL Redis this many seconds after each launch")
    args = parser.parse_args()
    stack = Stack(["--latency-ms", "200", "--jitter-ms", "50", "--pair-interval", "0", "--rate", "80"])
    try:
        sender = Sender(label="Sandbox", phone_number_id="100000000000001", waba_id="200000000000001",
                        access_token="sandbox-token", throughput=80, is_sandbox=True)
        db.session.add(sender)
        db.session.commit()
        sync_templates(sender)
        db.session.commit()
        baseline = naive_baseline(stack, sender, args.baseline) if args.baseline else None
        if baseline:
            print(f"naive sequential sender (one request at a time, a commit per row): {baseline:.1f} msg/s")
        for rate, workers, prefix in ((80, args.slots, 555), (args.fast_rate, args.fast_workers, 556)):
            if not rate:
                continue
            result = run(stack, sender, rate, args.size, workers, prefix, args.flush_at)
            print(f"{result['accepted']} messages, rate {rate}/s, {workers} sending worker(s): reached "
                  f"{result['reached']:.1f} msg/s = {result['share']:.1%} of the rate, "
                  f"{result['rejected_130429']} answered 130429, at most {result['busiest_window']} requests "
                  f"in a 1-s sliding window (refused included; it ended {result['busiest_after']:.1f} s after "
                  f"the launch), "
                  + (f"{result['reached'] / baseline:.0f}x the naive sender, " if baseline else "")
                  + f"wall {result['wall_seconds']:.0f} s, "
                  f"CPU busy {result['cpu_busy']:.0%} of the machine's {os.cpu_count()} cores")
    finally:
        stack.close()


if __name__ == "__main__":
    main()
