"""How close the sender keeps to a number's rate against the sandbox at 200 ms latency, and its CPU per message.

    .venv/bin/python bench/send_pacing.py                # 10,000 at 80 msg/s, then 10,000 at 500 msg/s
    .venv/bin/python bench/send_pacing.py --size 2000    # a quicker look
    .venv/bin/python bench/send_pacing.py --size 2000 --slots 2 --flush-at 8 --fast-rate 0   # start-up, a flush
    .venv/bin/python bench/send_pacing.py --rate 1000 --size 60000 --workers 2   # Meta's highest throughput
    .venv/bin/python bench/send_pacing.py --profile --rate 500 --size 2000      # where a message's CPU goes

For each run it prints the rate reached between the first and the last accepted message (from the
sandbox's ledger), as a share of the configured rate, the sandbox's count of 130429 answers, and the
most requests the number got in any one-second window, sliding at any offset, refused ones included
(the sandbox counts every request it receives), with when that window ended, in seconds after the launch.
The baseline in the same run is a naive sender: one request at a time and one commit per row.

It also prints the CPU per message (user + system from /proc/<pid>/stat, reaped children included, divided by
the messages accepted) of the sending workers (the dispatchers: claims, the limiter, requests, recording the
answers), of the launch worker and cron, and of the web processes (gunicorn as the Procfile runs it), which
answer the sandbox's status webhooks, batched up to --webhook-batch statuses a POST as Meta does; and the
sandbox's own, which is Meta's and not counted. With --sandbox-core the sandbox runs alone on the last core.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert, select

from stack import Stack

from webapp.campaigns import services
from webapp.campaigns.models import Recipient
from webapp.contacts.models import Contact, ContactList, ListMember
from webapp.extensions import db
from webapp.senders.models import Sender, Template
from webapp.senders.services import client_for, sync_templates
from webapp.workspace.models import WorkspaceSettings

TICKS = os.sysconf("SC_CLK_TCK")
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


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process, of its children it has reaped and of its live descendants (RQ's
    work-horses, gunicorn's workers), from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0  # it ended meanwhile
    own = sum(int(value) for value in fields[11:15]) / TICKS  # utime, stime, cutime, cstime
    return own + sum(tree_cpu(int(child)) for child in children)


def cpu_of(pids: list[int]) -> float:
    return sum(tree_cpu(pid) for pid in pids)


def pin(stack: Stack, group, sandbox_core: bool) -> None:
    """With `sandbox_core`, the sandbox gets the last core to itself and every process of the product the others
    (Meta is on other machines; this keeps its CPU out of the app's way). Bench only."""
    if not sandbox_core:
        return
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise SystemExit("--sandbox-core needs at least two cores")
    os.sched_setaffinity(stack.sandbox.process.pid, {cores[-1]})
    app_pids = [os.getpid(), stack.redis.pid if stack.redis is not None else 0,
                *(p.pid for p in group.processes)]
    web = getattr(stack, "web_process", None)
    if web is not None:
        app_pids.append(web.pid)
    for pid in app_pids:
        for task in pid and _tasks_of(pid) or ():
            os.sched_setaffinity(task, set(cores[:-1]))


def _tasks_of(pid: int) -> list[int]:
    """A process's threads and its descendants' (children forked later inherit the affinity)."""
    found = []
    try:
        found += [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            found += _tasks_of(int(child))
    except OSError:
        pass
    return found


def run(stack: Stack, sender: Sender, rate: int, size: int, workers: int, prefix: int,
        flush_at: float | None = None, webhooks: dict | None = None, sandbox_core: bool = False) -> dict:
    stack.sandbox.reset()
    stack.sandbox.configure(rate=rate, **(webhooks or {}))
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
    others = [group.worker("control,default").pid]  # the Procfile's layout: launches here, sending in the others
    senders = [group.worker("control,dispatch").pid for _ in range(workers)]
    others.append(group.cron().pid)
    web = [stack.web_process.pid] if webhooks else []
    time.sleep(3)  # the workers load the app before the clock starts
    pin(stack, group, sandbox_core)
    sandbox = [stack.sandbox.process.pid]
    before = {name: cpu_of(pids) for name, pids in (("send", senders), ("others", others), ("web", web),
                                                     ("sandbox", sandbox))}
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
    if webhooks:
        settle_webhooks(stack)
    used = {name: cpu_of(pids) - before[name] for name, pids in (("send", senders), ("others", others), ("web", web),
                                                                 ("sandbox", sandbox))}
    group.stop()
    reached, accepted = ledger_rate(stack)
    phones = [m["to"] for m in stack.sandbox.messages(limit=10**7)]
    twice = len(phones) - len(set(phones))
    if twice:
        raise SystemExit(f"{twice} numbers were sent a message twice")
    db.session.commit()
    outcomes = dict(db.session.execute(select(Recipient.status, db.func.count()).where(
        Recipient.campaign_id == campaign.id).group_by(Recipient.status)).all())
    stats = stack.sandbox.stats()
    busiest = max(stats["busiest_window"].values(), key=lambda w: w["requests"])
    return {"rate": rate, "workers": workers, "accepted": accepted, "reached": reached, "share": reached / rate,
            "rejected_130429": stats["rate_limited"], "busiest_window": busiest["requests"],
            "busiest_after": datetime.fromisoformat(busiest["ended_at"]).timestamp() - launched_at,
            "wall_seconds": time.monotonic() - started,
            "cpu_busy": (cpu_after[0] - cpu_before[0]) / (cpu_after[1] - cpu_before[1]),
            **{f"ms_{name}": seconds * 1000 / accepted for name, seconds in used.items()},
            "webhook_posts": stats["webhooks"]["delivered"], "outcomes": outcomes}


def settle_webhooks(stack: Stack, timeout: float = 120) -> None:
    """Wait for the last message's statuses and reply (the sandbox plays them up to 6.5 s after its acceptance) to
    be posted and answered."""
    time.sleep(7)
    deadline = time.monotonic() + timeout
    while stack.sandbox.stats()["webhooks"]["pending"] and time.monotonic() < deadline:
        time.sleep(0.5)


def profile(stack: Stack, sender: Sender, rate: int, size: int, top: int = 30) -> None:
    """One slot's dispatcher in this process, as the dispatch job runs it, under cProfile (the dispatcher's thread and
    its sends' loop, merged); prints the CPU per message without the profiler first, then where it goes with it."""
    import cProfile
    import io
    import pstats
    from jobs.campaigns import dispatcher, launch
    from webapp.cloudapi import CloudAPI

    def campaign_of(prefix: int) -> int:
        stack.sandbox.reset()
        stack.sandbox.configure(rate=rate)
        sender.throughput = rate
        template = db.session.scalar(select(Template).where(Template.name == "order_shipped"))
        audience = make_list(f"profile-{rate}-{prefix}", size, prefix)
        campaign = services.save_draft(services.Draft(f"Profile {rate}/s", sender.id, template.id, [audience.id],
                                                      variables=VARIABLES))
        campaign.status = "queued"
        db.session.commit()
        launch(campaign.id)  # the rows, in this process (no worker runs)
        return campaign.id

    def send_all(campaign_id: int) -> None:
        while dispatcher(campaign_id).run() == "continue":
            pass

    def cpu_per_message(prefix: int) -> float:
        campaign_id = campaign_of(prefix)
        before = time.process_time()
        send_all(campaign_id)
        return (time.process_time() - before) * 1000 / len(stack.sandbox.messages(limit=10**7))

    print(f"in-process dispatcher, {size} messages at {rate}/s: {cpu_per_message(700):.3f} ms CPU a message "
          "(this process: the loop, the request threads, the database and Redis clients)")
    profiles, opened = [], CloudAPI.sends

    def profiled_sends(self, in_flight):  # cProfile sees one thread: one profiler on the sends' loop too
        sends, profiler = opened(self, in_flight), cProfile.Profile(time.thread_time)
        profiles.append(profiler)
        sends.loop.call_soon_threadsafe(profiler.enable)
        close = sends.close
        sends.close = lambda: (sends.loop.call_soon_threadsafe(profiler.disable), close())
        return sends

    if hasattr(CloudAPI, "sends"):  # (run in a checkout from before it, the requests' threads go unprofiled)
        CloudAPI.sends = profiled_sends
    main_thread = cProfile.Profile(time.thread_time)  # CPU, not the wait for answers
    campaign_id = campaign_of(701)
    main_thread.enable()
    send_all(campaign_id)
    main_thread.disable()
    CloudAPI.sends = opened
    out = io.StringIO()
    stats = pstats.Stats(main_thread, stream=out)
    for profiler in profiles:
        stats.add(profiler)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(out.getvalue())


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
    parser.add_argument("--rate", type=int, help="one run at this rate instead of 80/s then --fast-rate")
    parser.add_argument("--workers", type=int, help="sending workers of the --rate run (default: --fast-workers)")
    parser.add_argument("--baseline", type=int, default=100, help="messages the naive sender sends (0: none)")
    parser.add_argument("--slots", type=int, default=1, help="dispatchers (and sending workers) at 80/s")
    parser.add_argument("--flush-at", type=float, help="FLUSHALL Redis this many seconds after each launch")
    parser.add_argument("--webhook-batch", type=int, default=100,
                        help="statuses per webhook POST (Meta batches several; 0: no web process, no webhooks)")
    parser.add_argument("--profile", action="store_true",
                        help="one dispatcher in this process, under cProfile, at --rate (default --fast-rate)")
    parser.add_argument("--sandbox-core", action="store_true",
                        help="the sandbox alone on the last core, the product's processes on the others")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit("stopped"))  # `timeout` too stops what it started
    stack = Stack(["--latency-ms", "200", "--jitter-ms", "50", "--pair-interval", "0", "--rate", "80"])
    try:
        sender = Sender(label="Sandbox", phone_number_id="100000000000001", waba_id="200000000000001",
                        access_token="sandbox-token", throughput=80, is_sandbox=True)
        db.session.add(sender)
        WorkspaceSettings.get().meta_app_secret = "sandbox-app-secret"  # the sandbox signs its webhooks with it
        db.session.commit()
        sync_templates(sender)
        db.session.commit()
        if args.profile:
            profile(stack, sender, args.rate or args.fast_rate, args.size)
            return
        webhooks = {"webhook_url": f"{stack.web()}/webhooks/meta", "webhook_batch": args.webhook_batch,
                    "webhook_batch_wait": 0.2} if args.webhook_batch else None
        baseline = naive_baseline(stack, sender, args.baseline) if args.baseline else None
        if baseline:
            print(f"naive sequential sender (one request at a time, a commit per row): {baseline:.1f} msg/s")
        runs = ((args.rate, args.workers or args.fast_workers, 557),) if args.rate else \
            ((80, args.slots, 555), (args.fast_rate, args.fast_workers, 556))
        for rate, workers, prefix in runs:
            if not rate:
                continue
            result = run(stack, sender, rate, args.size, workers, prefix, args.flush_at, webhooks, args.sandbox_core)
            print(f"{result['accepted']} messages, rate {rate}/s, {workers} sending worker(s): reached "
                  f"{result['reached']:.1f} msg/s = {result['share']:.1%} of the rate, "
                  f"{result['rejected_130429']} answered 130429, at most {result['busiest_window']} requests "
                  f"in a 1-s sliding window (refused included; it ended {result['busiest_after']:.1f} s after "
                  f"the launch), "
                  + (f"{result['reached'] / baseline:.0f}x the naive sender, " if baseline else "")
                  + f"wall {result['wall_seconds']:.0f} s, "
                  f"CPU busy {result['cpu_busy']:.0%} of the machine's {os.cpu_count()} cores; no number twice; "
                  f"recipients: {', '.join(f'{n} {s}' for s, n in sorted(result['outcomes'].items()))}")
            print(f"  CPU per message: sending workers (dispatchers) {result['ms_send']:.3f} ms, "
                  f"launch worker + cron {result['ms_others']:.3f} ms, "
                  + (f"web (status webhooks, {result['webhook_posts']} POSTs of up to {args.webhook_batch}) "
                     f"{result['ms_web']:.3f} ms, " if webhooks else "no webhooks, ")
                  + f"sandbox (not counted) {result['ms_sandbox']:.3f} ms")
    finally:
        stack.close()


if __name__ == "__main__":
    main()
